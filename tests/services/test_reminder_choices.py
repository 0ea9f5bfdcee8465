"""Reminder choices from every door: text messages need a phone number (a form error in the
dashboard, a 400 with a field error in the API), and a new reminder time set through the API or
the dashboard moves today's pending reminder, as the portal's does (one service)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from freezegun import freeze_time
from rest_framework.test import APIClient

from rehab import services
from rehab.clinical import levels as L
from rehab.errors import RehabError
from rehab.models import AuditEvent, Patient, Reminder
from tests.factories import ClinicianFactory, active_plan

pytestmark = pytest.mark.django_db
UTC = dt.UTC
R = "/api/v1"
WEDNESDAY_6AM = dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # London is on UTC in March


@pytest.fixture
def clinician(db):
    return ClinicianFactory()


@pytest.fixture
def api(clinician):
    _, raw = services.api_key_create(clinic=clinician.clinic, name="EHR", actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def dashboard(client, clinician):
    client.force_login(clinician.user)
    return client


@pytest.fixture
def plan(clinician):
    plan = active_plan(actor=clinician.user)
    plan.patient.clinic = plan.clinic = clinician.clinic
    plan.patient.save()
    plan.save()
    return plan


def _patient_form(**overrides) -> dict:
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "phone": "",
        "timezone": "Europe/London",
        "condition": L.KNEE_OA,
        "reminder_channel": "sms",
        "reminder_time": "08:30",
        "reminders_enabled": "on",
        **overrides,
    }


# --- SMS needs a phone number ----------------------------------------------------------------

SMS_NEEDS_PHONE = (
    "Text-message reminders need a mobile phone number: add one, or choose another way."
)


def test_the_dashboard_refuses_sms_without_a_phone_with_everything_kept(dashboard):
    response = dashboard.post(reverse("clinicians:patient_new"), _patient_form())
    assert response.status_code == 400
    assert response.context["form"].errors["reminder_channel"] == [SMS_NEEDS_PHONE]
    html = response.content.decode()
    assert 'value="Lovelace"' in html
    assert not Patient.objects.filter(last_name="Lovelace").exists()


def test_the_dashboard_takes_sms_with_a_phone(dashboard):
    response = dashboard.post(
        reverse("clinicians:patient_new"), _patient_form(phone="+44 7700 900123")
    )
    assert response.status_code == 302
    assert Patient.objects.get(last_name="Lovelace").reminder_channel == "sms"


def test_the_api_refuses_sms_without_a_phone_with_a_field_error(api):
    response = api.post(
        f"{R}/patients/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "condition": L.KNEE_OA,
            "reminder_channel": "sms",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"reminder_channel": [SMS_NEEDS_PHONE]}
    assert not Patient.objects.filter(last_name="Lovelace").exists()


def test_clearing_the_phone_of_an_sms_patient_is_an_error_on_the_phone(api, plan):
    patient = plan.patient
    services.patient_update(
        patient=patient, actor=None, phone="+44 7700 900123", reminder_channel="sms"
    )
    response = api.patch(f"{R}/patients/{patient.pk}/", {"phone": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"phone": [SMS_NEEDS_PHONE]}
    patient.refresh_from_db()
    assert patient.phone == "+44 7700 900123"


def test_the_service_refuses_it_for_every_door(plan):
    with pytest.raises(RehabError) as caught:
        services.patient_update(patient=plan.patient, actor=None, reminder_channel="sms")
    assert caught.value.status == 400
    assert caught.value.fields == {"reminder_channel": [SMS_NEEDS_PHONE]}


# --- a new time moves today's pending reminder -----------------------------------------------


def _todays_reminder(plan) -> Reminder:
    with freeze_time(WEDNESDAY_6AM):
        services.reminders_plan()
    reminder = Reminder.objects.get(plan=plan, due_date=dt.date(2026, 3, 4), kind="session")
    assert reminder.scheduled_for == dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    return reminder


def test_a_new_time_through_the_api_moves_todays_pending_reminder(api, plan):
    reminder = _todays_reminder(plan)
    with freeze_time(WEDNESDAY_6AM):
        response = api.patch(
            f"{R}/patients/{plan.patient.pk}/", {"reminder_time": "18:30"}, format="json"
        )
    assert response.status_code == 200
    reminder.refresh_from_db()
    assert reminder.scheduled_for == dt.datetime(2026, 3, 4, 18, 30, tzinfo=UTC)
    assert reminder.status == "pending"
    assert AuditEvent.objects.filter(action="reminder.reschedule", patient=plan.patient).exists()


def test_turning_reminders_off_through_the_api_removes_todays_pending_one(api, plan):
    _todays_reminder(plan)
    with freeze_time(WEDNESDAY_6AM):
        response = api.patch(
            f"{R}/patients/{plan.patient.pk}/", {"reminders_enabled": False}, format="json"
        )
    assert response.status_code == 200
    assert not Reminder.objects.filter(plan=plan, status="pending").exists()


def test_a_sent_reminder_stays_as_it_was(api, plan):
    reminder = _todays_reminder(plan)
    Reminder.objects.filter(pk=reminder.pk).update(status="sent")
    with freeze_time(WEDNESDAY_6AM):
        api.patch(f"{R}/patients/{plan.patient.pk}/", {"reminder_time": "18:30"}, format="json")
    reminder.refresh_from_db()
    assert reminder.scheduled_for == dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def test_a_change_of_name_leaves_the_reminders_alone(api, plan):
    reminder = _todays_reminder(plan)
    before = reminder.updated_at
    with freeze_time(WEDNESDAY_6AM + dt.timedelta(minutes=5)):
        api.patch(f"{R}/patients/{plan.patient.pk}/", {"first_name": "Ada"}, format="json")
    reminder.refresh_from_db()
    assert reminder.updated_at == before
    assert not AuditEvent.objects.filter(action="reminder.reschedule").exists()


def test_a_new_time_in_the_dashboard_moves_it_too(dashboard, plan):
    reminder = _todays_reminder(plan)
    patient = plan.patient
    data = _patient_form(
        first_name=patient.first_name,
        last_name=patient.last_name,
        email=patient.email,
        condition=patient.condition,
        reminder_channel="email",
        reminder_time="18:30",
    )
    with freeze_time(WEDNESDAY_6AM):
        response = dashboard.post(reverse("clinicians:patient_edit", args=[patient.pk]), data)
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.scheduled_for == dt.datetime(2026, 3, 4, 18, 30, tzinfo=UTC)
