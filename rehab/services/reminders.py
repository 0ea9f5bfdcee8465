"""Session reminders: one row per due day, sending it, and following a patient's settings."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rehab import notify, scheduling
from rehab.audit import Actor, AuditAction, audit_record
from rehab.clinical import protocols as clinical_protocols
from rehab.models import (
    Patient,
    Plan,
    Reminder,
    SessionLog,
)
from rehab.services import reminder_planning
from rehab.services.common import site_url

# Plans per statement (a span of plan ids). Each statement reads the patients whole and the
# day's reminder keys whole (the anti-join), so a batch costs those reads however few plans it
# holds: at 100,000 plans one statement makes a later run of the day 1.3 x a plain SELECT of
# the plans, four of 25,000 2-3 x. The first run's write is then one statement of 200,000 rows.
REMINDER_BATCH_SIZE = 100_000


def reminders_plan(*, now: dt.datetime | None = None, batch_size: int = REMINDER_BATCH_SIZE) -> int:
    """Create today's reminder rows for every active plan with a session due, and a nudge for a
    session missed yesterday. Safe to run any number of times, also at once: the unique
    (patient, due_date, kind) constraint makes a second row impossible. Set-based: one query
    for the patients' time zones and the span of plan ids, then one INSERT ... SELECT per batch
    of plans (rehab.services.reminder_planning), however many plans there are; a later run of
    the day finds every row made and writes nothing."""
    now = now or timezone.now()
    names, first_id, last_id = reminder_planning.zones_and_range()
    if not names:
        return 0
    zones = [reminder_planning.ZoneDay.at(name, now) for name in names]
    stamp = timezone.now()  # created_at and updated_at, as auto_now would set them
    created = 0
    for start in range(first_id, last_id + 1, batch_size):
        created += reminder_planning.insert_batch(
            zones=zones, first_id=start, last_id=min(start + batch_size - 1, last_id), stamp=stamp
        )
    return created


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
