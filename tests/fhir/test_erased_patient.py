"""An erased patient (services.patient_erase) is gone from the FHIR door and the REST API: their
reads are 404 and no search lists them, even what the clinic's legal hold keeps."""

from __future__ import annotations

from rehab import services
from rehab.access import principal_for_user
from tests.factories import ClinicianFactory


def erase(world) -> None:
    admin = ClinicianFactory(clinic=world.clinic1, is_clinic_admin=True)
    services.patient_erase(
        patient=world.patient_a, by=principal_for_user(admin.user), reason="patient_request"
    )


def test_an_erased_patients_reads_are_404_and_searches_leave_them_out(world):
    pk = world.patient_a.pk
    plan = world.plan.pk
    erase(world)

    for path in (
        f"/fhir/r4/Patient/{pk}",
        f"/fhir/r4/Patient/{pk}/$everything",
        f"/fhir/r4/Condition/{pk}",
        f"/fhir/r4/CarePlan/{plan}",
        f"/api/v1/patients/{pk}/",
    ):
        assert world.key1.get(path).status_code == 404, path
    for path in (f"/fhir/r4/Observation?patient={pk}", f"/fhir/r4/CarePlan?patient={pk}"):
        body = world.key1.get(path).json()
        assert not body.get("entry"), path
    # Their own token ended with their sign-in.
    assert world.token_a.get(f"/fhir/r4/Patient/{pk}").status_code == 401
