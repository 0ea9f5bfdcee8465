"""Progress reports: requesting one, rendering its PDF in a worker, and the data it shows."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from rehab import outbox, selectors, wording
from rehab.audit import Actor, AuditAction, as_user, audit_record
from rehab.clinical import adherence
from rehab.errors import validation_error
from rehab.models import (
    AuditEvent,
    ClinicalNote,
    Patient,
    Plan,
    Report,
    SessionLog,
)
from rehab.models.webhooks import WebhookEvent
from rehab.services.common import check_dates
from rehab.services.webhooks import webhook_emit

REPORT_DEFAULT_WEEKS = 12


@transaction.atomic
def report_request(
    *,
    patient: Patient,
    audience: str,
    actor: Actor,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> Report:
    """Ask for a PDF report; a worker renders it (never the request)."""
    if audience not in Report.Audience.values:
        raise validation_error({"audience": "Choose clinician or patient."})
    # The clinician's version is written for clinicians (reasons, thresholds, caps in their
    # words); a patient asking for their own report, through any door, gets the plain one.
    user = as_user(actor)
    if audience != Report.Audience.PATIENT and user is not None and user.pk == patient.user_id:
        raise validation_error({"audience": "A patient receives the patient version."})
    check_dates(period_start=period_start, period_end=period_end)
    today = patient.local_today()
    plan = patient.plans.order_by("-created_at", "-id").first()
    period_end = period_end or today
    if period_start is None:
        period_start = period_end - dt.timedelta(weeks=REPORT_DEFAULT_WEEKS)
        # The report is the plan's: by default it starts no earlier than the plan did, so the
        # lists of reports give the period the PDF covers.
        if plan is not None and period_start < plan.start_date <= period_end:
            period_start = plan.start_date
    if period_start > period_end:
        raise validation_error({"period_start": "The period must start before it ends."})
    if period_end > today:
        raise validation_error({"period_end": "A report cannot cover days still to come."})
    if (period_end - period_start).days > 366:
        raise validation_error({"period_start": "A report covers at most a year."})
    report = Report.objects.create(
        patient=patient,
        clinic=patient.clinic,
        plan=plan,
        audience=audience,
        period_start=period_start,
        period_end=period_end,
        requested_by=as_user(actor),
    )
    audit_record(
        actor=actor,
        action=AuditAction.REPORT_REQUEST,
        obj=report,
        patient=patient,
        detail={"audience": audience},
    )
    # The pending row is the outbox record; the message is the fast path (rehab/outbox.py).
    outbox.enqueue_after_commit("report_render", report.pk)
    return report


def report_render(*, report_id: int, now: dt.datetime | None = None) -> str:
    """Render a report to its file, once: only the worker whose guarded update claims the
    pending report renders it, so a redelivered message or the sweep's does nothing more. A
    worker killed mid-render leaves the report 'rendering'; once its claim is older than the
    task's hard time limit the outbox sweep makes it pending and hands it over again. The file
    is written under a temporary name and renamed, so a reader never sees half a PDF."""
    from rehab import reports

    now = now or timezone.now()
    if not outbox.claim(
        Report,
        pk=report_id,
        waiting=Report.Status.PENDING,
        running=Report.Status.RENDERING,
        now=now,
    ):
        return "not_claimed"
    report = Report.objects.select_related("patient__clinic", "plan__protocol").get(pk=report_id)
    try:
        pdf = reports.build_report(_report_data(report, now))
    except ValueError as exc:
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.FAILED, error=str(exc)[:300]
        )
        return Report.Status.FAILED
    folder = django_settings.MEDIA_ROOT / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{report.pk}-{secrets.token_hex(8)}.pdf"
    partial_path = folder / f".{name}.part"
    partial_path.write_bytes(pdf)
    partial_path.replace(folder / name)
    ready = {
        "status": Report.Status.READY,
        "file_name": name,
        "size_bytes": len(pdf),
        "rendered_at": now,
        "error": "",
    }
    # The ready state, its audit event and its webhook deliveries commit together; without an
    # endpoint for it the two writes need no transaction (and its two statements) of their own.
    emits = WebhookEvent.REPORT_READY in report.patient.clinic.webhook_events
    with transaction.atomic() if emits else contextlib.nullcontext():
        Report.objects.filter(pk=report.pk).update(**ready)
        audit_record(
            actor=None, action=AuditAction.REPORT_RENDER, obj=report, patient=report.patient
        )
        for field, value in ready.items():
            setattr(report, field, value)
        webhook_emit(
            clinic=report.patient.clinic,
            event=WebhookEvent.REPORT_READY,
            resource=report,
            patient_id=report.patient_id,
        )
    return Report.Status.READY


def report_mark_failed(*, report_id: int, error: BaseException) -> None:
    Report.objects.filter(pk=report_id).exclude(status=Report.Status.READY).update(
        status=Report.Status.FAILED, error=f"{error.__class__.__name__}: {error}"[:300]
    )


def report_path(report: Report):
    return django_settings.MEDIA_ROOT / "reports" / report.file_name


# The adherence rule's day states as the PDF's calendar names them.
_CALENDAR_STATES = {
    adherence.DayState.DONE: "done",
    adherence.DayState.MISSED: "missed",
    adherence.DayState.PLANNED: "future",  # today, not logged yet: there is still time
    adherence.DayState.REST: "not_scheduled",
    adherence.DayState.PAUSED: "paused",
}


def _report_data(report: Report, now: dt.datetime):
    from rehab import reports

    patient, plan = report.patient, report.plan
    start, end = report.period_start, report.period_end
    today = patient.local_today(now)
    # The report is the plan's: its period starts no earlier than the plan did, and days before
    # the plan or after it ended are left blank, not counted as rest.
    if plan is not None and start < plan.start_date <= end:
        start = plan.start_date
    logs = list(
        SessionLog.objects.filter(patient=patient, date__gte=start, date__lte=end).order_by("date")
    )
    logged_days = {log.date for log in logs}
    calendar, tally = [], None
    if plan is None:
        for n in range((end - start).days + 1):
            day = start + dt.timedelta(days=n)
            state = "done" if day in logged_days else "future" if day > today else "not_scheduled"
            calendar.append(reports.CalendarDay(day=day, state=state))
    else:
        # The one adherence rule (docs/clinical.md "Adherence: one rule"): paused days and an
        # unlogged today are not missed, and a walk on a rest day is not a planned session.
        plan_days = plan.adherence_days()
        states = list(
            adherence.days(plan_days, first=start, last=end, walked=logged_days, today=today)
        )
        tally = adherence.tally(plan_days, states)
        for day, state in states:
            if state in (adherence.DayState.BEFORE, adherence.DayState.AFTER):
                continue  # outside the plan: blank
            if day > today and state is not adherence.DayState.PAUSED:
                pdf_state = "future"
            else:
                pdf_state = _CALENDAR_STATES[state]
            calendar.append(reports.CalendarDay(day=day, state=pdf_state))
    # Names as prescribed: a level capped by the screening is named by what it asks for.
    levels = [capped.level for capped in plan.capped_levels()] if plan else []
    changes = []
    if plan is not None:
        for decision in plan.decisions.filter(
            outcome__in=("advance", "regress"),
            status__in=("applied", "approved"),
            applied_on__gte=start,
            applied_on__lte=end,
        ).order_by("applied_on", "id"):
            changes.append(
                reports.LevelChange(
                    day=decision.applied_on,
                    from_level=levels[decision.from_level].name,
                    to_level=levels[decision.to_level].name,
                    # The words the pages show (rehab.wording), never the codes.
                    reason=(
                        wording.patient_reason(decision.reasons, decision.outcome)
                        if report.audience == Report.Audience.PATIENT
                        else " ".join(wording.reason_text(r) for r in decision.reasons)
                    ),
                )
            )
    outcome_rows = []
    for measure in sorted(set(patient.outcome_scores.values_list("measure", flat=True))):
        for change in selectors.outcome_changes(patient=patient, measure=measure):
            outcome_rows.append(
                reports.OutcomeRow(
                    measure=measure,
                    subscale=change.subscale,
                    baseline=change.baseline,
                    current=change.current,
                    threshold=change.threshold,
                    meaningful=change.meaningful,
                    worsened=change.worsened,
                )
            )
    return reports.ReportData(
        audience=report.audience,
        clinic_name=patient.clinic.name,
        patient_name=patient.full_name,
        record_number=patient.external_id,
        date_of_birth=patient.date_of_birth,
        condition=patient.get_condition_display(),
        clinician_name=_report_assigned_by(plan),
        period_start=start,
        period_end=end,
        generated_at=now,
        protocol_name=plan.protocol_name if plan else "No plan yet",
        plan_status=plan.status if plan else "none",
        current_level=levels[plan.current_level].name if plan else "",
        constraints=plan.constraints_obj.describe() if plan else (),
        override_reason=plan.override_reason if plan else "",
        level_changes=tuple(changes),
        adherence_percent=(100 * tally.done / tally.due) if tally and tally.due else None,
        planned_done=tally.done if tally else 0,  # no plan: nothing was planned
        planned_due=tally.due if tally else 0,
        rest_day_walks=tally.extra if tally else 0,
        calendar=tuple(calendar),
        sessions=selectors.session_points(logs),
        outcomes=tuple(outcome_rows),
        safety_events=tuple(
            reports.SafetyEvent(day=log.date, event=event, note=log.notes)
            for log in logs
            for event in log.adverse_events
        ),
        # The patient's protocol's references only, each with the claim it supports.
        citations=tuple(
            reports.Reference(text=c.get("text", ""), supports=c.get("supports", ""))
            for c in (plan.protocol.citations if plan else ())
            if isinstance(c, dict) and c.get("text")
        ),
        clinical_notes=_report_notes(report, start, end),
    )


def _report_notes(report: Report, start: dt.date, end: dt.date) -> tuple:
    """The period's clinical notes, oldest first, for the clinician's version only: they are
    the clinic's working notes, not written for the patient."""
    from rehab import reports

    if report.audience != Report.Audience.CLINICIAN:
        return ()
    notes = (
        ClinicalNote.objects.filter(patient=report.patient, noted_on__range=(start, end))
        .select_related("author")
        .order_by("noted_on", "created_at", "id")
    )
    return tuple(
        reports.ReportNote(
            day=note.noted_on,
            author=(note.author.get_full_name() or note.author.username) if note.author else "",
            text=note.text,
        )
        for note in notes
    )


def _report_assigned_by(plan: Plan | None) -> str:
    """Who assigned the plan, as the report's "Clinician" line says it: never blank. A plan
    assigned by a clinic system through an API key has no person; the assignment's audit event
    names the key."""
    if plan is None:
        return "No plan assigned"
    if plan.assigned_by is not None:
        return plan.assigned_by.get_full_name() or plan.assigned_by.get_username()
    event = (
        AuditEvent.objects.filter(
            action="plan.assign", object_type="plan", object_id=str(plan.pk), clinic=plan.clinic
        )
        .select_related("api_key")
        .order_by("at", "id")
        .first()
    )
    key = event.api_key if event is not None else None
    if key is not None:
        return f"Assigned by {key.name} (the clinic's system)"
    if event is not None and event.actor_label.startswith("api-key:"):
        # The key was deleted since; the audit trail kept its name.
        return f"Assigned by {event.actor_label.removeprefix('api-key:')} (the clinic's system)"
    return f"Assigned by {django_settings.SYSTEM_NAME}"
