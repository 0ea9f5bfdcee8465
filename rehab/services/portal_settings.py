"""What a patient sets in the portal: reminder choices and calendar feeds."""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rehab import selectors
from rehab.audit import Actor, audit_record
from rehab.errors import validation_error
from rehab.models import (
    CalendarFeed,
    Patient,
    validate_timezone,
)
from rehab.services.common import require_active_patient
from rehab.services.patients import patient_update

_CHANNEL_UNREACHABLE = {
    Patient.Channel.EMAIL: "There is no e-mail address on the record, so e-mail reminders cannot "
    "be sent. Choose another way, or ask the clinic to add an address.",
    Patient.Channel.SMS: "There is no mobile phone number on the record, so text messages cannot "
    "be sent. Choose another way, or ask the clinic to add a number.",
}


@transaction.atomic
def patient_set_reminders(
    *,
    patient: Patient,
    actor: Actor,
    channel: str,
    time: dt.time,
    timezone_name: str,
    enabled: bool,
    now: dt.datetime | None = None,
) -> Patient:
    """A patient's reminder choices: how (e-mail, SMS or none), at what local time, in which
    time zone, and whether they are paused. Refuses a channel the record cannot reach.

    Reminders already planned and not yet sent follow the new choices, so the change applies
    from the next one: each keeps its row (one per patient, day and kind) and gets the new
    channel and moment; paused or "no reminders" removes them instead, and the dispatcher plans
    today's again if reminders are switched back on the same day.
    """
    errors: dict[str, list[str]] = {}
    if channel not in Patient.Channel.values:
        errors["reminder_channel"] = ["Choose e-mail, text message or no reminders."]
    elif not selectors.reminder_channel_usable(patient, channel):
        errors["reminder_channel"] = [_CHANNEL_UNREACHABLE[channel]]
    if not isinstance(time, dt.time):
        errors["reminder_time"] = ["Enter a time like 09:00 or 18:30."]
    else:
        time = time.replace(second=0, microsecond=0, tzinfo=None)
    try:
        validate_timezone(timezone_name or "")
    except ValidationError:
        errors["timezone"] = ["Choose your time zone from the list."]
    if errors:
        raise validation_error(errors, "Please check your reminder choices.")
    changes = {
        "reminder_channel": channel,
        "reminder_time": time,
        "timezone": timezone_name,
        "reminders_enabled": bool(enabled),
    }
    # patient_update moves the pending reminders: one service for every door.
    patient_update(patient=patient, actor=actor, now=now, **changes)
    return patient


CALENDAR_TOKEN_BYTES = 32


@transaction.atomic
def calendar_feed_create(*, patient: Patient, actor: Actor) -> str:
    """Make the patient's private calendar link and return its token, which is shown once and
    never stored (only its hash is). An earlier link stops working at once."""
    require_active_patient(patient)
    token = secrets.token_urlsafe(CALENDAR_TOKEN_BYTES)
    previous = CalendarFeed.objects.select_for_update().filter(patient=patient).first()
    replaced = previous is not None and previous.revoked_at is None
    feed, _ = CalendarFeed.objects.update_or_create(
        patient=patient,
        defaults={
            "token_hash": selectors.calendar_token_hash(token),
            "created_at": timezone.now(),
            "revoked_at": None,
        },
    )
    audit_record(
        actor=actor,
        action="calendar.create",
        obj=feed,
        patient=patient,
        detail={"replaced": replaced},
    )
    return token


@transaction.atomic
def calendar_feed_revoke(*, patient: Patient, actor: Actor) -> CalendarFeed | None:
    """Stop the patient's calendar link; the feed's address then answers 404. The revoked feed,
    or None when no link was on."""
    feed = (
        CalendarFeed.objects.select_for_update()
        .filter(patient=patient, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="calendar.revoke", obj=feed, patient=patient)
    return feed
