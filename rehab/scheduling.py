"""When a reminder goes out: the patient's chosen local time on the due day, moved out of the
clinic's quiet hours. Pure functions over zoneinfo, so daylight-saving changes are exact."""

from __future__ import annotations

import datetime as dt
import zoneinfo


def in_quiet_hours(moment: dt.time, start: dt.time, end: dt.time) -> bool:
    """Quiet hours may wrap midnight (21:00-08:00) or not (13:00-14:00); start == end: none."""
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def reminder_moment(
    *, day: dt.date, at: dt.time, timezone: str, quiet_start: dt.time, quiet_end: dt.time
) -> dt.datetime:
    """The UTC instant of a reminder due on `day` at local time `at`.

    A time inside the quiet hours waits for their end. A wall time that does not exist on a
    spring-forward day (02:30 in a skipped hour) is read as the instant the clock shows it, one
    hour later; an ambiguous one in the autumn is the first occurrence (fold=0).
    """
    if in_quiet_hours(at, quiet_start, quiet_end):
        if quiet_start > quiet_end and at >= quiet_start:
            # Evening inside wrapping quiet hours: the quiet hours end only tomorrow, but the
            # reminder is for today's session, so it goes just before they begin.
            at = (dt.datetime.combine(day, quiet_start) - dt.timedelta(minutes=30)).time()
        else:
            at = quiet_end
    zone = zoneinfo.ZoneInfo(timezone)
    local = dt.datetime.combine(day, at).replace(tzinfo=zone)
    # Round-trip through UTC: a non-existent wall time comes back as the real one it maps to.
    return local.astimezone(dt.UTC)


def local_day(now: dt.datetime, timezone: str) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(timezone)).date()
