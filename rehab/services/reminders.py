"""Session reminders: one row per due day, sending it, and following a patient's settings."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rehab import notify, scheduling
from rehab.audit import Actor, AuditAction, audit_record
from rehab.clinical import adherence
from rehab.clinical import protocols as clinical_protocols
from rehab.models import (
    Patient,
    Plan,
    Reminder,
    SessionLog,
)
from rehab.services.common import site_url

REMINDER_BATCH_SIZE = 500


def reminders_plan(*, now: dt.datetime | None = None, batch_size: int = REMINDER_BATCH_SIZE) -> int:
    """Create today's reminder rows for every active plan with a session due, and a nudge for a
    session missed yesterday. Safe to run any number of times, also at once: the unique
    (patient, due_date, kind) constraint makes a second row impossible. Costs the same few
    queries per batch of plans, however many plans there are."""
    now = now or timezone.now()
    created = 0
    plans = (
        Plan.objects.filter(
            status=Plan.Status.ACTIVE,
            patient__reminders_enabled=True,
            patient__archived_at__isnull=True,
        )
        .exclude(patient__reminder_channel=Patient.Channel.NONE)
        .select_related("patient__clinic")
        .order_by("pk")
    )
    last_pk = 0
    while True:
        batch = list(plans.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            return created
        last_pk = batch[-1].pk
        created += _reminders_for_batch(batch, now)


def _reminders_for_batch(batch: list[Plan], now: dt.datetime) -> int:
    days = {plan.pk: scheduling.local_day(now, plan.patient.timezone) for plan in batch}
    logged = set(
        SessionLog.objects.filter(
            plan__in=batch, date__gte=min(days.values()) - dt.timedelta(days=1)
        ).values_list("plan_id", "date")
    )
    rows = []
    for plan in batch:
        today = days[plan.pk]
        yesterday = today - dt.timedelta(days=1)
        patient, clinic = plan.patient, plan.patient.clinic
        moment = scheduling.reminder_moment(
            day=today,
            at=patient.reminder_time,
            timezone=patient.timezone,
            quiet_start=clinic.quiet_hours_start,
            quiet_end=clinic.quiet_hours_end,
        )
        common = {
            "patient": patient,
            "plan": plan,
            "due_date": today,
            "channel": patient.reminder_channel,
            "scheduled_for": moment,
        }
        if today.weekday() in plan.schedule_days and today >= plan.start_date:
            rows.append(Reminder(kind=Reminder.Kind.SESSION, **common))
        # Missed by the one adherence rule: a planned day of the plan, not paused, now over.
        missed = adherence.day_state(
            plan.adherence_days(), yesterday, walked=(plan.pk, yesterday) in logged, today=today
        )
        if missed is adherence.DayState.MISSED:
            rows.append(Reminder(kind=Reminder.Kind.NUDGE, **common))
    if not rows:
        return 0
    existing = set(
        Reminder.objects.filter(
            plan__in=batch, due_date__in={row.due_date for row in rows}
        ).values_list("patient_id", "due_date", "kind")
    )
    new = [r for r in rows if (r.patient_id, r.due_date, r.kind) not in existing]
    # ignore_conflicts covers the race the read above cannot: another dispatch inserting the
    # same row in between. The unique constraint, not this count, is what guarantees one row.
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def reminder_send(
    *, reminder_id: int, now: dt.datetime | None = None, final_attempt: bool = True
) -> str:
    """Send one reminder, exactly once, and record the result on it.

    The guarded update claims the row: a second worker (a redelivered task, a second dispatch)
    finds nothing to claim and stops. A transient failure puts the row back to pending and
    raises, so the task retries; on the final attempt it is recorded as failed.
    """
    now = now or timezone.now()
    claimed = Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.SENDING, updated_at=now
    )
    if not claimed:
        return "not_claimed"
    reminder = Reminder.objects.select_related("patient__clinic", "patient__user", "plan").get(
        pk=reminder_id
    )
    patient, plan = reminder.patient, reminder.plan
    skip = _reminder_skip_reason(reminder, now)
    if skip:
        return _reminder_finish(reminder, Reminder.Status.SKIPPED, skip)
    prescription = plan.current_prescription().level
    # Only a patient who can sign in is sent to the portal; the others are told to call.
    portal = patient.user is not None and patient.user.is_active
    context = {
        "reminder": reminder,
        "patient": patient,
        "clinic": patient.clinic,
        "prescription": prescription.describe(),
        "safety": clinical_protocols.headline_safety(prescription).text,
        "portal_url": site_url(reverse("patients:today")) if portal else "",
        "reminders_url": site_url(reverse("patients:reminders")) if portal else "",
    }
    try:
        if reminder.channel == Patient.Channel.EMAIL:
            subject = (
                "We missed you yesterday"
                if reminder.kind == Reminder.Kind.NUDGE
                else "Today's backward-walking session"
            )
            notify.send_email(
                to=patient.email,
                subject=subject,
                text=render_to_string("emails/reminder.txt", context),
                html=render_to_string("emails/reminder.html", context),
            )
        else:
            # No health details in a text message: phones are shared and screens are seen.
            notify.send_sms(
                to=patient.phone,
                text=f"{patient.clinic.name}: your walking session is due today."
                + (" Your portal has today's plan." if portal else ""),
            )
    except notify.TransientSendError as exc:
        if final_attempt:
            return _reminder_finish(reminder, Reminder.Status.FAILED, str(exc))
        Reminder.objects.filter(pk=reminder.pk).update(
            status=Reminder.Status.PENDING, detail=str(exc)
        )
        raise
    except notify.PermanentSendError as exc:
        return _reminder_finish(reminder, Reminder.Status.FAILED, str(exc))
    reminder.sent_at = now
    return _reminder_finish(reminder, Reminder.Status.SENT, "")


REMINDER_SENDING_STALE_AFTER = dt.timedelta(minutes=10)


def reminders_fail_stale(*, now: dt.datetime | None = None) -> int:
    """A reminder left 'sending' by a worker that died mid-send is marked failed, not sent
    again: whether the message left is unknown, and a patient must never get two."""
    now = now or timezone.now()
    return Reminder.objects.filter(
        status=Reminder.Status.SENDING, updated_at__lt=now - REMINDER_SENDING_STALE_AFTER
    ).update(
        status=Reminder.Status.FAILED,
        detail="Interrupted while sending; not retried so that it cannot arrive twice.",
    )


def _reminder_skip_reason(reminder: Reminder, now: dt.datetime) -> str:
    patient, plan = reminder.patient, reminder.plan
    if plan.status != Plan.Status.ACTIVE:
        return f"The plan is {plan.get_status_display().lower()}."
    if not patient.reminders_enabled or patient.reminder_channel == Patient.Channel.NONE:
        return "The patient turned reminders off."
    if patient.archived_at is not None:
        return "The patient is archived."
    if scheduling.local_day(now, patient.timezone) != reminder.due_date:
        return "Its day has passed."
    if (
        reminder.kind == Reminder.Kind.SESSION
        and SessionLog.objects.filter(plan=plan, date=reminder.due_date).exists()
    ):
        return "Today's session is already logged."
    return ""


def _reminder_finish(reminder: Reminder, status: str, detail: str) -> str:
    reminder.status = status
    reminder.detail = detail[:300]
    reminder.save(update_fields=["status", "detail", "sent_at", "updated_at"])
    audit_record(
        actor=None,
        action=AuditAction(f"reminder.{status}"),
        obj=reminder,
        patient=reminder.patient,
        detail={"kind": reminder.kind, "channel": reminder.channel},
    )
    return status


def reminders_follow_settings(*, patient: Patient, actor: Actor, now: dt.datetime) -> None:
    """Move the patient's pending reminders of today and later to their new choices."""
    today = scheduling.local_day(now, patient.timezone)
    pending = Reminder.objects.filter(
        patient=patient, status=Reminder.Status.PENDING, due_date__gte=today
    )
    if not patient.reminders_enabled or patient.reminder_channel == Patient.Channel.NONE:
        # Deleted rather than left to be skipped: the patient asked for nothing to be sent, and
        # a row left behind would stop today's reminder being planned again after a resume.
        removed, _ = pending.delete()
        if removed:
            audit_record(
                actor=actor,
                action=AuditAction.REMINDER_CANCEL,
                patient=patient,
                detail={"count": removed},
            )
        return
    clinic = patient.clinic
    moved = 0
    for reminder in pending.only("pk", "due_date"):
        moment = scheduling.reminder_moment(
            day=reminder.due_date,
            at=patient.reminder_time,
            timezone=patient.timezone,
            quiet_start=clinic.quiet_hours_start,
            quiet_end=clinic.quiet_hours_end,
        )
        # Guarded like a claim: a row a worker took meanwhile is already on its way.
        moved += Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.PENDING).update(
            channel=patient.reminder_channel, scheduled_for=moment, updated_at=now
        )
    if moved:
        audit_record(
            actor=actor,
            action=AuditAction.REMINDER_RESCHEDULE,
            patient=patient,
            detail={"count": moved},
        )
