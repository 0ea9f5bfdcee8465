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
