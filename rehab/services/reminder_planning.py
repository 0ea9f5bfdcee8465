"""Reminder planning as SQL: each batch of plans is one INSERT ... SELECT ... ON CONFLICT DO
NOTHING, the same statement on PostgreSQL and SQLite but for a few spellings (VENDOR below).
The rows already made are left out first, by a hash anti-join with the day's keys, so that a
later run of the day neither works out the rules nor probes the unique index once a row; ON
CONFLICT stays for a row another run makes meanwhile.

The rules are services.reminders_plan's, in SQL: a session reminder on a day of the plan's
weekdays from its start; a nudge the day after a missed day, as rehab.clinical.adherence
reads one (a plan day on one of its weekdays, not paused, not after the plan ended, with no
session logged); at the patient's local time moved out of the clinic's quiet hours
(rehab.scheduling). What SQL cannot do portably, turning a moment into a time zone's date and
a wall time into UTC, is done here in Python once per time zone and run: the statement joins a
small table of zones (ZoneDay) with each zone's day, weekday and UTC offsets. A test holds the
statement to rehab.scheduling and rehab.clinical.adherence, daylight-saving days included.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import connection

from rehab.models import Clinic, Patient, Plan, Reminder, SessionLog

_DAY_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class ZoneDay:
    """A time zone's day at the planning moment, as the statement needs it. The UTC offset of a
    wall time that day is `early` before `change` and `late` from it (change None: one offset
    all day). With fold=0 the offset steps once at the wall time the clock change begins to
    show, in both directions, so one step reproduces zoneinfo exactly: a skipped time is read
    with the offset before the change, an ambiguous one as its first occurrence."""

    name: str
    today: dt.date
    yesterday: dt.date
    yesterday_from: dt.datetime  # the first instant of yesterday there (a plan's end day)
    early: int  # seconds east of UTC
    late: int
    change: dt.time | None

    @classmethod
    def at(cls, name: str, now: dt.datetime) -> ZoneDay:
        zone = zoneinfo.ZoneInfo(name)
        today = now.astimezone(zone).date()
        yesterday = today - dt.timedelta(days=1)
        midnight = dt.datetime.combine(today, dt.time())

        def offset(seconds: int) -> int:
            wall = (midnight + dt.timedelta(seconds=seconds)).replace(tzinfo=zone)
            return int(wall.utcoffset().total_seconds())

        early, late = offset(0), offset(_DAY_SECONDS - 1)
        change = None
        if early != late:
            # Bisect to the first second of the day read with the later offset.
            low, high = 0, _DAY_SECONDS - 1
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == early else (low, middle)
            change = (midnight + dt.timedelta(seconds=high)).time()
        return cls(
            name=name,
            today=today,
            yesterday=yesterday,
            yesterday_from=dt.datetime.combine(yesterday, dt.time(), tzinfo=zone).astimezone(
                dt.UTC
            ),
            early=early,
            late=late,
            change=change,
        )


# The spellings that differ. {schedule}/{pauses}: a plan's JSON columns; {weekday}, {day}: an
# integer and an ISO date (text); {wall}: a time; {seconds}: an integer.
VENDOR = {
    "postgresql": {
        "cast": "{}::{}",
        # The statement runs with nested loops off: with the day's rows just written and the
        # statistics not yet analyzed, PostgreSQL reads the day's keys as a handful and joins
        # them in a nested loop that reads all of them once a candidate (quadratic: minutes at
        # 100,000 plans). Off, the anti-join is a hash join whatever the statistics say; and
        # the hash of a day's keys (7 MB at 100,000 plans) fits in work_mem rather than going
        # to disk. LOCAL ends with the implicit transaction of the one query string; RESET
        # ends it inside an atomic block too, before any other statement of the caller's.
        "before": "SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '32MB'; ",
        "after": "; RESET enable_nestloop; RESET work_mem",
        "has_weekday": "({schedule} @> to_jsonb({weekday}))",
        "paused_on": (
            "EXISTS (SELECT 1 FROM jsonb_array_elements({pauses}) AS s(v) WHERE s.v ->> 0 <= {day}"
            " AND (s.v ->> 1 IS NULL OR s.v ->> 1 > {day}))"
        ),
        "minus_30_minutes": "({wall} - interval '30 minutes')",
        "utc": "(({date} + {wall}) - {seconds} * interval '1 second') AT TIME ZONE 'UTC'",
    },
    "sqlite": {
        "cast": "{}",
        "before": "",
        "after": "",
        "has_weekday": "EXISTS (SELECT 1 FROM json_each({schedule}) WHERE value = {weekday})",
        "paused_on": (
            "EXISTS (SELECT 1 FROM json_each({pauses}) AS s"
            " WHERE json_extract(s.value, '$[0]') <= {day}"
            " AND (json_extract(s.value, '$[1]') IS NULL OR json_extract(s.value, '$[1]') > {day}))"
        ),
        "minus_30_minutes": "time({wall}, '-30 minutes')",
        "utc": "datetime({date} || ' ' || {wall}, (0 - {seconds}) || ' seconds')",
    },
}

_ZONE_COLUMNS = (
    # name, PostgreSQL type
    ("kind", "text"),
    ("tz", "text"),
    ("today", "date"),
    ("today_wd", "integer"),
    ("yesterday", "date"),
    ("yesterday_iso", "text"),
    ("yesterday_wd", "integer"),
    ("yesterday_from", "timestamptz"),
    ("early", "integer"),
    ("late", "integer"),
    ("change_at", "time"),
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _q(model._meta.db_table)


def _col(alias: str, model, field: str) -> str:
    return f"{alias}.{_q(model._meta.get_field(field).column)}"


def eligible_sql() -> tuple[str, str, list]:
    """FROM and WHERE of the plans that get reminders (aliases pl, pa): active, the patient not
    archived, with reminders on and a channel."""
    from_ = (
        f"{_table(Plan)} pl JOIN {_table(Patient)} pa"
        f" ON pa.{_q(Patient._meta.pk.column)} = {_col('pl', Plan, 'patient')}"
    )
    where = (
        f"{_col('pl', Plan, 'status')} = %s AND {_col('pa', Patient, 'reminders_enabled')}"
        f" AND {_col('pa', Patient, 'archived_at')} IS NULL"
        f" AND {_col('pa', Patient, 'reminder_channel')} <> %s"
    )
    return from_, where, [Plan.Status.ACTIVE, Patient.Channel.NONE]


def zones_and_range() -> tuple[list[str], int | None, int | None]:
    """The time zones of the patients with plans to plan, and the span of those plans' ids: one
    query, for the zone table and the batches."""
    from_, where, params = eligible_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_col('pa', Patient, 'timezone')}, MIN(pl.{_q(Plan._meta.pk.column)}),"
            f" MAX(pl.{_q(Plan._meta.pk.column)}) FROM {from_} WHERE {where}"
            f" GROUP BY {_col('pa', Patient, 'timezone')}",
            params,
        )
        rows = cursor.fetchall()
    if not rows:
        return [], None, None
    return [row[0] for row in rows], min(row[1] for row in rows), max(row[2] for row in rows)


def insert_batch(*, zones: list[ZoneDay], first_id: int, last_id: int, stamp: dt.datetime) -> int:
    """Plan the reminders of the plans with ids from first_id to last_id (both included); the
    number of rows made. One statement: a row the unique (patient, due_date, kind) constraint
    already holds is skipped by the anti-join with the day's keys, read in one range of that
    index (its day comes first), and by ON CONFLICT when another run made it in between."""
    sql, params = _batch_sql(zones, first_id, last_id, stamp)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for _ in range(VENDOR[connection.vendor]["before"].count(";")):
            cursor.nextset()  # past the SETs' results to the INSERT's
        return max(cursor.rowcount, 0)


def _batch_sql(
    zones: list[ZoneDay], first_id: int, last_id: int, stamp: dt.datetime
) -> tuple[str, list]:
    ops, spell = connection.ops, VENDOR[connection.vendor]

    def cast(type_: str) -> str:
        return spell["cast"].format("%s", type_)

    # Each zone once per kind of reminder: every join of the statement then has equal keys (the
    # CROSS JOINs below only fix SQLite's order; their WHERE makes them equi-joins), so that
    # each can be a hash join, also with nested loops off.
    zone_row = "(" + ", ".join(cast(type_) for _, type_ in _ZONE_COLUMNS) + ")"
    zone_params: list = []
    for kind in (Reminder.Kind.SESSION, Reminder.Kind.NUDGE):
        for zone in zones:
            zone_params += [
                str(kind),
                zone.name,
                ops.adapt_datefield_value(zone.today),
                zone.today.weekday(),
                ops.adapt_datefield_value(zone.yesterday),
                zone.yesterday.isoformat(),
                zone.yesterday.weekday(),
                ops.adapt_datetimefield_value(zone.yesterday_from),
                zone.early,
                zone.late,
                ops.adapt_timefield_value(zone.change),
            ]
    zone_names = ", ".join(name for name, _ in _ZONE_COLUMNS)

    at = _col("pa", Patient, "reminder_time")
    quiet_start = _col("cl", Clinic, "quiet_hours_start")
    quiet_end = _col("cl", Clinic, "quiet_hours_end")
    # rehab.scheduling.reminder_moment's quiet hours: inside ones that wrap midnight, an evening
    # time goes half an hour before they begin, a morning one to their end.
    wall = (
        f"CASE WHEN {quiet_start} < {quiet_end} AND {quiet_start} <= {at} AND {at} < {quiet_end}"
        f" THEN {quiet_end}"
        f" WHEN {quiet_start} > {quiet_end} AND {at} >= {quiet_start}"
        f" THEN {spell['minus_30_minutes'].format(wall=quiet_start)}"
        f" WHEN {quiet_start} > {quiet_end} AND {at} < {quiet_end} THEN {quiet_end}"
        f" ELSE {at} END"
    )
    reminder = {name: _q(Reminder._meta.get_field(name).column) for name in _INSERTED}
    # The keys already made on the zones' days (one or two dates), read in one range of the
    # unique index (its day comes first): a later run of the day finds every candidate among
    # them. One hash of them costs less than the index probed by ON CONFLICT once a row.
    days = sorted({zone.today for zone in zones})
    made = (
        f"SELECT {reminder['patient']} AS patient_id, {reminder['due_date']} AS due_date,"
        f" {reminder['kind']} AS kind FROM {_table(Reminder)}"
        f" WHERE {reminder['due_date']} IN ({', '.join([cast('date')] * len(days))})"
    )
    from_, where, eligible_params = eligible_sql()
    plan_id = f"pl.{_q(Plan._meta.pk.column)}"
    # A plan and kind of reminder not yet made: materialized, so that the rules below are
    # worked out after the anti-join, for these only (nothing, on a later run of the day).
    candidates = (
        f"SELECT {plan_id} AS plan_id, {_col('pl', Plan, 'patient')} AS patient_id,"
        f" {_col('pa', Patient, 'reminder_channel')} AS channel,"
        f" {_col('pl', Plan, 'start_date')} AS start_date,"
        f" {_col('pl', Plan, 'ended_at')} AS ended_at,"
        f" {_col('pl', Plan, 'schedule_days')} AS schedule_days,"
        f" {_col('pl', Plan, 'pauses')} AS pauses, {wall} AS wall, z.tz, z.kind"
        f" FROM {from_}"
        f" JOIN {_table(Clinic)} cl"
        f" ON cl.{_q(Clinic._meta.pk.column)} = {_col('pa', Patient, 'clinic')}"
        # CROSS JOIN: SQLite keeps the order written (a plan, then its zone rows), rather than
        # read the plans once a zone row; PostgreSQL reads it as the inner join it is.
        f" CROSS JOIN zones z"
        f" LEFT JOIN made m ON m.due_date = z.today"
        f" AND m.patient_id = {_col('pl', Plan, 'patient')} AND m.kind = z.kind"
        f" WHERE z.tz = {_col('pa', Patient, 'timezone')}"
        f" AND {plan_id} >= %s AND {plan_id} <= %s AND {where} AND m.patient_id IS NULL"
    )
    has_weekday = spell["has_weekday"].format
    today_planned = has_weekday(schedule="c.schedule_days", weekday="z.today_wd")
    session_due = f"c.start_date <= z.today AND {today_planned}"
    # adherence.day_state(yesterday) is MISSED: in the plan, not walked, not paused, scheduled.
    walked = (
        f"EXISTS (SELECT 1 FROM {_table(SessionLog)} s"
        f" WHERE {_col('s', SessionLog, 'plan')} = c.plan_id"
        f" AND {_col('s', SessionLog, 'date')} = z.yesterday)"
    )
    missed = (
        "c.start_date <= z.yesterday AND (c.ended_at IS NULL OR c.ended_at >= z.yesterday_from)"
        f" AND {has_weekday(schedule='c.schedule_days', weekday='z.yesterday_wd')}"
        f" AND NOT {spell['paused_on'].format(pauses='c.pauses', day='z.yesterday_iso')}"
        f" AND NOT {walked}"
    )
    seconds = "CASE WHEN z.change_at IS NULL OR c.wall < z.change_at THEN z.early ELSE z.late END"
    scheduled_for = spell["utc"].format(date="z.today", wall="c.wall", seconds=seconds)
    stamp = ops.adapt_datetimefield_value(stamp)
    sql = (
        # INSERT first, then WITH: Python's sqlite3 counts the rows of a statement that begins
        # with INSERT only.
        f"INSERT INTO {_table(Reminder)} ({', '.join(reminder[name] for name in _INSERTED)})"
        f" WITH zones ({zone_names}) AS (VALUES {', '.join([zone_row] * (2 * len(zones)))}),"
        f" made AS ({made}), c AS MATERIALIZED ({candidates})"
        f" SELECT c.patient_id, c.plan_id, z.today, c.kind, c.channel, {scheduled_for},"
        f" %s, '', NULL, %s, %s"
        # The zone's columns joined again after the fence, not carried through it; CROSS JOIN
        # again so that SQLite reads the candidates once, not indexes them for each zone row.
        f" FROM c CROSS JOIN zones z WHERE z.tz = c.tz AND z.kind = c.kind"
        f" AND ((c.kind = %s AND {session_due}) OR (c.kind = %s AND {missed}))"
        " ON CONFLICT DO NOTHING"
    )
    params = [
        *zone_params,
        *(ops.adapt_datefield_value(day) for day in days),
        first_id,
        last_id,
        *eligible_params,
        Reminder.Status.PENDING,
        stamp,
        stamp,
        Reminder.Kind.SESSION,
        Reminder.Kind.NUDGE,
    ]
    return spell["before"] + sql + spell["after"], params


_INSERTED = (
    "patient",
    "plan",
    "due_date",
    "kind",
    "channel",
    "scheduled_for",
    "status",
    "detail",
    "sent_at",
    "created_at",
    "updated_at",
)
