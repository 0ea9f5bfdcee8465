import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rehab import services
from rehab.models import AuditEvent, Patient, Protocol, Reminder
from tests.factories import (
    TODAY,
    ClinicianFactory,
    UserFactory,
    active_plan,
    builtin_protocol,
    good_session,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def data(db):
    """One row of every model: a clinician's patient with a plan, a logged session (and so a
    decision), an outcome score and a group."""
    clinician = ClinicianFactory()
    plan = active_plan(actor=clinician.user)
    services.session_log(plan=plan, actor=clinician.user, date=TODAY, today=TODAY, **good_session())
    services.outcome_record(patient=plan.patient, measure="nprs", answers={"score": 4}, actor=None)
    Group.objects.create(name="Support")
    services.api_key_create(clinic=plan.clinic, name="EHR", actor=clinician.user)
    services.personal_token_create(user=clinician.user, clinic=plan.clinic)
    Reminder.objects.create(
        patient=plan.patient,
        plan=plan,
        due_date=TODAY,
        channel="email",
        scheduled_for=timezone.now(),
    )
    plan.patient.email = "alex@example.org"
    plan.patient.save()
    services.patient_invite(patient=plan.patient, actor=clinician.user)
    services.calendar_feed_create(patient=plan.patient, actor=None)
    # django-axes' sign-in records: one failed attempt, its log and one successful sign-in.
    seen = {"username": "mallory", "ip_address": "127.0.0.1", "user_agent": "test"}
    AccessAttempt.objects.create(**seen, failures_since_start=1, get_data="", post_data="")
    AccessFailureLog.objects.create(**seen)
    AccessLog.objects.create(**seen)
    return plan


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.model_name)
def test_every_model_has_a_working_changelist_with_search(staff_client, data, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert staff_client.get(url).status_code == 200
    if admin.site._registry[model].search_fields:
        assert staff_client.get(url, {"q": "Alex"}).status_code == 200


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.model_name)
def test_every_model_has_a_working_detail_page(staff_client, data, model):
    obj = model.objects.first()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    assert staff_client.get(url).status_code == 200


def test_clinical_records_are_read_only_in_the_admin(staff_client, data):
    url = reverse("admin:rehab_plan_change", args=[data.pk])
    response = staff_client.post(url, {"status": "completed"})
    assert response.status_code == 403
    data.refresh_from_db()
    assert data.status == "active"


def test_builtin_protocols_cannot_be_edited_in_the_admin(staff_client, db):
    protocol = builtin_protocol()
    url = reverse("admin:rehab_protocol_change", args=[protocol.pk])
    staff_client.post(url, {"name": "Renamed"})
    protocol.refresh_from_db()
    assert protocol.name != "Renamed"
    assert Protocol.objects.filter(clinic__isnull=True, name="Renamed").count() == 0


def test_viewing_a_patient_in_the_admin_is_audited(staff_client, data):
    url = reverse("admin:rehab_patient_change", args=[data.patient.pk])
    staff_client.get(url)
    event = AuditEvent.objects.get(action="patient.read")
    assert event.patient == data.patient
    assert event.ip_address == "127.0.0.1"


def test_editing_a_patient_in_the_admin_is_audited_with_the_fields(staff_client, data):
    patient = data.patient
    url = reverse("admin:rehab_patient_change", args=[patient.pk])
    form = {
        "clinic": patient.clinic_id,
        "first_name": patient.first_name,
        "last_name": "Renamed",
        "email": patient.email,
        "timezone": patient.timezone,
        "condition": patient.condition,
        "reminder_channel": patient.reminder_channel,
        "reminder_time": "09:00",
        "reminders_enabled": "on",
        "phone": "",
        "external_id": "",
        "date_of_birth": "",
    }
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    assert Patient.objects.get(pk=patient.pk).last_name == "Renamed"
    # Only the changed fields are written: never the dashboard's stored need as it was read,
    # which could overwrite a service's newer "recompute" mark.
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "rehab_patient"')]
    assert updates
    assert not any("dashboard_" in sql for sql in updates)
    event = AuditEvent.objects.get(action="patient.update")
    assert event.detail == {"fields": ["last_name"], "via": "admin"}


def test_admin_needs_a_staff_login(client, db):
    response = client.get(reverse("admin:rehab_patient_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
