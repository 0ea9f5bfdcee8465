"""A patient's data on request in a real browser: the patient downloads their record from the
portal; a clinic administrator erases a record behind its typed confirmation. axe-core checks
the pages on the way."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import expect

from rehab.models import Patient
from tests.factories import ClinicianFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_patient_downloads_their_data(page, live_server, sign_in, axe_check):
    patient = PatientFactory(
        first_name="Maria", user=UserFactory(username="maria"), clinic__timezone="UTC"
    )
    sign_in(page, "maria", door="patients")
    page.goto(f"{live_server.url}/portal/reminders/")
    link = page.get_by_role("link", name="Download my data")
    expect(link).to_be_visible()
    axe_check(page)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.startswith("my-record-")
    assert "Maria" not in download.suggested_filename
    with zipfile.ZipFile(download.path()) as archive:
        assert sorted(archive.namelist()) == ["README.txt", "everything.json", "summary.pdf"]
    assert Patient.objects.get(pk=patient.pk).erased_at is None


def test_an_administrator_erases_a_record(page, live_server, sign_in, axe_check):
    admin = ClinicianFactory(user__username="hughes", is_clinic_admin=True, clinic__timezone="UTC")
    patient = PatientFactory(clinic=admin.clinic, last_name="Lopez", external_id="MRN-9")
    sign_in(page, "hughes")
    page.goto(f"{live_server.url}/clinic/patients/{patient.pk}/")
    page.get_by_role("link", name="Erase the record…").click()
    axe_check(page)
    page.get_by_label("Type the record number to confirm").fill("MRN-8")
    page.get_by_role("button", name="Erase this record").click()
    expect(page.get_by_text("That is not this patient's record number")).to_be_visible()
    page.get_by_label("Type the record number to confirm").fill("MRN-9")
    page.get_by_role("button", name="Erase this record").click()
    expect(page.get_by_role("heading", name="Retention review")).to_be_visible()
    expect(page.get_by_text(f"Record {patient.pk} is erased.")).to_be_visible()
    axe_check(page)
    assert Patient.objects.get(pk=patient.pk).erased_at is not None
