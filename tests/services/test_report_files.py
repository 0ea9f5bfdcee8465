"""A report's file, handed to the reader every door serves (rehab/services/report_files.py): only
to whoever may read it, with one and the same audit event whichever door asks."""

from __future__ import annotations

import pytest

from rehab import services
from rehab.access import principal_for_api_key, principal_for_user
from rehab.models import AuditEvent, Report
from tests.factories import TODAY, ClinicianFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, user=UserFactory())


def a_report(patient, *, audience: str = "patient", status: str = "ready") -> Report:
    """A report as the worker leaves it (its file written), without rendering a PDF."""
    report = services.report_request(
        patient=patient, audience=audience, actor=None, period_start=TODAY, period_end=TODAY
    )
    if status == Report.Status.READY:
        Report.objects.filter(pk=report.pk).update(status=status, file_name=f"{report.pk}-x.pdf")
        report.refresh_from_db()
        path = services.report_path(report)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 the report")
    else:
        Report.objects.filter(pk=report.pk).update(status=status)
        report.refresh_from_db()
    return report


def reads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="report.read"))


def test_a_clinician_of_the_clinic_gets_the_file_and_one_audit_event(clinician, patient):
    report = a_report(patient, audience="clinician")
    file = services.report_download(
        principal=principal_for_user(clinician.user), report_id=report.pk
    )
    assert file.open().read() == b"%PDF-1.4 the report"
    assert (file.filename, file.content_type) == (
        f"progress-report-{patient.pk}-2026-03-02.pdf",
        "application/pdf",
    )
    [event] = reads()
    assert (event.actor, event.api_key, event.patient, event.clinic) == (
        clinician.user,
        None,
        patient,
        patient.clinic,
    )
    assert (event.object_type, event.object_id, event.detail) == (
        "report",
        str(report.pk),
        {"audience": "clinician"},
    )


def test_a_clinic_systems_key_gets_the_file_under_its_own_name(clinic, actor, patient):
    api_key, _ = services.api_key_create(clinic=clinic, name="EHR bridge", actor=actor)
    report = a_report(patient)
    file = services.report_download(principal=principal_for_api_key(api_key), report_id=report.pk)
    assert file.filename == f"progress-report-{patient.pk}-2026-03-02.pdf"
    [event] = reads()
    assert (event.api_key, event.actor_label, event.object_id, event.detail) == (
        api_key,
        "api-key:EHR bridge",
        str(report.pk),
        {"audience": "patient"},
    )


def test_the_patient_gets_their_own_plain_version_saved_as_theirs(patient):
    report = a_report(patient)
    file = services.report_download(principal=principal_for_user(patient.user), report_id=report.pk)
    assert file.filename == "my-progress-report-2026-03-02.pdf"
    [event] = reads()
    assert (event.actor, event.patient, event.object_id, event.detail) == (
        patient.user,
        patient,
        str(report.pk),
        {"audience": "patient"},
    )


def test_nobody_else_learns_the_report_exists(clinic, patient):
    clinicians_version = a_report(patient, audience="clinician")
    neighbour = PatientFactory(clinic=clinic, user=UserFactory())
    elsewhere = ClinicianFactory()
    refused = [
        (principal_for_user(patient.user), clinicians_version),  # not the patient's to read
        (principal_for_user(neighbour.user), a_report(patient)),  # another patient's
        (principal_for_user(elsewhere.user), a_report(patient)),  # another clinic's
    ]
    for principal, report in refused:
        with pytest.raises(Report.DoesNotExist):
            services.report_download(principal=principal, report_id=report.pk)
    assert reads() == []


@pytest.mark.parametrize("status", ["pending", "rendering", "failed"])
def test_a_report_without_its_file_yet_is_a_conflict_naming_its_status(clinician, patient, status):
    report = a_report(patient, status=status)
    with pytest.raises(services.ReportUnavailable) as refused:
        services.report_download(principal=principal_for_user(clinician.user), report_id=report.pk)
    assert (refused.value.code, refused.value.status, refused.value.report) == (
        "report_not_ready",
        409,
        report,
    )
    assert f"The report is {status}" in refused.value.message
    assert reads() == []


def test_a_report_whose_file_is_gone_says_so_and_audits_nothing(clinician, patient):
    report = a_report(patient)
    services.report_path(report).unlink()
    with pytest.raises(services.ReportUnavailable) as refused:
        services.report_download(principal=principal_for_user(clinician.user), report_id=report.pk)
    assert (refused.value.code, refused.value.status) == ("report_missing", 409)
    assert reads() == []
