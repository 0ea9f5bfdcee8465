"""PDF progress reports through the API: requested, rendered by a worker, served only through
an authorising view."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from rehab import services
from rehab.models import Report

pytestmark = pytest.mark.django_db
R = "/api/v1"


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_requested_report_is_rendered_by_the_worker_and_downloadable(
    world, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"{R}/reports/", {"patient": world.patient_a.pk, "audience": "clinician"}
        )
    assert response.status_code == 202
    assert response.json()["status"] == "pending"  # the answer comes before the rendering
    report_id = response.json()["id"]
    status = api.get(f"{R}/reports/{report_id}/").json()
    assert status["status"] == "ready"
    download = api.get(f"{R}/reports/{report_id}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Cache-Control"] == "private, no-store"
    content = b"".join(download.streaming_content)
    text = pdf_text(content)
    assert world.patient_a.full_name in text
    assert world.clinic1.name in text
    assert "Page 1 of" in text


def test_a_patient_gets_their_plain_language_version_only(world):
    patient = world.clients["patient_a"]
    refused = patient.post(
        f"{R}/reports/", {"patient": world.patient_a.pk, "audience": "clinician"}, format="json"
    )
    assert refused.status_code == 400
    assert "audience" in refused.json()["fields"]
    download = patient.get(f"{R}/reports/{world.report.pk}/download/")
    assert download.status_code == 200
    text = pdf_text(b"".join(download.streaming_content))
    assert "criteria_met" not in text


def test_a_report_not_ready_yet_cannot_be_downloaded(world, api):
    report = services.report_request(patient=world.patient_a, audience="patient", actor=None)
    response = api.get(f"{R}/reports/{report.pk}/download/")
    assert response.status_code == 409
    assert response.json()["code"] == "report_not_ready"


def test_a_report_interrupted_mid_render_renders_again_and_ends_ready_once(world):
    from rehab import outbox

    report = services.report_request(patient=world.patient_a, audience="patient", actor=None)
    claimed = timezone.now()
    Report.objects.filter(pk=report.pk).update(status="rendering", claimed_at=claimed, attempts=1)
    # While its worker may still be at it, a redelivered message renders nothing.
    assert services.report_render(report_id=report.pk) == "not_claimed"
    # Past the render's hard time limit the claim is dead: the sweep hands it over again.
    due = outbox.sweep(now=claimed + outbox.REPORT_CLAIM_DEAD_AFTER + dt.timedelta(seconds=1))
    assert due.report_ids == [report.pk]
    assert services.report_render(report_id=report.pk) == "ready"
    assert services.report_render(report_id=report.pk) == "not_claimed"
    report.refresh_from_db()
    assert report.status == "ready"
    assert services.report_path(report).read_bytes().startswith(b"%PDF")
    assert not list(services.report_path(report).parent.glob(".*.part"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period_start": "2026-03-10", "period_end": "2026-03-01"}, "period_start"),
        ({"period_end": "2999-01-01"}, "period_end"),
        ({"period_start": "2020-01-01", "period_end": "2026-01-01"}, "period_start"),
        ({"audience": "auditor"}, "audience"),
    ],
)
def test_bad_report_periods_and_audiences_are_refused(world, api, body, field):
    payload = {"patient": world.patient_a.pk, "audience": "patient", **body}
    response = api.post(f"{R}/reports/", payload)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_reports_are_stored_outside_any_public_url(world, settings):
    world.report.refresh_from_db()
    assert world.report.file_name
    path = services.report_path(world.report)
    assert str(path).startswith(str(settings.MEDIA_ROOT))
    assert not str(path).startswith(str(settings.STATIC_ROOT))
    assert not hasattr(settings, "MEDIA_URL") or settings.MEDIA_URL in ("", "/")


def test_a_report_whose_rendering_crashes_says_it_failed_and_why(world, monkeypatch):
    from rehab import reports, tasks

    def explode(data):
        raise RuntimeError("disk full")

    monkeypatch.setattr(reports, "build_report", explode)
    report = services.report_request(patient=world.patient_a, audience="patient", actor=None)
    with pytest.raises(RuntimeError):
        tasks.report_render.delay(report.pk)
    report.refresh_from_db()
    assert report.status == "failed"
    assert report.error == "RuntimeError: disk full"


def test_a_report_whose_file_is_gone_says_so_instead_of_failing(world, api):
    world.report.refresh_from_db()
    services.report_path(world.report).unlink()
    response = api.get(f"{R}/reports/{world.report.pk}/download/")
    assert response.status_code == 409
    assert response.json()["code"] == "report_missing"
