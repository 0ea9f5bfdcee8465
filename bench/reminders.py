"""`make bench`, reminder planning (issue 13, goal 3): services.reminders_plan over 100,000
active plans (BENCH_QUICK: 10,000) against a plain SELECT of the same rows with the columns the
planning reads (the plan's dates, weekdays and pauses, the patient's zone, time and channel, the
clinic's quiet hours), fetched.

- reminders.first_run: the day's first run, which writes every row of the day, over the plain
  SELECT (goal <= 3);
- reminders.later_run: a later 5-minute run the same day, which finds every row made and writes
  nothing, over the plain SELECT (goal <= 1.5).

Each first run is a new day (the table keeps the days before, as in production); the plain
SELECT is timed between the runs, and the ratios are of the medians.

Shown beside the first run (in its detail), once each: the same rows written with constant
columns into rehab_reminder itself (`bare_insert`: its indexes and foreign keys), and into a
table that keeps only a primary key and the unique key a day's runs need (`floor_insert`): the
least any planning that writes a row per reminder can cost on this machine.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import quick, record, throwaway_database

DB = throwaway_database("reminders")
os.environ["DJANGO_SETTINGS_MODULE"] = "rehab.settings"
os.environ["DEBUG"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from rehab import services  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.models import Clinic, Patient, Plan, Protocol, Reminder, Screening  # noqa: E402

PLANS = quick(100_000, 10_000)
DAYS = 3  # first runs, one a day
LATER = 3  # later runs a day
NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def populate(n: int) -> None:
    """bench/jobs.py's world (one clinic, plans every day of the week from a week ago, patients
    in four zones), made by copying one patient, screening and plan the ORM made into n of each
    with INSERT ... SELECT: a minute less than bulk_create at 100,000 on PostgreSQL."""
    services.protocol_library_load()
    protocol = Protocol.objects.get(clinic__isnull=True, condition=L.KNEE_OA)
    clinic = Clinic.objects.create(name="Bench", slug="bench", timezone="UTC")
    patient = Patient.objects.create(
        clinic=clinic, first_name="B", last_name="0", condition=L.KNEE_OA, email="b@example.org"
    )
    screening = Screening.objects.create(
        patient=patient,
        clinic=clinic,
        condition=L.KNEE_OA,
        answers={},
        status="cleared",
        referral="none",
        screened_on=TODAY,
        valid_until=TODAY + dt.timedelta(days=90),
    )
    start = TODAY - dt.timedelta(days=7)
    Plan.objects.create(
        patient=patient,
        clinic=clinic,
        protocol=protocol,
        protocol_version=1,
        protocol_name=protocol.name,
        condition=L.KNEE_OA,
        levels=[row.to_level().to_dict() for row in protocol.levels.all()],
        screening=screening,
        start_date=start,
        level_started_on=start,
        window_start=start,
        schedule_days=list(range(7)),
    )
    zone = "CASE n.i %% 4 WHEN 0 THEN 'UTC' WHEN 1 THEN 'Europe/London'"
    zone += " WHEN 2 THEN 'America/New_York' ELSE 'Asia/Tokyo' END"
    _copy(
        Patient,
        patient.pk,
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n - 1})",
        "n",
        {"last_name": "CAST(n.i AS VARCHAR(20))", "email": "'b' || n.i || '@example.org'"}
        | {"timezone": zone},
    )
    new_patients = f"n.id <> {patient.pk}"
    _copy(Screening, screening.pk, "", f"{_table(Patient)} n", {"patient": "n.id"}, new_patients)
    _copy(
        Plan,
        Plan.objects.get().pk,
        "",
        f"{_table(Screening)} n",
        {"patient": f"n.{_q(Screening, 'patient')}", "screening": "n.id"},
        f"n.id <> {screening.pk}",
    )


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _q(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _copy(model, pk: int, with_: str, source: str, values: dict, where: str = "TRUE") -> None:
    """One row of `model` copied for each row of `source`, the columns in `values` replaced."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    selected = ", ".join(
        values.get(f.name, f"t.{connection.ops.quote_name(f.column)}") for f in fields
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(model)} ({columns}) {with_} SELECT {selected}"
            f" FROM {_table(model)} t, {source} WHERE t.id = %s AND {where}",
            [pk],
        )


PLAIN = """
    SELECT plan.id, plan.patient_id, plan.start_date, plan.ended_at, plan.schedule_days,
           plan.pauses, patient.timezone, patient.reminder_time, patient.reminder_channel,
           clinic.quiet_hours_start, clinic.quiet_hours_end
    FROM rehab_plan plan
    JOIN rehab_patient patient ON patient.id = plan.patient_id
    JOIN rehab_clinic clinic ON clinic.id = patient.clinic_id
    WHERE plan.status = 'active' AND patient.reminders_enabled
      AND patient.archived_at IS NULL AND patient.reminder_channel <> 'none'
"""


def plain() -> tuple[float, int]:
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(PLAIN)
        rows = cursor.fetchall()
    return time.perf_counter() - t0, len(rows)


def planning(now: dt.datetime) -> tuple[float, int, int]:
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        created = services.reminders_plan(now=now)
        seconds = time.perf_counter() - t0
    return seconds, created, len(ctx.captured_queries)


def bare_insert(day: dt.date, table: str = "rehab_reminder") -> float:
    """The write alone, for comparison: the same two rows a plan, every column a constant, into
    the same table (its indexes, its foreign keys), then removed again untimed."""
    stamp = connection.ops.adapt_datetimefield_value(NOW)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (patient_id, plan_id, due_date, kind, channel,"
            " scheduled_for, status, detail, sent_at, created_at, updated_at)"
            " SELECT plan.patient_id, plan.id, %s, kind.kind, 'email', %s, 'pending', '', NULL,"
            " %s, %s FROM rehab_plan plan, (SELECT 'session' AS kind UNION ALL SELECT 'nudge')"
            " kind WHERE plan.status = 'active' ON CONFLICT DO NOTHING",
            [connection.ops.adapt_datefield_value(day), stamp, stamp, stamp],
        )
    seconds = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE due_date = %s", [connection.ops.adapt_datefield_value(day)]
        )
    return seconds


def floor_insert(day: dt.date) -> float:
    """The least any planning that writes a row per reminder can cost: the same rows as
    bare_insert into a table of the same columns that keeps only the primary key and the unique
    (due_date, patient, kind) key the day's runs need to skip what is made: no other index, no
    foreign key. A real table (PostgreSQL writes a temporary one without its log), made and
    dropped untimed."""
    postgres = connection.vendor == "postgresql"
    ident = (
        "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        if postgres
        else "integer PRIMARY KEY AUTOINCREMENT"
    )
    moment = "timestamp with time zone" if postgres else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE bench_floor (id {ident}, patient_id bigint NOT NULL,"
            " plan_id bigint NOT NULL, due_date date NOT NULL, kind varchar(10) NOT NULL,"
            f" channel varchar(10) NOT NULL, scheduled_for {moment} NOT NULL,"
            f" status varchar(10) NOT NULL, detail varchar(300) NOT NULL, sent_at {moment} NULL,"
            f" created_at {moment} NOT NULL, updated_at {moment} NOT NULL)"
        )
        cursor.execute(
            "CREATE UNIQUE INDEX bench_floor_key ON bench_floor (due_date, patient_id, kind)"
        )
    try:
        bare_insert(day, "bench_floor")  # the table's first pages: as rehab_reminder's are
        return bare_insert(day, "bench_floor")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_floor")


def main() -> None:
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    populate(PLANS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"database: {DB}, {PLANS:,} active plans (made in {time.perf_counter() - t0:.0f} s)")
    plain()  # warm the cache
    plains, firsts, laters = [], [], []
    created = queries = later_queries = rows = 0
    for day in range(DAYS):
        now = NOW + dt.timedelta(days=day)
        seconds, rows = plain()
        plains.append(seconds)
        seconds, created, queries = planning(now)
        firsts.append(seconds)
        for run in range(1, LATER + 1):
            seconds, _ = plain()
            plains.append(seconds)
            seconds, again, later_queries = planning(now + dt.timedelta(minutes=5 * run))
            assert again == 0, f"a later run made {again} rows"
            laters.append(seconds)
    bare = bare_insert(TODAY + dt.timedelta(days=DAYS + 10))
    floor = floor_insert(TODAY + dt.timedelta(days=DAYS + 10))
    base = statistics.median(plains)
    first, later = statistics.median(firsts), statistics.median(laters)
    common = {"plans": PLANS, "plain_ms": round(base * 1000, 1)}
    record(
        "reminders.first_run",
        value=first / base,
        goal=3,
        unit="ratio",
        lower_is_better=True,
        db=DB,
        **common,
        run_ms=round(first * 1000, 1),
        rows_made=created,
        queries=queries,
        bare_insert_ms=round(bare * 1000, 1),
        bare_insert_ratio=round(bare / base, 2),
        floor_insert_ms=round(floor * 1000, 1),
        floor_insert_ratio=round(floor / base, 2),
    )
    record(
        "reminders.later_run",
        value=later / base,
        goal=1.5,
        unit="ratio",
        lower_is_better=True,
        db=DB,
        **common,
        run_ms=round(later * 1000, 1),
        queries=later_queries,
    )
    print(
        f"reminders      plain SELECT of {rows:,} rows {base * 1000:.0f} ms (median of "
        f"{len(plains)}); first run of the day {first * 1000:.0f} ms = {first / base:.2f} x "
        f"({created:,} rows, {queries} queries; median of {len(firsts)}); later run "
        f"{later * 1000:.0f} ms = {later / base:.2f} x ({later_queries} queries; median of "
        f"{len(laters)}); {Reminder.objects.count():,} reminder rows in all; the same rows "
        f"written bare: {bare * 1000:.0f} ms = {bare / base:.2f} x; into a table with only its "
        f"primary and unique keys: {floor * 1000:.0f} ms = {floor / base:.2f} x"
    )


if __name__ == "__main__":
    main()
