"""The clinician's flows: screening a patient, then assigning a protocol."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from rehab import services
from rehab.clinical import levels as L
from rehab.models import AuditEvent, Plan, Screening
from tests.factories import PatientFactory, builtin_protocol, clean_answers
from tests.web.clinicians.flows.conftest import answers_post, checked, html_of, screen, value_attr

pytestmark = pytest.mark.django_db


# --- Screening --------------------------------------------------------------------------------


def test_screening_form_asks_red_flags_first_grouped_with_nothing_preselected(dashboard, clinic):
    patient = PatientFactory(clinic=clinic, condition=L.CHRONIC_LOW_BACK_PAIN)
    response = dashboard.get(reverse("clinicians:screening_new", args=[patient.pk]))
    html = html_of(response)
    assert response.status_code == 200
    legends = re.findall(r"<legend><h2>([^<]+)</h2></legend>", html)
    assert legends[0] == "Red flags"
    assert "Low-back red flags" in legends
    assert "Knee" not in legends  # knee questions are not asked about a back
    assert html.index('name="saddle_anaesthesia"') < html.index('name="resting_bp_systolic"')
    assert " checked" not in html
    assert AuditEvent.objects.filter(action="patient.read", patient=patient).exists()


def test_clean_screening_is_cleared_and_leads_to_assign(dashboard, patient, clinician):
    answers = answers_post(clean_answers(patient.condition))
    response = dashboard.post(reverse("clinicians:screening_new", args=[patient.pk]), answers)
    screening = Screening.objects.get(patient=patient)
    assert response.status_code == 302
    assert response.url == reverse("clinicians:screening_result", args=[screening.pk])
    assert screening.status == "cleared"
    assert screening.screened_by == clinician.user

    page = dashboard.get(response.url)
    html = html_of(page)
    assert page.status_code == 200
    assert "Verdict: Cleared." in html
    assert reverse("clinicians:plan_assign", args=[patient.pk]) in html
    assert "Assign a protocol" in html
    assert AuditEvent.objects.filter(action="screening.read", patient=patient).count() == 1


def test_red_flag_shows_emergency_referral_and_no_assign(dashboard, clinic):
    patient = PatientFactory(clinic=clinic, condition=L.CHRONIC_LOW_BACK_PAIN)
    answers = answers_post(clean_answers(patient.condition, saddle_anaesthesia=True))
    response = dashboard.post(
        reverse("clinicians:screening_new", args=[patient.pk]), answers, follow=True
    )
    html = html_of(response)
    assert "Refer to emergency services now" in html
    assert 'class="banner banner-danger" role="alert"' in html
    assert "Verdict: Blocked." in html
    assert "cauda equina" in html
    assert reverse("clinicians:plan_assign", args=[patient.pk]) not in html

    page = dashboard.get(reverse("clinicians:plan_assign", args=[patient.pk]))
    assert "Assign the protocol" not in html_of(page)
    assert "cannot be overridden" in html_of(page)


def test_fall_risk_is_cleared_with_modifications_and_its_constraints_in_words(dashboard, patient):
    answers = answers_post(clean_answers(patient.condition, feels_unsteady=True))
    response = dashboard.post(
        reverse("clinicians:screening_new", args=[patient.pk]), answers, follow=True
    )
    html = html_of(response)
    assert "Verdict: Cleared with modifications." in html
    assert "Supervised sessions only" in html
    assert "At most 1.5 km/h" in html
    assert "Feeling unsteady means a raised fall risk" in html


def test_overridable_block_offers_assign_with_a_reason(dashboard, patient):
    answers = answers_post(clean_answers(patient.condition, fever_or_systemic_infection=True))
    response = dashboard.post(
        reverse("clinicians:screening_new", args=[patient.pk]), answers, follow=True
    )
    html = html_of(response)
    assert "Verdict: Blocked." in html
    assert "Routine referral" in html
    assert "Assign with an override" in html
    assert f"at least {services.MIN_OVERRIDE_REASON_LENGTH} characters" in html


def test_unanswered_required_questions_make_it_incomplete_and_can_be_completed(dashboard, patient):
    answers = answers_post(clean_answers(patient.condition))
    del answers["suspected_dvt"]
    response = dashboard.post(
        reverse("clinicians:screening_new", args=[patient.pk]), answers, follow=True
    )
    html = html_of(response)
    screening = Screening.objects.get(patient=patient)
    assert screening.status == "incomplete"
    assert "Verdict: Incomplete." in html
    assert "New one-sided calf pain or swelling" in html  # the missing question, in words
    resume_url = reverse("clinicians:screening_new", args=[patient.pk]) + f"?from={screening.pk}"
    assert resume_url in html

    form = html_of(dashboard.get(resume_url))
    assert checked(form, "feels_unsteady", "no")
    assert not checked(form, "suspected_dvt", "no")
    assert not checked(form, "suspected_dvt", "yes")


def test_screening_bad_number_is_refused_with_answers_kept(dashboard, patient):
    answers = answers_post(clean_answers(patient.condition, feels_unsteady=True))
    answers["resting_bp_systolic"] = "999"
    answers["berg_score"] = "45.5"
    response = dashboard.post(reverse("clinicians:screening_new", args=[patient.pk]), answers)
    html = html_of(response)
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 300" in html
    assert value_attr(html, "resting_bp_systolic") == "999"
    assert checked(html, "feels_unsteady", "yes")
    assert not Screening.objects.exists()


def test_screening_whole_number_check_comes_from_the_rules(dashboard, patient):
    answers = answers_post(clean_answers(patient.condition))
    answers["berg_score"] = "45.5"
    response = dashboard.post(reverse("clinicians:screening_new", args=[patient.pk]), answers)
    html = html_of(response)
    assert response.status_code == 400
    assert "must be a whole number" in html
    assert value_attr(html, "berg_score") == "45.5"

    answers["berg_score"] = "45"  # a whole number typed plainly is taken as one
    response = dashboard.post(reverse("clinicians:screening_new", args=[patient.pk]), answers)
    assert response.status_code == 302
    assert Screening.objects.get(patient=patient).answers["berg_score"] == 45


def test_another_clinics_screening_is_not_found(dashboard, stranger):
    screening = screen(stranger)
    assert dashboard.get(reverse("clinicians:screening_new", args=[stranger.pk])).status_code == 404
    url = reverse("clinicians:screening_result", args=[screening.pk])
    assert dashboard.get(url).status_code == 404


# --- Assigning a protocol ---------------------------------------------------------------------


def test_assign_preview_shows_levels_capped_for_a_fall_risk_patient(dashboard, patient):
    screen(patient, feels_unsteady=True)
    protocol = builtin_protocol(patient.condition)
    response = dashboard.get(
        reverse("clinicians:plan_assign", args=[patient.pk]), {"protocol": protocol.pk}
    )
    html = html_of(response)
    assert response.status_code == 200
    assert "Speed capped at 1.5 km/h (was 2 km/h)" in html
    assert (
        "Setting changed to treadmill, holding both handrails "
        "(was treadmill, one hand or light touch on the rail)" in html
    )
    assert "Supervised sessions only" in html
    assert html.count("<tr") == protocol.levels.count() + 1  # header row + one per level
    # The first level's three sessions a week suggest Monday, Wednesday and Friday.
    assert [checked(html, "schedule_days", str(d)) for d in range(7)] == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
    ]


def test_assign_creates_the_plan_and_opens_its_page(dashboard, patient, clinician):
    screen(patient)
    protocol = builtin_protocol(patient.condition)
    response = dashboard.post(
        reverse("clinicians:plan_assign", args=[patient.pk]),
        {
            "protocol": protocol.pk,
            "start_date": "2026-03-03",
            "schedule_days": ["1", "3"],
            "auto_apply": "on",
        },
    )
    plan = Plan.objects.get(patient=patient)
    assert response.status_code == 302
    assert response.url == reverse("clinicians:plan_manage", args=[plan.pk])
    assert plan.schedule_days == [1, 3]
    assert plan.auto_apply is True
    assert plan.start_date == dt.date(2026, 3, 3)
    assert plan.assigned_by == clinician.user


def test_assign_bad_input_is_refused_with_input_kept(dashboard, patient):
    screen(patient)
    protocol = builtin_protocol(patient.condition)
    response = dashboard.post(
        reverse("clinicians:plan_assign", args=[patient.pk]),
        {"protocol": protocol.pk, "start_date": "someday", "auto_apply": "on"},
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "Enter a valid date." in html
    assert "Choose at least one day." in html
    assert value_attr(html, "start_date") == "someday"
    assert re.search(r'<input type="checkbox" name="auto_apply"[^>]* checked', html)
    assert not Plan.objects.exists()


def test_assign_start_before_the_screening_is_refused_by_the_service(dashboard, patient):
    screen(patient)
    protocol = builtin_protocol(patient.condition)
    response = dashboard.post(
        reverse("clinicians:plan_assign", args=[patient.pk]),
        {"protocol": protocol.pk, "start_date": "2026-02-01", "schedule_days": ["0"]},
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "A plan cannot start before its screening." in html
    assert value_attr(html, "start_date") == "2026-02-01"
    assert checked(html, "schedule_days", "0")


def test_override_with_a_too_short_reason_is_refused(dashboard, patient):
    screen(patient, fever_or_systemic_infection=True)
    protocol = builtin_protocol(patient.condition)
    url = reverse("clinicians:plan_assign", args=[patient.pk])
    assert 'name="override_reason"' in html_of(dashboard.get(url))
    data = {
        "protocol": protocol.pk,
        "start_date": "2026-03-02",
        "schedule_days": ["0", "2", "4"],
        "override_reason": "feels fine",
    }
    response = dashboard.post(url, data)
    html = html_of(response)
    assert response.status_code == 409
    assert "A written reason is required to override this block." in html
    assert re.search(r"<textarea[^>]*name=\"override_reason\"[^>]*>\s*feels fine</textarea>", html)
    assert not Plan.objects.exists()

    data["override_reason"] = "Fever settled on antibiotics, GP cleared exercise today."
    assert dashboard.post(url, data).status_code == 302
    plan = Plan.objects.get(patient=patient)
    assert plan.override_reason.startswith("Fever settled")


def test_assign_without_a_screening_points_to_the_screening(dashboard, patient):
    response = dashboard.get(reverse("clinicians:plan_assign", args=[patient.pk]))
    html = html_of(response)
    assert response.status_code == 200
    assert "A valid screening is needed" in html
    assert reverse("clinicians:screening_new", args=[patient.pk]) in html
    assert "Assign the protocol" not in html


def test_assign_post_without_a_screening_shows_the_services_refusal(dashboard, patient):
    response = dashboard.post(
        reverse("clinicians:plan_assign", args=[patient.pk]),
        {
            "protocol": builtin_protocol(patient.condition).pk,
            "start_date": "2026-03-02",
            "schedule_days": ["0"],
        },
    )
    assert response.status_code == 409
    assert "A valid screening" in html_of(response)


def test_assign_cannot_preview_another_clinics_protocol(dashboard, patient, stranger):
    screen(patient)
    theirs = services.protocol_copy(
        protocol=builtin_protocol(), clinic=stranger.clinic, actor=None, name="Theirs"
    )
    response = dashboard.get(
        reverse("clinicians:plan_assign", args=[patient.pk]), {"protocol": theirs.pk}
    )
    assert response.status_code == 400
    assert "Choose one of the protocols in the list." in html_of(response)
    assert "Theirs" not in html_of(response)


def test_another_clinics_patient_cannot_be_assigned(dashboard, stranger):
    screen(stranger)
    url = reverse("clinicians:plan_assign", args=[stranger.pk])
    assert dashboard.get(url).status_code == 404
    response = dashboard.post(
        url,
        {
            "protocol": builtin_protocol().pk,
            "start_date": "2026-03-02",
            "schedule_days": ["0"],
        },
    )
    assert response.status_code == 404
    assert not Plan.objects.exists()
