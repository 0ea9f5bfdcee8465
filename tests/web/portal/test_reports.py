"""The patient's own progress report in the portal: made on request by the worker, downloaded
through an authorising view, never someone else's and never the clinician's version."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from rehab.models import AuditEvent, Report
from tests.factories import TODAY, PatientFactory, UserFactory, active_plan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_frozen")]
URL = "/portal/reports/"


@pytest.fixture
def _frozen():
    with freeze_time("2026-03-02 12:00"):  # TODAY
        yield


@pytest.fixture
def patient(client):
    plan = active_plan(today=TODAY)
    plan.patient.user = UserFactory()
    plan.patient.save()
    client.force_login(plan.patient.user)
    return plan.patient


def download_url(report: Report) -> str:
    return reverse("patients:report_download", args=[report.pk])


def ready_report(patient, audience: str = "patient") -> Report:
    report = services.report_request(patient=patient, audience=audience, actor=None)
    services.report_render(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.READY
    return report


def test_the_url_names_are_the_portals():
    assert reverse("patients:reports") == URL
    assert reverse("patients:report_download", args=[7]) == "/portal/reports/7/download/"


def test_a_requested_report_is_made_and_downloads_as_a_pdf(
    client, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL)
    assert response.status_code == 302
    assert response["Location"] == URL
    report = Report.objects.get(patient=patient)
    assert (report.audience, report.requested_by) == ("patient", patient.user)

    page = client.get(URL)
    assert "We are making your progress report." in page.content.decode()
    assert f'href="{download_url(report)}"' in page.content.decode()

    download = client.get(download_url(report))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Cache-Control"] == "private, no-store"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_the_download_is_audited_like_the_apis(client, patient):
    report = ready_report(patient)
    b"".join(client.get(download_url(report)).streaming_content)
    event = AuditEvent.objects.get(action="report.read", patient=patient)
    assert (event.actor, event.object_type, event.object_id, event.detail) == (
        patient.user,
        "report",
        str(report.pk),
        {"audience": "patient"},
    )


def test_a_report_being_prepared_is_said_so_and_not_downloaded(client, patient):
    report = services.report_request(patient=patient, audience="patient", actor=None)
    page = client.get(URL).content.decode()
    assert "Being prepared…" in page
    assert 'href="/portal/reports/"' in page  # the refresh link works without JavaScript
    # and a few lines check by themselves where JavaScript runs (a file: the policy allows no
    # inline script)
    assert 'src="/static/js/report_list_refresh.js"' in page

    response = client.get(download_url(report), follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "still being prepared" in response.content.decode()


def test_a_failed_report_asks_for_a_new_one(client, patient):
    report = services.report_request(patient=patient, audience="patient", actor=None)
    Report.objects.filter(pk=report.pk).update(status=Report.Status.FAILED, error="boom")
    response = client.get(download_url(report), follow=True)
    assert response.status_code == 200
    assert "could not make that report" in response.content.decode()
    assert "boom" not in response.content.decode()


def test_a_report_whose_file_is_gone_is_not_a_server_error(client, patient):
    report = ready_report(patient)
    services.report_path(report).unlink()
    response = client.get(download_url(report), follow=True)
    assert response.status_code == 200
    assert "no longer there" in response.content.decode()


def test_someone_elses_report_is_not_found(client, patient, stranger):
    theirs = ready_report(stranger)
    same_clinic = PatientFactory(clinic=patient.clinic)
    neighbours = ready_report(same_clinic)
    assert client.get(download_url(theirs)).status_code == 404
    assert client.get(download_url(neighbours)).status_code == 404
    page = client.get(URL).content.decode()
    assert download_url(theirs) not in page
    assert download_url(neighbours) not in page


def test_the_clinicians_version_of_the_patients_own_report_is_not_found(client, patient):
    report = ready_report(patient, audience="clinician")
    assert client.get(download_url(report)).status_code == 404
    assert download_url(report) not in client.get(URL).content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    plan = active_plan(today=TODAY)
    report = ready_report(plan.patient)
    for target in (URL, download_url(report)):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("patients:login"))
    assert client.post(URL).status_code == 302
    assert not Report.objects.filter(requested_by__isnull=False).exists()


def test_a_clinician_cannot_use_the_patients_download(client, clinician):
    plan = active_plan(today=TODAY)
    report = ready_report(plan.patient)
    client.force_login(clinician.user)
    response = client.get(download_url(report))
    assert response.status_code == 302
    assert response["Location"] == reverse("clinicians:today")


def test_a_refused_request_is_shown_not_a_server_error(client, patient, monkeypatch):
    from rehab.errors import RehabError

    def refuse(**kwargs):
        raise RehabError("validation_error", "A report cannot cover days still to come.")

    monkeypatch.setattr(services, "report_request", refuse)
    response = client.post(URL)
    assert response.status_code == 400
    assert "A report cannot cover days still to come." in response.content.decode()


def test_the_query_count_does_not_grow_with_the_reports(client, patient):
    def count() -> int:
        client.get(URL)  # the session's first request refreshes its expiry
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    ready_report(patient)
    few = count()
    for _ in range(25):
        services.report_request(patient=patient, audience="patient", actor=None)
    many = count()
    # session + user, principal (clinician, patient), reports, the audit write
    assert few == many == 6
