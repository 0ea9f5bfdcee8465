"""Urgent and emergency referrals in front: flags at the top of Today (emergency, then urgent),
a count in "Needs attention", a banner with the reasons in words on the patient page, and the
record that the referral was acted on (who, when, what), audited, which clears them."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from rehab import selectors, services
from rehab.clinical import levels as L
from rehab.errors import RehabError
from rehab.models import AuditEvent, Patient, ReferralAction
from tests.factories import (
    TODAY,
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

TODAY_URL = reverse("clinicians:today")
# The Today page's pin, unchanged (tests/web/clinicians/test_today.py): the referral flags are
# bits of the stored need like the others, so they cost no query.
TODAY_QUERIES = 10


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time("2026-03-02 12:00"):
        yield


def page_url(patient: Patient) -> str:
    return reverse("clinicians:patient", args=[patient.pk])


def act_url(screening) -> str:
    return reverse("clinicians:referral_act", args=[screening.pk])


def screened(clinic, last_name: str, *, condition: str = L.KNEE_OA, **answers):
    patient = PatientFactory(clinic=clinic, last_name=last_name, condition=condition)
    screening = services.screening_submit(
        patient=patient, answers=clean_answers(condition, **answers), actor=None, today=TODAY
    )
    return patient, screening


def emergency(clinic, last_name: str = "Mckenzie"):
    """Possible cauda equina: blocked, emergency referral (the demo's Ian McKenzie)."""
    return screened(clinic, last_name, condition=L.CHRONIC_LOW_BACK_PAIN, saddle_anaesthesia=True)


def urgent(clinic, last_name: str = "Mills"):
    """Possible DVT: blocked, urgent referral (the demo's George Mills)."""
    return screened(clinic, last_name, suspected_dvt=True)


def fallen(clinic, last_name: str = "Fall"):
    """An active plan paused by a fall: the flag that used to lead the list."""
    patient, _ = screened(clinic, last_name)
    plan = services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(),
        actor=None,
        start_date=TODAY,
        today=TODAY,
    )
    services.session_log(plan=plan, actor=None, date=TODAY, today=TODAY, **good_session(fall=True))
    return patient


def rows_of(response) -> list[str]:
    return [row.patient.last_name for row in response.context["rows"]]


def flags_of(response) -> dict[str, list[str]]:
    return {row.patient.last_name: [f.code for f in row.flags] for row in response.context["rows"]}


def banner(html: str, screening) -> str:
    match = re.search(rf'<section[^>]*id="referral-{screening.pk}".*?</section>', html, re.S)
    return match.group(0) if match else ""


# --- Today -------------------------------------------------------------------------------------


def test_emergency_then_urgent_referrals_lead_today_above_a_safety_pause(dashboard, clinic):
    fallen(clinic, "Aardvark")  # first by name, and a safety pause: it used to lead
    urgent(clinic, "Mills")
    emergency(clinic, "Mckenzie")
    screened(clinic, "Nobody")  # screened, no plan: "No plan yet"
    response = dashboard.get(TODAY_URL)
    assert rows_of(response) == ["Mckenzie", "Mills", "Aardvark", "Nobody"]
    flags = flags_of(response)
    assert flags["Mckenzie"] == ["referral_emergency", "no_plan"]
    assert flags["Mills"] == ["referral_urgent", "no_plan"]
    page = response.content.decode()
    assert "Emergency referral not acted on" in page
    assert "Urgent referral not acted on" in page


def test_needs_attention_counts_the_referrals_and_links_to_their_filter(dashboard, clinic):
    emergency(clinic, "Mckenzie")
    urgent(clinic, "Mills")
    urgent(clinic, "Moss")
    response = dashboard.get(TODAY_URL)
    counts = response.context["counts"]
    assert counts["referral_emergency"] == 1
    assert counts["referral_urgent"] == 2
    summary = response.content.decode().split('id="summary-heading"')[1].split("</section>")[0]
    assert '<a href="?flag=referral_emergency">' in summary
    assert '<a href="?flag=referral_urgent">' in summary
    # The summary leads with the referrals, in the flags' order.
    assert summary.index("referral_emergency") < summary.index("referral_urgent")
    assert summary.index("referral_urgent") < summary.index("no_plan")
    filtered = dashboard.get(TODAY_URL, {"flag": "referral_urgent"})
    assert rows_of(filtered) == ["Mills", "Moss"]


def test_a_referral_stays_flagged_after_a_newer_clean_screening_until_acted_on(
    dashboard, clinic, clinician
):
    patient, screening = urgent(clinic, "Mills")
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=TODAY
    )
    assert flags_of(dashboard.get(TODAY_URL))["Mills"] == ["referral_urgent", "no_plan"]
    services.referral_act(screening=screening, actor=clinician.user, action="GP letter sent.")
    assert flags_of(dashboard.get(TODAY_URL))["Mills"] == ["no_plan"]


def test_the_stored_referral_flags_are_the_live_rule(clinic, clinician):
    """The referral bits come from the one flag definition: what the refresh stores is what
    dashboard_needs_live says, and acting on a referral marks the patient for recompute."""
    patient, screening = emergency(clinic)
    services.dashboard_refresh(clinic=clinic, today=TODAY)
    patient.refresh_from_db()
    emergency_bit = selectors.DASHBOARD_FLAGS_BY_CODE["referral_emergency"].weight
    assert patient.dashboard_need & emergency_bit
    # Sorted above everything else: its bit alone outweighs every other flag together.
    assert emergency_bit > sum(f.weight for f in selectors.DASHBOARD_FLAGS[1:])
    live = {pk: need for pk, need, _ in selectors.dashboard_needs_live(clinic=clinic, today=TODAY)}
    assert live[patient.pk] == patient.dashboard_need
    services.referral_act(screening=screening, actor=clinician.user, action="Sent to A&E.")
    patient.refresh_from_db()
    assert patient.dashboard_day is None  # marked stale in the act's own transaction
    services.dashboard_refresh(clinic=clinic, today=TODAY)
    patient.refresh_from_db()
    assert not patient.dashboard_need & emergency_bit


def test_today_costs_the_same_queries_with_referrals(dashboard, clinic):
    fallen(clinic, "Aardvark")  # a plan on the page, so its sessions and decisions are read
    emergency(clinic, "Mckenzie")
    urgent(clinic, "Mills")
    dashboard.get(TODAY_URL)  # the first request extends the session
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            response = dashboard.get(TODAY_URL)
        assert response.status_code == 200
        assert len(ctx.captured_queries) == TODAY_QUERIES
        urgent(clinic, "Moss")


# --- The patient page's banner ---------------------------------------------------------------


def test_the_patient_page_leads_with_the_referral_banner_and_its_reasons_in_words(
    dashboard, clinic
):
    patient, screening = emergency(clinic)
    html = dashboard.get(page_url(patient)).content.decode()
    text = banner(html, screening)
    assert "Emergency referral: not yet recorded as acted on" in text
    assert "Refer to emergency services now." in text
    assert "cauda equina" in text  # the reason, in words, not a code
    assert "saddle_anaesthesia" not in text
    # The banner comes before everything else on the page, the plan and screenings included.
    assert html.index(f'id="referral-{screening.pk}"') < html.index('id="screenings"')
    assert html.index(f'id="referral-{screening.pk}"') < html.index("Sections of this page")
    # Its form: a labelled input tied to its hint.
    assert f'action="{act_url(screening)}"' in text
    assert f'<label for="id_referral_{screening.pk}_action">What was done</label>' in text
    assert f'aria-describedby="id_referral_{screening.pk}_action_helptext"' in text


def test_an_urgent_banner_names_only_the_reasons_that_referred(dashboard, clinic):
    # A DVT referral with a fall-risk finding as well: the banner names the DVT.
    patient, screening = screened(clinic, "Mills", suspected_dvt=True, feels_unsteady=True)
    text = banner(dashboard.get(page_url(patient)).content.decode(), screening)
    assert "Urgent referral: not yet recorded as acted on" in text
    assert "deep-vein thrombosis" in text
    assert "unsteady" not in text.lower()


def test_emergency_banners_come_before_urgent_ones(dashboard, clinic):
    patient, dvt = urgent(clinic, "Mills")
    cauda = services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, saddle_anaesthesia=True),
        actor=None,
        today=TODAY,
    )
    html = dashboard.get(page_url(patient)).content.decode()
    assert 0 < html.index(f'id="referral-{cauda.pk}"') < html.index(f'id="referral-{dvt.pk}"')


def test_no_banner_for_a_routine_referral(dashboard, clinic):
    patient, screening = screened(clinic, "Fever", fever_or_systemic_infection=True)
    assert screening.referral == "routine"
    html = dashboard.get(page_url(patient)).content.decode()
    assert 'id="referral-' not in html


# --- Recording that it was acted on ----------------------------------------------------------


def test_recording_the_action_clears_the_banner_and_flag_and_shows_who_when_what(
    dashboard, clinic, clinician
):
    patient, screening = emergency(clinic)
    response = dashboard.post(act_url(screening), {"action": "Referred to A&E by ambulance."})
    assert response.status_code == 302
    assert response["Location"] == page_url(patient) + "#screenings"
    record = ReferralAction.objects.get(screening=screening)
    assert record.acted_by == clinician.user
    assert record.action == "Referred to A&E by ambulance."
    html = dashboard.get(page_url(patient)).content.decode()
    assert banner(html, screening) == ""
    assert "Recorded: the emergency referral was acted on." in html
    screenings = html.split('id="screenings"')[1]
    assert "Acted on 2 Mar 2026 12:00 by Priya Patel: Referred to A&amp;E by ambulance." in (
        screenings
    )
    # The record's history says so, without the clinical text.
    event = AuditEvent.objects.get(action="referral.acted")
    assert event.patient == patient
    assert event.actor == clinician.user
    assert event.detail == {"screening": screening.pk, "referral": "emergency"}
    trail = html.split('id="audit"')[1]
    assert "Recorded a referral as acted on" in trail
    assert flags_of(dashboard.get(TODAY_URL))["Mckenzie"] == ["no_plan"]


def test_an_empty_action_is_a_field_error_and_nothing_is_saved(dashboard, clinic):
    _, screening = urgent(clinic)
    response = dashboard.post(act_url(screening), {"action": "   "})
    assert response.status_code == 400
    text = banner(response.content.decode(), screening)
    assert f'id="id_referral_{screening.pk}_action_error"' in text
    assert "Say what was done" in text
    assert 'aria-invalid="true"' in text
    assert not ReferralAction.objects.exists()
    assert not AuditEvent.objects.filter(action="referral.acted").exists()


def test_a_too_long_action_keeps_what_was_typed(dashboard, clinic):
    _, screening = urgent(clinic)
    typed = "Phoned the GP surgery <b>twice</b>; " + "x" * 480
    response = dashboard.post(act_url(screening), {"action": typed})
    assert response.status_code == 400
    text = banner(response.content.decode(), screening)
    assert "at most 500 characters" in text
    assert "Phoned the GP surgery &lt;b&gt;twice&lt;/b&gt;; " in text  # kept, and escaped
    assert not ReferralAction.objects.exists()


def test_a_second_record_is_refused_with_a_message_and_the_first_kept(dashboard, clinic, clinician):
    _, screening = urgent(clinic)
    services.referral_act(screening=screening, actor=clinician.user, action="GP letter sent.")
    response = dashboard.post(act_url(screening), {"action": "Phoned the GP."}, follow=True)
    assert response.status_code == 200
    assert "already recorded as acted on" in response.content.decode()
    assert list(ReferralAction.objects.values_list("action", flat=True)) == ["GP letter sent."]


def test_a_screening_without_an_urgent_referral_has_nothing_to_record(dashboard, clinic):
    _, screening = screened(clinic, "Clean")
    response = dashboard.post(act_url(screening), {"action": "Nothing."}, follow=True)
    assert "no urgent or emergency referral" in response.content.decode()
    assert not ReferralAction.objects.exists()


def test_the_service_refuses_empty_text_and_rolls_back(clinic, clinician):
    _, screening = urgent(clinic)
    with pytest.raises(RehabError) as refused:
        services.referral_act(screening=screening, actor=clinician.user, action="")
    assert refused.value.fields == {
        "action": ["Say what was done, for example “referred to A&E” or “GP letter sent”."]
    }
    assert not ReferralAction.objects.exists()


# --- Who may record it -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, clinic):
    _, screening = urgent(clinic)
    response = client.post(act_url(screening), {"action": "Referred."})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("clinicians:login"))
    assert not ReferralAction.objects.exists()


def test_a_patient_signed_in_is_sent_to_the_portal(client, clinic):
    patient, screening = urgent(clinic)
    patient.user = UserFactory()
    patient.save()
    client.force_login(patient.user)
    response = client.post(act_url(screening), {"action": "Referred."})
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:today")
    assert not ReferralAction.objects.exists()


def test_another_clinics_clinician_gets_404_and_nothing_changes(client, clinic):
    _, screening = urgent(clinic)
    client.force_login(ClinicianFactory().user)  # a clinician of another clinic
    response = client.post(act_url(screening), {"action": "Referred."})
    assert response.status_code == 404
    assert not ReferralAction.objects.exists()


def test_only_post_records(dashboard, clinic):
    _, screening = urgent(clinic)
    assert dashboard.get(act_url(screening)).status_code == 405
