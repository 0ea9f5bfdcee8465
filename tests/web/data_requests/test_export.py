"""A patient's whole record on request: "Download my data" in the portal and the patient
page's download for the clinic's clinicians. One zip (the FHIR Bundle, a readable PDF, a
README), a file name without personal data, never cached, audited; nobody else's."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from freezegun import freeze_time
from pypdf import PdfReader

from rehab import services
from rehab.audit import AuditAction
from rehab.models import AuditEvent
from tests.factories import TODAY, PatientFactory, UserFactory, active_plan, good_session

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_frozen")]


@pytest.fixture
def _frozen():
    with freeze_time("2026-03-02 12:00"):  # TODAY
        yield


@pytest.fixture
def patient(clinic):
    plan = active_plan(today=TODAY)
    patient = plan.patient
    patient.clinic = clinic
    patient.first_name, patient.last_name = "Łucja", "O'Brien <b>&"
    patient.user = UserFactory()
    patient.save()
    plan.clinic = clinic
    plan.save()
    services.session_log(
        plan=plan, actor=None, date=TODAY, notes="<script>sore & stiff</script>", **good_session()
    )
    return patient


def unzip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response)))


def pdf_text(archive: zipfile.ZipFile) -> str:
    reader = PdfReader(io.BytesIO(archive.read("summary.pdf")))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_portal_gives_the_patient_their_whole_record(client, patient):
    client.force_login(patient.user)

    response = client.get(reverse("patients:my_data"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="my-record-2026-03-02.zip"'
    assert "no-store" in response["Cache-Control"]
    archive = unzip(response)
    assert sorted(archive.namelist()) == ["README.txt", "everything.json", "summary.pdf"]
    bundle = json.loads(archive.read("everything.json"))
    assert bundle["resourceType"] == "Bundle"
    types = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert types[0] == "Patient"
    assert bundle["entry"][0]["resource"]["id"] == str(patient.pk)
    assert {"CarePlan", "ServiceRequest", "Observation"} <= set(types)
    text = pdf_text(archive)
    assert "Łucja O'Brien <b>&" in text
    assert "<script>sore & stiff</script>" in text  # escaped, printed as typed
    assert "Clinical notes" not in text  # the clinic's working notes are not the portal's
    assert "everything.json" in archive.read("README.txt").decode()
    event = AuditEvent.objects.get(action=AuditAction.PATIENT_EXPORT)
    assert event.patient_ref == patient.pk
    assert event.actor_id == patient.user_id


def test_the_portal_page_offers_the_download(client, patient):
    client.force_login(patient.user)
    page = client.get(reverse("patients:reminders")).content.decode()
    assert reverse("patients:my_data") in page
    assert "Download my data" in page


def test_a_clinician_downloads_a_patient_of_their_clinic(dashboard, patient):
    services.clinical_note_add(patient=patient, actor=None, text="Prefers mornings", noted_on=TODAY)
    response = dashboard.get(reverse("clinicians:patient_export", args=[patient.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="patient-{patient.pk}-record-2026-03-02.zip"'
    )
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(unzip(response))
    assert "Prefers mornings" in text
    page = dashboard.get(reverse("clinicians:patient", args=[patient.pk])).content.decode()
    assert reverse("clinicians:patient_export", args=[patient.pk]) in page


def test_a_clinician_of_another_clinic_gets_a_404(dashboard, stranger):
    response = dashboard.get(reverse("clinicians:patient_export", args=[stranger.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.PATIENT_EXPORT).exists()


def test_a_patient_gets_only_their_own_record(client, patient):
    other = PatientFactory(clinic=patient.clinic, user=UserFactory())
    client.force_login(other.user)
    archive = unzip(client.get(reverse("patients:my_data")))
    bundle = json.loads(archive.read("everything.json"))
    assert bundle["entry"][0]["resource"]["id"] == str(other.pk)
    assert {entry["resource"]["resourceType"] for entry in bundle["entry"]} == {
        "Patient",
        "Condition",
    }
    # The dashboard's route is not a patient's.
    response = client.get(reverse("clinicians:patient_export", args=[patient.pk]))
    assert response.status_code in (302, 403)
    assert not response.get("Content-Disposition")


@pytest.mark.parametrize(
    ("url", "login"),
    [
        (lambda p: reverse("patients:my_data"), "/portal/login/"),
        (lambda p: reverse("clinicians:patient_export", args=[p.pk]), "/clinic/login/"),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, patient, url, login):
    response = client.get(url(patient))
    assert response.status_code == 302
    assert response["Location"].startswith(login)


def test_the_export_is_get_only(dashboard, patient):
    response = dashboard.post(reverse("clinicians:patient_export", args=[patient.pk]))
    assert response.status_code == 405


def two_years_of_sessions(patient) -> None:
    """A session every day for two years on the patient's plan (bulk, not through the service:
    the export reads them, how they were logged does not matter here)."""
    import datetime as dt

    from rehab.models import SessionLog

    plan = patient.plans.get()
    values = good_session()
    SessionLog.objects.bulk_create(
        [
            SessionLog(
                plan=plan,
                patient=patient,
                date=TODAY - dt.timedelta(days=day),
                level_index=0,
                notes=f"Day {day}: fine",
                **values,
            )
            for day in range(1, 731)
        ]
    )


def test_the_export_costs_the_same_queries_for_one_session_or_two_years(
    client, patient, django_assert_num_queries
):
    client.force_login(patient.user)
    client.get(reverse("patients:reminders"))  # the session's own queries settle
    # Sign-in (session, user, principal), then the Bundle's plans and sessions, the summary's
    # plans, sessions, scores, decisions and screenings, and the audit event.
    with django_assert_num_queries(EXPORT_QUERIES):
        client.get(reverse("patients:my_data"))
    two_years_of_sessions(patient)
    with django_assert_num_queries(EXPORT_QUERIES):
        response = client.get(reverse("patients:my_data"))
    archive = unzip(response)
    assert len(json.loads(archive.read("everything.json"))["entry"]) > 3 * 730
    assert "Day 730: fine" in pdf_text(archive)


# $everything reads the outcome scores and the ready reports too (fhir-read2).
EXPORT_QUERIES = 14
