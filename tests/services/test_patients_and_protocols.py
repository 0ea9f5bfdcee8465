import datetime as dt

import pytest

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.clinical import levels as L
from rehab.clinical import protocols as clinical_protocols
from rehab.errors import RehabError
from rehab.models import AuditEvent, Patient, Plan, Protocol
from tests.factories import ClinicianFactory, builtin_protocol
from tests.services.conftest import LADDER

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
    principal = principal_for_user(actor)
    assert patient not in selectors.patient_list_for_dashboard(principal=principal)
    assert patient in selectors.patient_list_for_dashboard(
        principal=principal, include_archived=True
    )


def test_selectors_never_return_another_clinics_patient(patient):
    other = principal_for_user(ClinicianFactory().user)
    assert not selectors.patients_for(other).filter(pk=patient.pk).exists()
    assert patient not in selectors.patient_list_for_dashboard(principal=other)


# --- protocols


def test_library_load_is_idempotent_and_complete(db):
    services.protocol_library_load()
    services.protocol_library_load()
    builtins = Protocol.objects.filter(clinic__isnull=True)
    assert builtins.count() == len(clinical_protocols.LIBRARY) == 5
    assert set(builtins.values_list("condition", flat=True)) == set(L.CONDITIONS)
    for protocol in builtins:
        definition = clinical_protocols.get(protocol.code)
        assert [row.to_level() for row in protocol.levels.all()] == list(definition.levels)
        assert protocol.version == 1
        assert protocol.citations


def test_library_load_bumps_the_version_of_a_changed_builtin(db):
    services.protocol_library_load()
    protocol = Protocol.objects.filter(clinic__isnull=True).first()
    protocol.levels.filter(position=0).update(minutes=99)
    services.protocol_library_load()
    protocol.refresh_from_db()
    assert protocol.version == 2
    assert protocol.levels.get(position=0).minutes != 99


def test_builtin_protocols_are_read_only(actor):
    with pytest.raises(RehabError) as exc:
        services.protocol_update(protocol=builtin_protocol(), actor=actor, name="Mine now")
    assert exc.value.code == "protocol_read_only"


def test_a_copy_belongs_to_the_clinic_and_can_be_edited(clinic, actor):
    source = builtin_protocol()
    copy = services.protocol_copy(protocol=source, clinic=clinic, actor=actor)
    assert copy.clinic == clinic
    assert copy.based_on == source
    assert copy.levels.count() == source.levels.count()
    services.protocol_update(
        protocol=copy, actor=actor, levels=LADDER, progression_settings={"regress_effort": 8}
    )
    copy.refresh_from_db()
    assert copy.version == 2
    assert copy.levels.count() == 4
    assert copy.progression_settings == {"regress_effort": 8}
    # The built-in is untouched.
    assert source.levels.count() == len(clinical_protocols.get(source.code).levels)


def test_two_copies_get_distinct_codes(clinic, actor):
    first = services.protocol_copy(
        protocol=builtin_protocol(), clinic=clinic, actor=actor, name="Mine"
    )
    second = services.protocol_copy(
        protocol=builtin_protocol(), clinic=clinic, actor=actor, name="Mine"
    )
    assert first.code != second.code


def test_another_clinic_cannot_copy_a_clinics_own_protocol(ladder):
    other = ClinicianFactory()
    with pytest.raises(RehabError) as exc:
        services.protocol_copy(protocol=ladder, clinic=other.clinic, actor=other.user)
    assert exc.value.code == "protocol_not_found"


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([], "levels"),
        ([{**LADDER[0], "minutes": 0}], "levels[0].minutes"),
        ([LADDER[0], {**LADDER[1], "setting": "trampoline"}], "levels[1].setting"),
        ([{**LADDER[0], "speed_kmh": 20}], "levels[0].speed_kmh"),
        ([{"name": "only a name"}], "levels[0]"),
    ],
)
def test_bad_level_edits_are_refused_with_field_errors_and_keep_the_old_levels(
    ladder, actor, levels, field
):
    with pytest.raises(RehabError) as exc:
        services.protocol_update(protocol=ladder, actor=actor, levels=levels)
    assert field in exc.value.fields
    assert ladder.levels.count() == len(LADDER)


def test_bad_progression_settings_are_refused(ladder, actor):
    with pytest.raises(RehabError) as exc:
        services.protocol_update(
            protocol=ladder, actor=actor, progression_settings={"pause_pain": 42}
        )
    assert "progression_settings" in exc.value.fields


def test_protocol_library_shows_builtins_and_own_copies_only(ladder, clinic):
    other = ClinicianFactory()
    foreign = services.protocol_copy(
        protocol=builtin_protocol(), clinic=other.clinic, actor=other.user
    )
    library = set(selectors.protocol_library(clinic=clinic))
    assert ladder in library
    assert foreign not in library
    assert len(library) == 6
