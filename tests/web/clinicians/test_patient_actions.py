"""Acting from the patient page: approving or rejecting a progression decision, and requesting,
following and downloading a PDF report. Refusals come back as messages or form errors."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from rehab.models import AuditEvent, Plan, ProgressionDecision, Report
from tests.factories import (
    TODAY,
    ClinicFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_frozen")]
Status = ProgressionDecision.Status


@pytest.fixture
def _frozen():
    with freeze_time("2026-03-02 12:00:00"):
        yield


def plan_for(clinic, *, start: dt.date = TODAY - dt.timedelta(days=30)) -> Plan:
    patient = PatientFactory(clinic=clinic)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=start
    )
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=start,
        today=start,
    )


def pending_advance(clinic) -> ProgressionDecision:
    """Sessions that meet every advance criterion on a plan that waits for approval."""
    plan = plan_for(clinic)
    for days_ago in range(21, 0, -2):
        services.session_log(
            plan=plan,
            actor=None,
            date=TODAY - dt.timedelta(days=days_ago),
            today=TODAY,
            pain_next_morning=2,
            **good_session(),
        )
    return plan.decisions.get(status=Status.PENDING)


def page_of(patient) -> str:
    return reverse("clinicians:patient", args=[patient.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Decisions -----------------------------------------------------------------------------------


def test_approving_moves_the_plan_up_and_records_who_approved(dashboard, clinic, clinician):
    decision = pending_advance(clinic)
    plan = decision.plan
    response = dashboard.post(reverse("clinicians:decision_approve", args=[decision.pk]))
    assert response.status_code == 302
    assert response["Location"] == page_of(plan.patient) + "#decisions"
    decision.refresh_from_db()
    plan.refresh_from_db()
    assert decision.status == Status.APPROVED
    assert decision.decided_by == clinician.user
    assert plan.current_level == decision.to_level == 1
    assert AuditEvent.objects.filter(
        action="progression.approve", actor=clinician.user, object_id=str(decision.pk)
    ).exists()
    [message] = messages_of(response)
    assert message.startswith("Approved: the advance from Level 1")


def test_rejecting_keeps_the_level_and_records_the_note(dashboard, clinic, clinician):
    decision = pending_advance(clinic)
    response = dashboard.post(
        reverse("clinicians:decision_reject", args=[decision.pk]),
        {"note": "  Wait until the review on Friday.  "},
    )
    assert response.status_code == 302
    decision.refresh_from_db()
    decision.plan.refresh_from_db()
    assert decision.status == Status.REJECTED
    assert decision.decided_by == clinician.user
    assert decision.note == "Wait until the review on Friday."
    assert decision.plan.current_level == 0
    # Back on the page, the decision is settled: no buttons, the note and the decider shown.
    html = dashboard.get(response["Location"]).content.decode()
    assert "Wait until the review on Friday." in html
    assert reverse("clinicians:decision_approve", args=[decision.pk]) not in html


def test_approving_a_decision_already_decided_is_a_message_not_an_error(dashboard, clinic):
    decision = pending_advance(clinic)
    services.decision_reject(decision=decision, actor=None)
    response = dashboard.post(reverse("clinicians:decision_approve", args=[decision.pk]))
    assert response.status_code == 302
    assert messages_of(response) == ["This decision is rejected, not awaiting approval."]
    decision.refresh_from_db()
    assert decision.status == Status.REJECTED
    decision.plan.refresh_from_db()
    assert decision.plan.current_level == 0
    # The message shows on the page the clinician is sent back to.
    page = dashboard.get(response["Location"])
    assert "This decision is rejected, not awaiting approval." in page.content.decode()


def test_approving_after_the_plan_changed_says_it_can_only_be_rejected(dashboard, clinic):
    decision = pending_advance(clinic)
    services.plan_pause(plan=decision.plan, actor=None, reason="Review first")
    response = dashboard.post(reverse("clinicians:decision_approve", args=[decision.pk]))
    assert response.status_code == 302
    assert messages_of(response) == [
        "The plan has changed since this decision was made; it can only be rejected."
    ]
    decision.refresh_from_db()
    assert decision.status == Status.PENDING


def test_a_note_too_long_is_refused_without_deciding(dashboard, clinic):
    decision = pending_advance(clinic)
    response = dashboard.post(
        reverse("clinicians:decision_reject", args=[decision.pk]), {"note": "x" * 1001}
    )
    assert response.status_code == 302
    assert "too long" in messages_of(response)[0]
    decision.refresh_from_db()
    assert decision.status == Status.PENDING


def test_another_clinics_decision_is_not_found(dashboard, clinic):
    decision = pending_advance(ClinicFactory())
    for name in ("decision_approve", "decision_reject"):
        response = dashboard.post(reverse(f"clinicians:{name}", args=[decision.pk]))
        assert response.status_code == 404
    decision.refresh_from_db()
    assert decision.status == Status.PENDING


def test_deciding_needs_a_post_and_a_signed_in_clinician(client, dashboard, clinic):
    decision = pending_advance(clinic)
    approve = reverse("clinicians:decision_approve", args=[decision.pk])
    assert dashboard.get(approve).status_code == 405
    client.logout()
    response = client.post(approve)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("clinicians:login"))
    decision.refresh_from_db()
    assert decision.status == Status.PENDING


# --- Reports -------------------------------------------------------------------------------------


def test_a_requested_report_becomes_ready_and_downloads_as_an_audited_pdf(
    dashboard, clinic, clinician, django_capture_on_commit_callbacks
):
    plan = plan_for(clinic)
    with django_capture_on_commit_callbacks(execute=True):  # the worker, run eagerly
        response = dashboard.post(
            reverse("clinicians:report_request", args=[plan.patient.pk]),
            {"audience": "patient", "period_start": "2026-02-01", "period_end": "2026-03-01"},
        )
    assert response.status_code == 302
    assert response["Location"] == page_of(plan.patient) + "#reports"
    report = Report.objects.get(patient=plan.patient)
    assert (report.audience, report.period_start, report.period_end, report.requested_by) == (
        "patient",
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
        clinician.user,
    )
    download_url = reverse("clinicians:report_download", args=[report.pk])

    status = dashboard.get(
        reverse("clinicians:report_status", args=[report.pk]), HTTP_ACCEPT="application/json"
    )
    assert status.json() == {
        "status": "ready",
        "status_display": "Ready",
        "download_url": download_url,
    }
    assert download_url in dashboard.get(response["Location"]).content.decode()

    before = AuditEvent.objects.filter(action="report.read").count()
    download = dashboard.get(download_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Cache-Control"] == "private, no-store"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    event = AuditEvent.objects.filter(action="report.read").latest("id")
    assert AuditEvent.objects.filter(action="report.read").count() == before + 1
    assert (event.actor, event.patient, event.object_id) == (
        clinician.user,
        plan.patient,
        str(report.pk),
    )


def test_a_report_still_rendering_shows_its_status_and_cannot_be_downloaded(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    report = services.report_request(patient=patient, audience="clinician", actor=None)
    status_url = reverse("clinicians:report_status", args=[report.pk])
    assert dashboard.get(status_url, HTTP_ACCEPT="application/json").json() == {
        "status": "pending",
        "status_display": "Pending",
        "download_url": None,
    }
    html = dashboard.get(status_url).content.decode()
    assert "<dd>Pending</dd>" in html
    assert f'href="{status_url}">Refresh</a>' in html
    download = dashboard.get(reverse("clinicians:report_download", args=[report.pk]))
    assert download.status_code == 409
    assert "The report is pending; download it once it is ready." in download.content.decode()
    assert not AuditEvent.objects.filter(action="report.read").exists()
    # On the patient page: the status to poll, and a link that works without JavaScript.
    page = dashboard.get(page_of(patient)).content.decode()
    assert f'data-status="pending" data-status-url="{status_url}"' in page
    assert f'href="{page_of(patient)}#reports">Refresh</a>' in page


def test_a_report_whose_file_is_gone_is_a_conflict_not_a_crash(
    dashboard, clinic, django_capture_on_commit_callbacks
):
    patient = PatientFactory(clinic=clinic)
    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_request(patient=patient, audience="clinician", actor=None)
    report.refresh_from_db()
    services.report_path(report).unlink()
    response = dashboard.get(reverse("clinicians:report_download", args=[report.pk]))
    assert response.status_code == 409
    assert "no longer there" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"period_start": "2026-02-20", "period_end": "2026-02-10"},
            "period_start",
            "The period must start before it ends.",
        ),
        ({"period_end": "2026-04-01"}, "period_end", "A report cannot cover days still to come."),
        ({"period_start": "2026-02-31"}, "period_start", "Enter a valid date."),
    ],
    ids=["reversed", "future", "not-a-date"],
)
def test_a_bad_period_is_shown_on_the_form_with_the_input_kept(
    dashboard, clinic, data, field, message
):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(
        reverse("clinicians:report_request", args=[patient.pk]), {"audience": "patient", **data}
    )
    assert response.status_code == 400
    html = response.content.decode()
    # The message sits with its field.
    assert re.search(rf'id="id_{field}_error">(<p>)?{re.escape(message)}<', html)
    for name, value in data.items():
        assert re.search(rf'name="{name}" value="{value}"', html)
    assert re.search(r'value="patient"[^>]*checked|checked[^>]*value="patient"', html)
    assert not Report.objects.exists()
    # The whole page is still there around the form.
    assert 'id="audit"' in html


def test_reports_of_another_clinic_are_not_found(dashboard, stranger):
    report = services.report_request(patient=stranger, audience="clinician", actor=None)
    assert dashboard.get(reverse("clinicians:report_status", args=[report.pk])).status_code == 404
    download = reverse("clinicians:report_download", args=[report.pk])
    assert dashboard.get(download).status_code == 404
    request = reverse("clinicians:report_request", args=[stranger.pk])
    assert dashboard.post(request, {"audience": "clinician"}).status_code == 404
    assert Report.objects.filter(patient=stranger).count() == 1


def test_a_patient_signed_in_cannot_use_the_dashboards_report_links(client, clinic):
    patient = PatientFactory(clinic=clinic, user=UserFactory())
    report = services.report_request(patient=patient, audience="patient", actor=None)
    client.force_login(patient.user)
    for name in ("report_status", "report_download"):
        response = client.get(reverse(f"clinicians:{name}", args=[report.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse("patients:today")
