"""The portal's reminder settings, reminder history and calendar feeds."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from rehab import scheduling, wording
from rehab.access import Principal, api_key_hash
from rehab.models import (
    CalendarFeed,
    Patient,
    Plan,
    Reminder,
)
from rehab.selectors.scoped import plans_for, reminders_for

REMINDER_HISTORY_SHOWN = 10


# What each channel needs on the record; a channel without it cannot reach the patient.
REMINDER_CHANNEL_NEEDS = {Patient.Channel.EMAIL: "email", Patient.Channel.SMS: "phone"}


def reminder_channel_usable(patient: Patient, channel: str) -> bool:
    need = REMINDER_CHANNEL_NEEDS.get(channel)
    return need is None or bool(getattr(patient, need).strip())


@dataclass(frozen=True)
class ReminderSettings:
    """A patient's reminder choices and what they add up to, for the portal to put in words."""

    channel: str
    channel_usable: bool
    enabled: bool
    time: dt.time  # as chosen
    sends_at: dt.time  # when it really goes: a time in the clinic's quiet hours waits
    quiet_start: dt.time
    quiet_end: dt.time
    timezone: str
    plan_status: str | None  # of the open plan; None without one
    schedule_days: tuple[int, ...]

    @property
    def state(self) -> str:
        """Why reminders do or do not go out, the first that applies: paused (by the patient),
        off (channel "none"), unreachable (no address or number), no_plan, plan_paused, on."""
        if not self.enabled:
            return "paused"
        if self.channel == Patient.Channel.NONE:
            return "off"
        if not self.channel_usable:
            return "unreachable"
        if self.plan_status is None:
            return "no_plan"
        if self.plan_status != Plan.Status.ACTIVE:
            return "plan_paused"
        return "on"


def reminder_settings_for(
    principal: Principal, *, now: dt.datetime | None = None
) -> ReminderSettings:
    """The signed-in patient's reminder settings (one query: their open plan)."""
    patient, clinic = principal.patient, principal.clinic
    plan = (
        plans_for(principal)
        .select_related(None)
        .filter(status__in=Plan.OPEN_STATUSES)
        .only("status", "schedule_days")
        .first()
    )
    zone = zoneinfo.ZoneInfo(patient.timezone)
    moment = scheduling.reminder_moment(
        day=scheduling.local_day(now or dt.datetime.now(dt.UTC), patient.timezone),
        at=patient.reminder_time,
        timezone=patient.timezone,
        quiet_start=clinic.quiet_hours_start,
        quiet_end=clinic.quiet_hours_end,
    )
    return ReminderSettings(
        channel=patient.reminder_channel,
        channel_usable=reminder_channel_usable(patient, patient.reminder_channel),
        enabled=patient.reminders_enabled,
        time=patient.reminder_time,
        sends_at=moment.astimezone(zone).time(),
        quiet_start=clinic.quiet_hours_start,
        quiet_end=clinic.quiet_hours_end,
        timezone=patient.timezone,
        plan_status=None if plan is None else plan.status,
        schedule_days=() if plan is None else tuple(sorted(plan.schedule_days)),
    )


@dataclass(frozen=True)
class ReminderLine:
    due_date: dt.date
    kind: str
    status: str
    what: str  # which reminder, in plain words
    outcome: str  # what became of it, in plain words; never a gateway's error text


_REMINDER_KIND_WORDS = {
    Reminder.Kind.SESSION: "Walking day reminder",
    Reminder.Kind.NUDGE: "Reminder after a missed walk",
}


# The reasons services.reminder_send records, recognised by a phrase and said to the patient.
# Anything else gets a general sentence: a server's own message is not for them.
_REMINDER_DETAIL_WORDS = (
    ("already logged", "Skipped: you had already walked"),
    ("turned reminders off", "Not sent: your reminders were paused"),
    ("plan is paused", "Not sent: your walking plan was paused"),
    ("plan is", "Not sent: your walking plan had ended"),
    ("day has passed", "Not sent: it was too late in the day"),
    ("no e-mail address", "Not sent: no e-mail address"),
    ("no phone number", "Not sent: no mobile phone number"),
    ("no sms gateway", "Not sent: text messages are not working at the moment"),
)


_REMINDER_HISTORY_FIELDS = (
    "due_date",
    "kind",
    "channel",
    "status",
    "detail",
    "scheduled_for",
    "sent_at",
    "updated_at",
)


def _clock(moment: dt.datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local.hour}:{local.minute:02d}"


def _reminder_outcome(reminder: Reminder, zone: zoneinfo.ZoneInfo) -> str:
    channel = wording.reminder_channel(reminder.channel)
    status = reminder.status
    if status == Reminder.Status.SENT:
        return f"Sent {channel} at {_clock(reminder.sent_at or reminder.updated_at, zone)}"
    if status == Reminder.Status.PENDING:
        return f"Waiting to be sent {channel} at {_clock(reminder.scheduled_for, zone)}"
    if status == Reminder.Status.SENDING:
        return f"Being sent {channel}"
    detail = reminder.detail.lower()
    for phrase, words in _REMINDER_DETAIL_WORDS:
        if phrase in detail:
            return words
    if status == Reminder.Status.FAILED:
        return f"Not sent: we could not deliver it {channel}".rstrip()
    return "Not sent"


def reminder_history_for(
    principal: Principal, *, limit: int = REMINDER_HISTORY_SHOWN
) -> list[ReminderLine]:
    """The signed-in patient's latest reminders, newest day first, each said in plain words."""
    if principal.patient is None:
        return []
    zone = zoneinfo.ZoneInfo(principal.patient.timezone)
    rows = (
        reminders_for(principal)
        .select_related(None)
        .only(*_REMINDER_HISTORY_FIELDS)
        .order_by("-due_date", "-id")[:limit]
    )
    return [
        ReminderLine(
            due_date=row.due_date,
            kind=row.kind,
            status=row.status,
            what=_REMINDER_KIND_WORDS.get(row.kind, "Reminder"),
            outcome=_reminder_outcome(row, zone),
        )
        for row in rows
    ]


# A token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
CALENDAR_TOKEN_MAX_LENGTH = 100


def calendar_token_hash(token: str) -> str:
    """The same SHA-256 as API keys: the token is long and random, so a plain hash suffices."""
    return api_key_hash(token)


def calendar_feed_for(principal: Principal) -> CalendarFeed | None:
    """The signed-in patient's calendar link, on or stopped; None if they never made one."""
    if principal.patient is None:
        return None
    return CalendarFeed.objects.filter(patient=principal.patient).first()


def calendar_feed_for_token(*, token: str) -> CalendarFeed | None:
    """The working calendar link a URL carries, with its patient and clinic; None for an unknown
    or stopped one, so the two look the same to whoever holds the URL."""
    if not token or len(token) > CALENDAR_TOKEN_MAX_LENGTH:
        return None
    return (
        CalendarFeed.objects.select_related("patient__clinic")
        .filter(token_hash=calendar_token_hash(token), revoked_at__isnull=True)
        .first()
    )
