"""Hostile input through the dashboard's and the portal's forms: each refusal is a 400 page with
the error beside its field and nothing saved, never a 500 (issue 10 §3). The API's side is
tests/api/test_hostile_input.py."""

from __future__ import annotations

import pytest
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from rehab.clinical import levels as L
from rehab.models import ApiKey, Clinician, OutcomeScore, Patient, Plan, Report, SessionLog
from tests.factories import (
    TODAY,
    PatientFactory,
    UserFactory,
    active_plan,
    builtin_protocol,
    clean_answers,
)

pytestmark = pytest.mark.django_db
HEADER_INJECTION = "Nina\r\nBcc: evil@attacker.test"
NOW = "2026-03-02 10:00"  # a Monday in London


def errors_of(response, form: str = "form") -> dict:
    return response.context[form].errors


def plan_in(clinic) -> Plan:
    patient = PatientFactory(clinic=clinic)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=TODAY
    )
    return services.plan_assign(
        patient=patient, protocol=builtin_protocol(), actor=None, start_date=TODAY, today=TODAY
    )


# --- Dashboard ---------------------------------------------------------------------------------


@freeze_time(NOW)
def test_dashboard_refuses_a_header_injection_in_a_new_patients_name(dashboard):
    response = dashboard.post(
        reverse("clinicians:patient_new"),
        {
            "first_name": HEADER_INJECTION,
            "last_name": "Okafor",
            "condition": L.KNEE_OA,
            "timezone": "Europe/London",
            "reminder_channel": "none",
            "reminder_time": "09:00",
        },
    )
    assert response.status_code == 400
    assert "control character" in errors_of(response)["first_name"][0]
    assert not Patient.objects.filter(last_name="Okafor").exists()


def test_dashboard_refuses_a_header_injection_in_a_new_clinicians_name(admin_dashboard):
    response = admin_dashboard.post(
        reverse("clinicians:team"),
        {
            "first_name": HEADER_INJECTION,
            "last_name": "Okafor",
            "email": "nina@example.org",
            "title": "Physiotherapist",
        },
    )
    assert response.status_code == 400
    assert "control character" in response.content.decode()
    assert not Clinician.objects.filter(user__last_name="Okafor").exists()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_api_key_expiring_at_the_end_of_the_calendar_is_a_form_error(admin_dashboard, day):
    response = admin_dashboard.post(
        reverse("clinicians:api_keys"), {"name": "EHR", "expires_at": day}
    )
    assert response.status_code == 400
    assert errors_of(response)["expires_at"] == ["Give a date between 1900 and 2199."]
    assert not ApiKey.objects.exists()


@freeze_time(NOW)
def test_a_report_over_a_far_past_period_is_a_form_error(dashboard, clinic):
    plan = plan_in(clinic)
    response = dashboard.post(
        reverse("clinicians:report_request", args=[plan.patient.pk]),
        {"audience": "clinician", "period_start": "0001-01-01", "period_end": "0001-01-02"},
    )
    assert response.status_code == 400
    assert "Give a date between 1900 and 2199." in response.content.decode()
    assert not Report.objects.exists()


@freeze_time(NOW)
def test_a_control_character_in_a_pause_reason_is_a_form_error(dashboard, clinic):
    plan = plan_in(clinic)
    response = dashboard.post(
        reverse("clinicians:plan_manage", args=[plan.pk]),
        {"action": "pause", "pause-reason": "Away\x1b[2J"},
    )
    assert response.status_code == 400
    assert "control character" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE


# --- Portal --------------------------------------------------------------------------------------


@pytest.fixture
def portal_plan(db):
    plan = active_plan()
    plan.patient.user = UserFactory()
    plan.patient.save()
    return plan


@pytest.fixture
def portal(client, portal_plan):
    client.force_login(portal_plan.patient.user)
    return client


def log_answers(**overrides) -> dict:
    return {
        "date": "2026-03-02",
        "minutes_done": "10",
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "speed_kmh": "1.5",
        "pain_before": "2",
        "pain_worst": "3",
        "pain_after": "2",
        "effort": "3",
        "swelling": "none",
        "notes": "Felt steady",
        **overrides,
    }


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("field", "value"),
    [("notes", "Felt \x1b[31msteady"), ("notes", "x" * 2001), ("date", "0001-01-01")],
)
def test_the_portal_log_refuses_hostile_input_beside_the_field(portal, field, value):
    response = portal.post(reverse("patients:session_log"), log_answers(**{field: value}))
    assert response.status_code == 400
    assert errors_of(response)[field]
    assert not SessionLog.objects.exists()


@freeze_time(NOW)
def test_the_portal_log_keeps_a_notes_line_breaks(portal):
    response = portal.post(
        reverse("patients:session_log"), log_answers(notes="Line one\r\nline two")
    )
    assert response.status_code == 302
    assert SessionLog.objects.get().notes == "Line one\r\nline two"


@freeze_time(NOW)
def test_the_portal_refuses_a_psfs_activity_that_would_show_other_text(portal):
    data = {}
    for n, activity in enumerate(["Stairs\u202etxt.exe", "Car", "Shops"], start=1):
        data[f"activity_{n}"] = activity
        data[f"score_{n}"] = "5"
    response = portal.post(reverse("patients:questionnaire", args=["psfs"]), data)
    assert response.status_code == 400
    assert "bidirectional override" in errors_of(response)["activity_1"][0]
    assert not OutcomeScore.objects.exists()


def test_the_portal_never_serves_the_clinician_version_of_a_report(portal, portal_plan):
    theirs = services.report_request(patient=portal_plan.patient, audience="clinician", actor=None)
    services.report_render(report_id=theirs.pk)
    download = reverse("patients:report_download", args=[theirs.pk])
    assert portal.get(download).status_code == 404
    assert theirs not in portal.get(reverse("patients:reports")).context["reports"]
