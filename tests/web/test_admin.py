import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rehab import audit_chain, services, two_step
from rehab.models import AuditEvent, Patient, Protocol, Reminder
from tests.factories import (
    TODAY,
    ClinicianFactory,
    UserFactory,
    active_plan,
    builtin_protocol,
    current_code,
    force_login_verified,
    good_session,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    """A superuser whose session passed the second step: outside DEBUG the admin asks for it."""
    force_login_verified(client, UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def data(db):
    """One row of every model: a clinician's patient with a plan, a logged session (and so a
    decision), an outcome score and a group."""
    clinician = ClinicianFactory()
    plan = active_plan(actor=clinician.user)
    session = services.session_log(
        plan=plan, actor=clinician.user, date=TODAY, today=TODAY, **good_session()
    )
    services.session_evaluate(session_id=session.pk)  # the worker's part, done
    services.outcome_record(patient=plan.patient, measure="nprs", answers={"score": 4}, actor=None)
    Group.objects.create(name="Support")
    services.api_key_create(clinic=plan.clinic, name="EHR", actor=clinician.user)
    services.personal_token_create(user=clinician.user, clinic=plan.clinic)
    # An authenticator and recovery codes (django-otp's admin pages list them).
    device = two_step.two_step_enrol_start(user=clinician.user)
    two_step.two_step_enrol_confirm(
        user=clinician.user, code=current_code(device), actor=clinician.user
    )
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
    audit_chain.audit_seal()  # the audit events so far, and so a chain head
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


# --- Reads of patient data in the admin are audited ---------------------------------------------

# The admin's models that hold a patient's data, and the audit action their reads record.
PATIENT_DATA = {
    "user": "patient.read",  # a patient's account: name and e-mail
    "patient": "patient.read",
    "screening": "screening.read",
    "plan": "plan.read",
    "sessionlog": "session.read",
    "progressiondecision": "decision.read",
    "outcomescore": "outcome.read",
    "auditevent": "audit.read",
    "reminder": "reminder.read",
    "portalinvite": "invite.read",
    "calendarfeed": "calendar.read",
}


def _patient_data_models():
    return [m for m in admin.site._registry if m._meta.model_name in PATIENT_DATA]


def test_every_admin_model_with_a_patient_link_is_listed_as_patient_data():
    # A new model registered in the admin with a link to a patient must declare its read audit.
    for model in admin.site._registry:
        names = {f.name for f in model._meta.get_fields()}
        if model._meta.app_label == "rehab" and ("patient" in names or model is Patient):
            assert model._meta.model_name in PATIENT_DATA, model


def _read_events():
    return AuditEvent.objects.filter(detail__via="admin").exclude(action="patient.update")


@pytest.mark.parametrize("model", _patient_data_models(), ids=lambda m: m._meta.model_name)
def test_an_admin_change_list_records_one_read_per_patient_shown(staff_client, data, model):
    other = active_plan()  # a second patient, of another clinic
    session = services.session_log(
        plan=other, actor=None, date=TODAY, today=TODAY, **good_session()
    )
    services.session_evaluate(session_id=session.pk)  # the worker's part, done
    services.outcome_record(patient=other.patient, measure="nprs", answers={"score": 3}, actor=None)
    Reminder.objects.create(
        patient=other.patient,
        plan=other,
        due_date=TODAY,
        channel="email",
        scheduled_for=timezone.now(),
    )
    other.patient.email = "other@example.org"
    other.patient.save()
    services.patient_invite(patient=other.patient, actor=None)
    services.calendar_feed_create(patient=other.patient, actor=None)
    services.personal_token_create(user=UserFactory(), clinic=data.clinic)  # noise
    if model._meta.model_name == "user":
        from tests.factories import PatientFactory

        PatientFactory(clinic=data.clinic, user=UserFactory())
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        assert staff_client.get(url).status_code == 200
    inserts = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "rehab_auditevent"')]
    assert len(inserts) == 1  # one bulk insert, whatever the page size
    events = list(_read_events())
    action = PATIENT_DATA[model._meta.model_name]
    assert {e.action for e in events} == {action}
    shown = {e.patient_ref for e in events}
    assert {data.patient.pk, other.patient.pk} <= shown or model._meta.model_name == "user"
    assert len(shown) == len(events)  # one event per patient
    for event in events:
        assert event.actor is not None
        assert event.actor.is_superuser
        assert event.clinic_id == Patient.objects.get(pk=event.patient_ref).clinic_id
        assert event.ip_address == "127.0.0.1"


@pytest.mark.parametrize("model", _patient_data_models(), ids=lambda m: m._meta.model_name)
def test_an_admin_object_page_records_one_read(staff_client, data, model):
    if model._meta.model_name == "user":
        obj = data.patient.user or UserFactory()
        data.patient.user = obj
        data.patient.save()
    elif model is AuditEvent:
        obj = AuditEvent.objects.filter(patient=data.patient).first()
    else:
        obj = model.objects.first()
    AuditEvent.objects.filter(action__endswith=".read").delete()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    assert staff_client.get(url).status_code == 200
    event = _read_events().get()
    assert event.action == PATIENT_DATA[model._meta.model_name]
    assert event.patient_ref == data.patient.pk
    assert event.clinic_id == data.patient.clinic_id
    assert event.object_id == str(obj.pk)


def test_reading_the_audit_trail_in_the_admin_is_audited_even_without_patients(staff_client, db):
    AuditEvent.objects.create(actor_label="system", action="clinic.settings", object_type="clinic")
    assert staff_client.get(reverse("admin:rehab_auditevent_changelist")).status_code == 200
    event = AuditEvent.objects.get(action="audit.read")
    assert event.patient_ref is None
    assert event.detail == {"via": "admin"}


def test_a_search_in_the_admin_audits_only_the_patients_found(staff_client, data):
    other = active_plan()
    url = reverse("admin:rehab_plan_changelist")
    staff_client.get(url, {"q": other.patient.last_name})
    assert {e.patient_ref for e in _read_events()} == {other.patient.pk}
