"""Who sees what: the API's credentials and scoping. Another clinic's ids are 404s, the same as
ids that do not exist; a patient's token reads only their own resources."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from rehab import services
from rehab.models import SessionLog
from tests.factories import ClinicianFactory
from tests.fhir.conftest import client_with, entries, fhir_json, outcome

pytestmark = pytest.mark.django_db


def resource_urls(patient, plan, session) -> list[str]:
    return [
        f"Patient/{patient.pk}",
        f"Condition/{patient.pk}",
        f"CarePlan/{plan.pk}",
        f"ServiceRequest/{plan.pk}",
        f"Observation/{session.pk}-pain",
        f"Observation/{session.pk}-minutes",
        f"Observation/{session.pk}-effort",
        f"Patient/{patient.pk}/$everything",
    ]


def patient_a_urls(world) -> list[str]:
    return resource_urls(world.patient_a, world.plan, world.sessions[0])


def test_every_resource_of_the_clinic_is_read_with_its_key(world):
    for url in patient_a_urls(world):
        fhir_json(world.key1.get(f"/fhir/r4/{url}"))


def test_another_clinics_ids_are_404_outcomes_for_every_type(world):
    for url in patient_a_urls(world):
        message = outcome(world.key2.get(f"/fhir/r4/{url}"), 404, "not-found")
        assert "is not known" in message


def test_another_clinics_resources_are_not_found_by_search(world):
    z = world.patient_z
    assert entries(fhir_json(world.key1.get("/fhir/r4/Patient?identifier=MRN-001"))) == [
        f"Patient/{world.patient_a.pk}"
    ]
    for kind in ("Condition", "CarePlan", "ServiceRequest", "Observation"):
        assert entries(fhir_json(world.key1.get(f"/fhir/r4/{kind}?patient={z.pk}"))) == []


def test_a_patients_token_reads_their_own_resources(world):
    for url in patient_a_urls(world):
        fhir_json(world.token_a.get(f"/fhir/r4/{url}"))


def test_a_patients_token_sees_no_other_patient(world):
    b = world.patient_b
    for url in (f"Patient/{b.pk}", f"Condition/{b.pk}", f"Patient/{b.pk}/$everything"):
        outcome(world.token_a.get(f"/fhir/r4/{url}"), 404, "not-found")
    a = f"Patient/{world.patient_a.pk}"
    assert entries(fhir_json(world.token_a.get("/fhir/r4/Patient"))) == [a]
    assert entries(fhir_json(world.token_a.get(f"/fhir/r4/Condition?patient={b.pk}"))) == []
    observations = entries(fhir_json(world.token_a.get("/fhir/r4/Observation?_count=100")))
    assert len(observations) == 3 * len(world.sessions)
    assert SessionLog.objects.exclude(patient=world.patient_a).exists()


def test_a_clinicians_session_reads_the_clinic(world):
    client = APIClient()
    client.force_login(world.clinician.user)
    fhir_json(client.get(f"/fhir/r4/Patient/{world.patient_a.pk}"))
    other = APIClient()
    other.force_login(ClinicianFactory(clinic=world.clinic2).user)
    outcome(other.get(f"/fhir/r4/Patient/{world.patient_a.pk}"), 404, "not-found")


@pytest.mark.parametrize("url", ["Patient", "Patient/1", "Patient/1/$everything", "Observation"])
def test_no_credentials_is_401_outcome_naming_the_scheme(world, url):
    response = world.anonymous.get(f"/fhir/r4/{url}")
    outcome(response, 401, "login")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_unknown_revoked_and_malformed_credentials_are_401(world):
    key, raw = services.api_key_create(clinic=world.clinic1, name="Old", actor=None)
    services.api_key_revoke(api_key=key, actor=None)
    for header in ("Api-Key rw_nope_nope", f"Api-Key {raw}", "Token nope", "Api-Key"):
        outcome(client_with(header).get("/fhir/r4/Patient"), 401, "login")


def test_a_user_with_neither_clinic_nor_patient_record_is_403(world):
    from tests.factories import UserFactory

    client = APIClient()
    client.force_login(UserFactory())
    outcome(client.get("/fhir/r4/Patient"), 403, "forbidden")


def test_metadata_needs_no_credentials(world):
    body = fhir_json(world.anonymous.get("/fhir/r4/metadata"))
    assert body["resourceType"] == "CapabilityStatement"
    # Not even a bad one: it shows no patient data.
    fhir_json(client_with("Api-Key rw_nope_nope").get("/fhir/r4/metadata"))
