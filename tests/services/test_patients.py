"""Patient records (patient_create, patient_update, patient_archive): field errors, audit
events that name fields and never values, and what an archive ends."""

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.clinical import levels as L
from rehab.errors import RehabError
from rehab.models import AuditEvent, Patient, Plan
from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db


def create(clinic, actor, **kwargs):
    values = {"first_name": "Ada", "last_name": "Lovelace", "condition": L.KNEE_OA}
    values.update(kwargs)
    return services.patient_create(clinic=clinic, actor=actor, **values)


def test_patient_create_records_an_audit_event_and_takes_the_clinic_timezone(clinic, actor):
    patient = create(clinic, actor)
    assert patient.timezone == clinic.timezone
    event = AuditEvent.objects.get(action="patient.create")
    assert (event.actor, event.patient, event.clinic) == (actor, patient, clinic)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone_name", "Mars/Olympus"),
        ("condition", "tennis_elbow"),
        ("email", "not-an-email"),
        ("first_name", ""),
        ("reminder_channel", "pigeon"),
    ],
)
def test_patient_create_rejects_bad_values_with_field_errors(clinic, actor, field, value):
    with pytest.raises(RehabError) as exc:
        create(clinic, actor, **{field: value})
    expected = "timezone" if field == "timezone_name" else field
    assert expected in exc.value.fields
    assert not Patient.objects.exists()


def test_date_of_birth_in_the_future_is_refused(clinic, actor):
    with pytest.raises(RehabError) as exc:
        create(clinic, actor, date_of_birth=dt.date.today() + dt.timedelta(days=3))
    assert "date_of_birth" in exc.value.fields


def test_external_id_is_unique_within_a_clinic_only(clinic, actor):
    create(clinic, actor, external_id="MRN-1")
    with pytest.raises(RehabError) as exc:
        create(clinic, actor, external_id="MRN-1")
    # On the field, in words (API clients and forms show it there), not as a table constraint.
    assert exc.value.fields == {
        "external_id": ["Another patient of this clinic already has this record number."]
    }
    other = ClinicianFactory()
    assert create(other.clinic, other.user, external_id="MRN-1").external_id == "MRN-1"


def test_patient_update_changes_fields_and_names_them_in_the_audit(patient, actor):
    services.patient_update(
        patient=patient, actor=actor, phone="+44 20 7946 0000", reminders_enabled=False
    )
    patient.refresh_from_db()
    assert patient.phone == "+44 20 7946 0000"
    event = AuditEvent.objects.filter(action="patient.update").get()
    assert event.detail == {"fields": ["phone", "reminders_enabled"]}
    assert "7946" not in str(event.detail)  # names of fields, never values


def test_patient_update_refuses_unknown_fields(patient, actor):
    with pytest.raises(RehabError) as exc:
        services.patient_update(patient=patient, actor=actor, clinic_id=99)
    assert "clinic_id" in exc.value.fields


def test_condition_cannot_change_while_a_plan_is_open(plan, actor):
    with pytest.raises(RehabError) as exc:
        services.patient_update(
            patient=plan.patient, actor=actor, condition=L.CHRONIC_LOW_BACK_PAIN
        )
    assert exc.value.code == "plan_open"


def test_archiving_discontinues_the_open_plan_and_hides_the_patient(plan, actor):
    patient = plan.patient
    services.patient_archive(patient=patient, actor=actor)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.DISCONTINUED
    assert patient not in selectors.patient_list(clinic=patient.clinic)
    assert patient in selectors.patient_list(clinic=patient.clinic, include_archived=True)
