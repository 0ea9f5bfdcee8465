"""The scoped selectors (rehab.selectors.scoped): a clinician reads their clinic's rows only,
a patient their own."""

import pytest

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.models import Patient
from tests.factories import TODAY, ClinicianFactory, PatientFactory, UserFactory, builtin_protocol

pytestmark = pytest.mark.django_db


def test_selectors_never_return_another_clinics_patient(patient):
    other = ClinicianFactory()
    with pytest.raises(Patient.DoesNotExist):
        selectors.patient_get(clinic=other.clinic, patient_id=patient.pk)


def test_notes_are_read_by_the_clinics_staff_only(patient, actor):
    services.clinical_note_add(patient=patient, actor=actor, noted_on=TODAY, text="Ours")
    other = PatientFactory()
    services.clinical_note_add(patient=other, actor=None, noted_on=TODAY, text="Theirs")
    staff = principal_for_user(actor)
    assert [n.text for n in selectors.clinical_notes_for(staff)] == ["Ours"]
    patient.user = UserFactory()
    patient.save()
    assert not selectors.clinical_notes_for(principal_for_user(patient.user)).exists()


def test_protocol_library_shows_builtins_and_own_copies_only(ladder, clinic):
    other = ClinicianFactory()
    foreign = services.protocol_copy(
        protocol=builtin_protocol(), clinic=other.clinic, actor=other.user
    )
    library = set(selectors.protocol_library(clinic=clinic))
    assert ladder in library
    assert foreign not in library
    assert len(library) == 6


# --- Every principal's rows -----------------------------------------------------------------------

# Each selector and how its rows name their patient.
SCOPED = {
    "plans_for": "patient",
    "sessions_for": "patient",
    "decisions_for": "plan__patient",
    "outcomes_for": "patient",
    "reminders_for": "patient",
    "reports_for": "patient",
}


def patients_of(rows, path: str) -> set[str]:
    return set(rows.values_list(f"{path}__last_name", flat=True))


@pytest.mark.parametrize(("name", "path"), SCOPED.items(), ids=SCOPED.keys())
def test_staff_read_their_clinics_rows_and_a_patient_their_own(clinics, name, path):
    selector = getattr(selectors, name)
    for staff in (clinics.clinician, clinics.admin, clinics.api_key):
        assert patients_of(selector(staff), path) == {"Ours", "Neighbour"}
    assert patients_of(selector(clinics.patient), path) == {"Ours"}


def test_patients_for_is_the_clinics_patients_or_oneself(clinics):
    names = lambda rows: set(rows.values_list("last_name", flat=True))  # noqa: E731
    assert names(selectors.patients_for(clinics.api_key)) == {"Ours", "Neighbour"}
    assert names(selectors.patients_for(clinics.patient)) == {"Ours"}


def test_a_patient_reads_only_the_plain_language_report(clinics):
    staff = selectors.reports_for(clinics.clinician).filter(patient=clinics.ours.patient)
    assert set(staff.values_list("audience", flat=True)) == {"clinician", "patient"}
    own = selectors.reports_for(clinics.patient)
    assert set(own.values_list("audience", flat=True)) == {"patient"}


def test_screenings_protocols_and_notes_are_for_staff_only(clinics):
    assert patients_of(selectors.screenings_for(clinics.api_key), "patient") == {
        "Ours",
        "Neighbour",
    }
    assert not selectors.screenings_for(clinics.patient).exists()
    assert not selectors.protocols_for(clinics.patient).exists()
    assert selectors.protocols_for(clinics.clinician).count() == 5  # the built-ins
    assert patients_of(selectors.clinical_notes_for(clinics.api_key), "patient") == {
        "Ours",
        "Neighbour",
    }


def test_the_audit_trail_is_for_the_clinics_administrators(clinics):
    trail = selectors.audit_events_for(clinics.admin)
    assert trail.filter(patient=clinics.ours.patient).exists()
    assert not trail.filter(clinic=clinics.elsewhere.clinic).exists()
    assert set(trail.values_list("clinic", flat=True)) == {clinics.admin.clinic.pk}
    for not_admin in (clinics.clinician, clinics.api_key, clinics.patient):
        assert not selectors.audit_events_for(not_admin).exists()


def test_an_api_key_is_found_by_its_whole_secret_only(clinic, actor):
    api_key, raw = services.api_key_create(clinic=clinic, name="EHR", actor=actor)
    assert selectors.api_key_for(raw) == api_key
    assert selectors.api_key_for(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert selectors.api_key_for("rw__nothing") is None
    assert selectors.api_key_for("not a key") is None
