"""A ready report's PDF handed to whoever may read it: authorised, audited once, for every door.

The REST API, the dashboard and the portal each turn the answer into their own response (a file,
a 404, a 409 or a message); who may read which report and what the audit trail records are
decided here alone, so a download leaves the same event whichever door it came through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rehab import selectors
from rehab.access import Principal
from rehab.audit import AuditAction, audit_record
from rehab.errors import ErrorCode, RehabError
from rehab.models import Report
from rehab.services.reports import report_path

REPORT_CONTENT_TYPE = "application/pdf"


@dataclass(frozen=True)
class ReportFile:
    """What a door needs to send the file: where it is, the name to save it as, its type."""

    report: Report
    path: Path
    filename: str
    content_type: str = REPORT_CONTENT_TYPE

    def open(self):
        return self.path.open("rb")


class ReportUnavailable(RehabError):
    """The report is the reader's but has no file to give (still rendering, failed, or its file
    is gone): `report` lets a door say which, with its status."""

    def __init__(self, code: str, message: str, *, report: Report) -> None:
        super().__init__(code, message, status=409)
        self.report = report


def report_download(*, principal: Principal, report_id: int) -> ReportFile:
    """The report's file for `principal`: a clinician or a clinic system reads any report of
    their clinic, a patient only the plain-language versions of their own. Report.DoesNotExist
    for anyone else's (a door's 404: whether it exists is not theirs to know); ReportUnavailable
    when there is no file yet or any more. Records one `report.read` event, only when the file
    is handed over."""
    report = selectors.reports_for(principal).get(pk=report_id)
    if report.status != Report.Status.READY:
        raise ReportUnavailable(
            ErrorCode.REPORT_NOT_READY,
            f"The report is {report.get_status_display().lower()}; download it once it is ready.",
            report=report,
        )
    path = report_path(report)
    if not path.is_file():
        raise ReportUnavailable(
            ErrorCode.REPORT_MISSING,
            "The report's file is no longer there; request the report again.",
            report=report,
        )
    audit_record(
        actor=principal.actor,
        action=AuditAction.REPORT_READ,
        obj=report,
        patient=report.patient,
        clinic=principal.clinic,
        detail={"audience": report.audience},
    )
    if principal.is_staff:
        filename = f"progress-report-{report.patient_id}-{report.period_end:%Y-%m-%d}.pdf"
    else:
        filename = f"my-progress-report-{report.period_end:%Y-%m-%d}.pdf"
    return ReportFile(report=report, path=path, filename=filename)
