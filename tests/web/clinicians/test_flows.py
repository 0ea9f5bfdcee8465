"""The clinician's flows: new patient -> screening -> assign a protocol -> manage the plan."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from rehab import services
from rehab.clinical import levels as L
from rehab.models import AuditEvent, Patient, Plan, ProgressionDecision, Screening
from tests.factories import (
    PatientFactory,
    builtin_protocol,
    clean_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with freeze_time("2026-03-02 10:00:00"):
        yield


def html_of(response) -> str:
    return response.content.decode()


def value_attr(html: str, name: str) -> str | None:
    """The value attribute of the input named `name`, as rendered."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def checked(html: str, name: str, value: str) -> bool:
    for tag in re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html):
        if f'value="{value}"' in tag:
            return "checked" in tag
    raise AssertionError(f"no input {name}={value}")


def answers_post(answers: dict) -> dict:
    """Screening answers as the form posts them."""
    data = {}
    for code, value in answers.items():
        if code == "condition" or value is None:
            continue
        if isinstance(value, bool):
            data[code] = "yes" if value else "no"
        else:
            data[code] = str(value)
    return data


def patient_data(**overrides) -> dict:
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1950-12-10",
        "email": "ada@example.org",
        "phone": "+44 7700 900123",
        "timezone": "Europe/London",
        "condition": L.KNEE_OA,
        "external_id": "MRN-1",
        "reminder_channel": "email",
        "reminder_time": "08:30",
        "reminders_enabled": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, first_name="Grace", last_name="Hopper")


def screen(patient, **overrides) -> Screening:
    return services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition, **overrides), actor=None
    )


def assign(patient, **kwargs) -> Plan:
    return services.plan_assign(
        patient=patient, protocol=builtin_protocol(patient.condition), actor=None, **kwargs
    )


# --- New patient ------------------------------------------------------------------------------


def test_new_patient_form_defaults_to_the_clinics_time_zone(dashboard, clinic):
    clinic.timezone = "Australia/Perth"
    clinic.save()
    response = dashboard.get(reverse("clinicians:patient_new"))
    assert response.status_code == 200
    assert re.search(r'<option value="Australia/Perth"[^>]*selected', html_of(response))
    assert 'aria-current="page">New patient' in html_of(response)


def test_new_patient_is_created_and_goes_on_to_the_screening(dashboard, clinic, clinician):
    response = dashboard.post(reverse("clinicians:patient_new"), patient_data())
    patient = Patient.objects.get(last_name="Lovelace")
    assert response.status_code == 302
    assert response.url == reverse("clinicians:screening_new", args=[patient.pk])
    assert patient.clinic == clinic
    assert patient.created_by == clinician.user
    assert patient.reminder_time == dt.time(8, 30)
    assert patient.date_of_birth == dt.date(1950, 12, 10)
    assert AuditEvent.objects.filter(action="patient.create", patient=patient).exists()


def test_new_patient_form_errors_keep_what_was_typed(dashboard):
    response = dashboard.post(
        reverse("clinicians:patient_new"),
        patient_data(last_name="", email="not-an-address", reminder_time="25:99"),
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "This field is required." in html
    assert "Enter a valid email address." in html
    assert "Enter a valid time." in html
    assert value_attr(html, "first_name") == "Ada"
    assert value_attr(html, "email") == "not-an-address"
    assert value_attr(html, "external_id") == "MRN-1"
    assert not Patient.objects.exists()


def test_new_patient_refused_by_the_service_keeps_what_was_typed(dashboard):
    response = dashboard.post(
        reverse("clinicians:patient_new"), patient_data(date_of_birth="2026-05-01")
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "The date of birth cannot be in the future." in html
    assert value_attr(html, "date_of_birth") == "2026-05-01"
    assert value_attr(html, "last_name") == "Lovelace"
    assert not Patient.objects.exists()


def test_new_patient_with_a_record_number_already_in_use_is_refused_in_words(dashboard, clinic):
    PatientFactory(clinic=clinic, external_id="MRN-1")
    response = dashboard.post(reverse("clinicians:patient_new"), patient_data())
    html = html_of(response)
    assert response.status_code == 400
    assert "Another patient of this clinic already has this record number." in html
    assert "all  :" not in html
    assert value_attr(html, "external_id") == "MRN-1"
    assert not Patient.objects.filter(last_name="Lovelace").exists()


def test_new_patient_with_an_unknown_time_zone_is_refused(dashboard):
    response = dashboard.post(reverse("clinicians:patient_new"), patient_data(timezone="Mars/Base"))
    assert response.status_code == 400
    assert "Select a valid choice" in html_of(response)


def test_anonymous_visitor_is_sent_to_sign_in(client, patient):
    for url in (
        reverse("clinicians:patient_new"),
        reverse("clinicians:patient_edit", args=[patient.pk]),
        reverse("clinicians:screening_new", args=[patient.pk]),
        reverse("clinicians:plan_assign", args=[patient.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("clinicians:login"))


# --- Edit patient -----------------------------------------------------------------------------


def test_edit_patient_shows_the_current_details_and_audits_the_read(dashboard, patient):
    response = dashboard.get(reverse("clinicians:patient_edit", args=[patient.pk]))
    html = html_of(response)
    assert response.status_code == 200
    assert value_attr(html, "first_name") == "Grace"
    assert value_attr(html, "email") == patient.email
    assert AuditEvent.objects.filter(action="patient.read", patient=patient).count() == 1


def test_edit_patient_saves_and_returns_to_the_patient_page(dashboard, patient):
    data = patient_data(first_name="Grace", last_name="Brewster", condition=patient.condition)
    response = dashboard.post(reverse("clinicians:patient_edit", args=[patient.pk]), data)
    assert response.status_code == 302
    assert response.url == reverse("clinicians:patient", args=[patient.pk])
    patient.refresh_from_db()
    assert patient.last_name == "Brewster"
    assert patient.reminder_channel == "email"
    event = AuditEvent.objects.get(action="patient.update", patient=patient)
    assert "last_name" in event.detail["fields"]


def test_edit_condition_while_a_plan_is_open_is_refused_with_input_kept(dashboard, patient):
    screen(patient)
    assign(patient)
    data = patient_data(last_name="Typed", condition=L.PATELLOFEMORAL_PAIN)
    response = dashboard.post(reverse("clinicians:patient_edit", args=[patient.pk]), data)
    html = html_of(response)
    assert response.status_code == 409
    assert "A plan is open for the current condition." in html
    assert value_attr(html, "last_name") == "Typed"
    assert "<h1>Edit Grace Hopper</h1>" in html  # the heading still shows the stored name
    patient.refresh_from_db()
    assert (patient.last_name, patient.condition) == ("Hopper", L.KNEE_OA)


def test_another_clinics_patient_cannot_be_edited(dashboard, stranger):
    url = reverse("clinicians:patient_edit", args=[stranger.pk])
    assert dashboard.get(url).status_code == 404
    assert dashboard.post(url, patient_data()).status_code == 404
    stranger.refresh_from_db()
    assert stranger.first_name != "Ada"


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


def test_the_plan_page_lists_its_session_days_as_the_portal_does(dashboard, patient):
    # It said "Monday, Wednesday, Friday" where the portal says "... and Friday".
    screen(patient)
    plan = assign(patient, schedule_days=[4, 0, 2])
    html = html_of(dashboard.get(reverse("clinicians:plan_manage", args=[plan.pk])))
    assert "<dd>Monday, Wednesday and Friday</dd>" in html


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


# --- Managing a plan --------------------------------------------------------------------------


@pytest.fixture
def plan(patient):
    screen(patient)
    return assign(patient)


def act(dashboard, plan, action, **fields):
    data = {"action": action, **{f"{action}-{name}": value for name, value in fields.items()}}
    return dashboard.post(reverse("clinicians:plan_manage", args=[plan.pk]), data)


def test_plan_page_shows_levels_with_the_current_one_marked(dashboard, plan):
    response = dashboard.get(reverse("clinicians:plan_manage", args=[plan.pk]))
    html = html_of(response)
    assert response.status_code == 200
    assert html.count('aria-current="step"') == 1
    current = re.search(
        r'<tr class="current" aria-current="step">\s*<th scope="row"[^>]*>(\d+)', html
    )
    assert current.group(1) == "1"
    assert "current level" in html
    assert reverse("clinicians:patient", args=[plan.patient.pk]) in html
    assert AuditEvent.objects.filter(action="plan.read", patient=plan.patient).count() == 1


def test_pause_with_a_reason(dashboard, plan):
    response = act(dashboard, plan, "pause", reason="Away on holiday")
    assert response.status_code == 302
    assert response.url == reverse("clinicians:plan_manage", args=[plan.pk])
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == ("paused", "Away on holiday")
    page = html_of(dashboard.get(response.url))
    assert "The plan is paused." in page
    assert "Paused: Away on holiday" in page
    assert 'value="resume"' in page
    assert 'value="pause"' not in page


def test_resume_a_paused_plan(dashboard, plan):
    services.plan_pause(plan=plan, actor=None, reason="Holiday")
    response = act(dashboard, plan, "resume", reason="Back home")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "active"


def test_resume_without_a_valid_screening_shows_the_services_refusal(dashboard, plan):
    services.plan_pause(plan=plan, actor=None, reason="Fall")
    Screening.objects.update(invalidated_at=timezone.now(), invalidated_reason="Fall")
    response = act(dashboard, plan, "resume", reason="Feeling better")
    html = html_of(response)
    assert response.status_code == 409
    assert "A valid screening" in html
    assert "before a plan can be resumed" in html
    assert value_attr(html, "resume-reason") == "Feeling better"
    plan.refresh_from_db()
    assert plan.status == "paused"


def test_resume_under_an_overridable_block_asks_for_a_reason(dashboard, plan):
    services.plan_pause(plan=plan, actor=None, reason="Fever")
    screen(plan.patient, fever_or_systemic_infection=True)
    url = reverse("clinicians:plan_manage", args=[plan.pk])
    assert 'name="resume-override_reason"' in html_of(dashboard.get(url))

    response = act(dashboard, plan, "resume", reason="", override_reason="")
    assert response.status_code == 409
    assert "A clinician may override this block with a written reason" in html_of(response)
    plan.refresh_from_db()
    assert plan.status == "paused"

    reason = "Fever gone for a week; GP agrees walking can restart."
    assert act(dashboard, plan, "resume", reason="", override_reason=reason).status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.override_reason) == ("active", reason)


def test_set_level_moves_the_plan_and_records_a_decision(dashboard, plan):
    response = act(dashboard, plan, "set_level", level="2", reason="Coping well")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.current_level == 2
    decision = ProgressionDecision.objects.get(plan=plan)
    assert decision.reasons[0]["text"] == "Coping well"
    assert "The plan moved to level 3." in html_of(dashboard.get(response.url))


def test_set_level_without_a_reason_is_refused_with_the_choice_kept(dashboard, plan):
    response = act(dashboard, plan, "set_level", level="3", reason="")
    html = html_of(response)
    assert response.status_code == 400
    assert "Say why the level is changed." in html
    assert re.search(r'<option value="3" selected>', html)
    plan.refresh_from_db()
    assert plan.current_level == 0


def test_set_level_to_the_current_level_shows_the_services_refusal(dashboard, plan):
    response = act(dashboard, plan, "set_level", level="0", reason="No change")
    html = html_of(response)
    assert response.status_code == 400
    assert "The plan is already at this level." in html
    assert value_attr(html, "set_level-reason") == "No change"


def test_complete_a_plan(dashboard, plan):
    response = act(dashboard, plan, "complete", reason="")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "completed"
    page = html_of(dashboard.get(response.url))
    assert "it can no longer be changed" in page


def test_discontinue_needs_a_reason(dashboard, plan):
    response = act(dashboard, plan, "discontinue", reason="  ")
    assert response.status_code == 400
    assert "Say why the plan is discontinued." in html_of(response)
    plan.refresh_from_db()
    assert plan.status == "active"

    response = act(dashboard, plan, "discontinue", reason="Moved away")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == ("discontinued", "Moved away")


def test_auto_apply_is_switched_on_and_off(dashboard, plan):
    assert act(dashboard, plan, "auto_apply", auto_apply="on").status_code == 302
    plan.refresh_from_db()
    assert plan.auto_apply is True
    assert act(dashboard, plan, "auto_apply").status_code == 302
    plan.refresh_from_db()
    assert plan.auto_apply is False


def test_an_action_the_plans_state_does_not_allow_is_refused_on_the_page(dashboard, plan):
    response = act(dashboard, plan, "resume", reason="")
    assert response.status_code == 409
    assert "not paused" in html_of(response)


def test_an_unknown_action_is_not_found(dashboard, plan):
    assert act(dashboard, plan, "delete").status_code == 404


def test_another_clinics_plan_is_not_found(dashboard, stranger):
    screen(stranger)
    theirs = assign(stranger)
    url = reverse("clinicians:plan_manage", args=[theirs.pk])
    assert dashboard.get(url).status_code == 404
    assert act(dashboard, theirs, "pause", reason="x").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "active"


def test_anonymous_visitor_cannot_manage_a_plan(client, plan):
    url = reverse("clinicians:plan_manage", args=[plan.pk])
    response = client.post(url, {"action": "pause"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("clinicians:login"))
    plan.refresh_from_db()
    assert plan.status == "active"


# --- Query counts -----------------------------------------------------------------------------


# Each page costs: session, user, clinician (the principal), its own reads, one audit insert.
# The first request after force_login also re-saves the session, hence the warm-up request.


def test_plan_page_query_count(dashboard, plan, django_assert_num_queries):
    url = reverse("clinicians:plan_manage", args=[plan.pk])
    dashboard.get(url)
    # + the plan with its patient, the current screening
    with django_assert_num_queries(6):
        dashboard.get(url)


def test_assign_page_query_count_does_not_grow_with_the_library(
    dashboard, patient, clinic, django_assert_num_queries
):
    screen(patient)
    builtin_protocol()
    url = reverse("clinicians:plan_assign", args=[patient.pk])
    dashboard.get(url)
    # + patient, current screening, open plan, protocols, their levels (one prefetch)
    with django_assert_num_queries(9):
        dashboard.get(url)
    for n in range(3):
        services.protocol_copy(
            protocol=builtin_protocol(), clinic=clinic, actor=None, name=f"Copy {n}"
        )
    with django_assert_num_queries(9):
        response = dashboard.get(url)
    assert html_of(response).count("your clinic's, version") == 3


def test_screening_form_query_count(dashboard, patient, django_assert_num_queries):
    url = reverse("clinicians:screening_new", args=[patient.pk])
    dashboard.get(url)
    with django_assert_num_queries(5):  # + the patient
        dashboard.get(url)
