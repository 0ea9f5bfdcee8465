"""The patient search (rehab/selectors/search.py), the same for the dashboard and the REST API:
every word a clinician types must be part of a first or last name, the record number or the
e-mail, in any case."""

from __future__ import annotations

import pytest

from rehab import selectors
from rehab.models import Patient
from tests.factories import ClinicFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic_patients():
    clinic = ClinicFactory()
    people = {
        "ann": PatientFactory(
            clinic=clinic,
            first_name="Ann",
            last_name="Smith",
            external_id="MRN-1001",
            email="ann.smith@mail.test",
        ),
        "anna": PatientFactory(
            clinic=clinic, first_name="Anna", last_name="Jones", external_id="MRN-2002", email=""
        ),
        "bob": PatientFactory(
            clinic=clinic,
            first_name="Bob",
            last_name="Smithers",
            external_id="",
            email="bob@clinic.test",
        ),
    }
    return Patient.objects.filter(clinic=clinic), people


def found(patients, search: str) -> set[str]:
    return {p.first_name for p in selectors.patients_matching(patients, search)}


def test_every_word_must_match_some_field(clinic_patients):
    patients, _ = clinic_patients
    assert found(patients, "ann smith") == {"Ann"}  # Anna is no Smith, Bob no Ann
    assert found(patients, "smith") == {"Ann", "Bob"}
    assert found(patients, "ann jones") == {"Anna"}
    assert found(patients, "ann nobody") == set()


def test_names_record_numbers_and_emails_match_in_any_case(clinic_patients):
    patients, _ = clinic_patients
    assert found(patients, "SMITHERS") == {"Bob"}
    assert found(patients, "mrn-2002") == {"Anna"}
    assert found(patients, "clinic.test") == {"Bob"}
    assert found(patients, "ann.smith@") == {"Ann"}


def test_no_words_leave_the_list_as_it_was(clinic_patients):
    patients, _ = clinic_patients
    assert found(patients, "") == found(patients, "   ") == {"Ann", "Anna", "Bob"}


def test_the_search_narrows_what_it_is_given_and_never_widens_it(clinic_patients):
    patients, people = clinic_patients
    PatientFactory(first_name="Ann", last_name="Smith")  # another clinic's Ann Smith
    only_ann = patients.filter(pk=people["ann"].pk)
    assert [p.pk for p in selectors.patients_matching(patients, "ann smith")] == [people["ann"].pk]
    assert found(only_ann, "smith") == {"Ann"}


def test_a_word_is_never_found_across_two_fields(clinic_patients):
    # The fields are searched as one text with a space between them (SearchedText), and a word
    # never holds a space: "Ann" + "Smith" is no "annsmith", nor "Smith" + "MRN-1001" "smithmrn".
    patients, _ = clinic_patients
    assert found(patients, "annsmith") == set()
    assert found(patients, "smithmrn") == set()
    assert found(patients, "2002ann") == set()
