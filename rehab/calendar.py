"""A patient's walking days as an iCalendar feed (RFC 5545), for their phone's calendar.

A pure function of data already loaded (the patient, their open plan, today's date): no query,
no request. The icalendar library writes the text (CRLF line endings, folding at 75 octets,
escaping of , ; \\ and newlines) and the VTIMEZONE the events' TZID needs.

Calendar apps sync to clouds and show events on lock screens, so the feed says nothing
sensitive: no name, no clinic, no condition or diagnosis; only "Backward walking: 10 minutes"
and how to do it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

import icalendar

from rehab.clinical import levels as clinical_levels
from rehab.clinical.levels import Level
from rehab.models import Patient, Plan

FEED_WEEKS = 8
# How often a calendar app should fetch the feed again (RFC 7986 REFRESH-INTERVAL and the older
# X-PUBLISHED-TTL): a level change shows within half a day; nothing here is urgent.
REFRESH_INTERVAL = dt.timedelta(hours=12)
PRODID = "-//Retrowalk//Walking days//EN"
CALENDAR_NAME = "Walking days"
UID_DOMAIN = "retrowalk.calendar"
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"})


def walking_days(
    *, patient: Patient, plan: Plan | None, today: dt.date, weeks: int = FEED_WEEKS
) -> list[dt.date]:
    """The days from today (the patient's local date) for `weeks` weeks that the plan schedules.

    None when there is nothing to walk: an archived patient, no open plan, or a paused one
    (a paused plan must not look like a prescription)."""
    if patient.archived_at is not None or plan is None or plan.status != Plan.Status.ACTIVE:
        return []
    schedule = set(plan.schedule_days)
    first = max(today, plan.start_date)
    end = today + dt.timedelta(weeks=weeks)
    return [
        first + dt.timedelta(days=n)
        for n in range((end - first).days)
        if (first + dt.timedelta(days=n)).weekday() in schedule
    ]


def event_uid(*, patient_id: int, day: dt.date) -> str:
    """Stable for a patient and a day, so an app updates an event instead of adding a copy; a
    hash rather than the record's id, which has no business in someone's cloud calendar."""
    key = hashlib.sha256(f"retrowalk-walking-day:{patient_id}".encode()).hexdigest()[:20]
    return f"walk-{day:%Y%m%d}-{key}@{UID_DOMAIN}"


def summary_text(level: Level) -> str:
    return f"Backward walking: {level.minutes} minutes"


def prescription_lines(level: Level) -> list[str]:
    """The prescription in plain words, one instruction a line."""
    speed = "at a comfortable speed" if level.speed_kmh is None else f"at {level.speed_kmh:g} km/h"
    lines = [f"Walk backward for {level.minutes} minutes {speed}."]
    if level.incline_pct:
        lines.append(f"Incline: {level.incline_pct:g} %.")
    lines.append(f"Where: {clinical_levels.SETTINGS[level.setting].lower()}.")
    if level.interval:
        lines.append(level.interval.describe().capitalize() + ".")
    if level.supervised:
        lines.append("Only with your physiotherapist there.")
    lines.append("Stop and log it if you fall, nearly fall, feel dizzy or have chest pain.")
    return lines


def _zone(name: str) -> dt.tzinfo:
    # UTC as "Z" times: no VTIMEZONE needed, and every app reads it.
    return dt.UTC if name in _UTC_NAMES else zoneinfo.ZoneInfo(name)


def feed_ics(
    *,
    patient: Patient,
    plan: Plan | None,
    today: dt.date,
    portal_url: str = "",
    weeks: int = FEED_WEEKS,
) -> bytes:
    """The feed as iCalendar bytes (UTF-8): one event per walking day at the patient's reminder
    time in their time zone, lasting the prescribed minutes. A valid, empty calendar when there
    is nothing to walk."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    refresh = icalendar.vDuration(REFRESH_INTERVAL)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", refresh)

    days = walking_days(patient=patient, plan=plan, today=today, weeks=weeks)
    if days:
        level = plan.current_prescription().level
        zone = _zone(patient.timezone)
        # The last change of what the events say, so an unchanged feed is byte-for-byte the
        # same on every fetch and apps see nothing new.
        stamp = max(plan.updated_at, patient.updated_at).astimezone(dt.UTC)
        lines = prescription_lines(level)
        if portal_url:
            lines.append(f"Log how it went: {portal_url}")
        description = "\n".join(lines)
        for day in days:
            event = icalendar.Event()
            event.add("uid", event_uid(patient_id=patient.pk, day=day))
            event.add("dtstamp", stamp)
            event.add("last-modified", stamp)
            event.add("dtstart", dt.datetime.combine(day, patient.reminder_time, tzinfo=zone))
            event.add("duration", dt.timedelta(minutes=level.minutes))
            event.add("summary", summary_text(level))
            event.add("description", description)
            event.add("transp", "OPAQUE")
            if portal_url:
                event.add("url", portal_url)
            calendar.add_component(event)
        if zone is not dt.UTC:
            calendar.add_missing_timezones(
                first_date=days[0] - dt.timedelta(days=1),
                last_date=days[-1] + dt.timedelta(days=1),
            )
            # Time zones first: some older apps read the file top to bottom.
            calendar.subcomponents.sort(key=lambda component: component.name != "VTIMEZONE")
    return calendar.to_ical()
