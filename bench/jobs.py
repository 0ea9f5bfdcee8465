"""`make bench`, background-jobs half (issue 4), as ratios measured in one run on this machine:

- reminders: services.reminders_plan over BENCH_JOBS_PLANS active plans (default 100,000: it
  finds every plan with a session due and writes its reminder row) vs a plain SQL query
  selecting the same plans with the patient fields a reminder needs; and its queries per batch;
- reports: median ms of a 12-week clinician report vs a one-page reportlab document with one
  table;
- nightly progression: services.progression_evaluate per plan over the same plans vs a plain
  SELECT of each plan's sessions (the run's total time is printed too).

A throw-away SQLite database under a temporary VAR_DIR (or DATABASE_URL when set).
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_TMP = tempfile.mkdtemp(prefix="retrowalk-bench-jobs-")
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
os.environ["VAR_DIR"] = _TMP
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rehab.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from rehab import reports, services  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.models import Clinic, Patient, Plan, Protocol, Screening  # noqa: E402
from tests.reports.test_reports import big_data  # noqa: E402  (the 12-week report of the report tests)

PLANS = int(os.environ.get("BENCH_JOBS_PLANS", "100000"))
# Evaluating 100,000 plans one by one takes minutes here; a sample gives the per-plan ratio
# (production fans the nightly run out over the workers in batches of 500).
NIGHTLY_PLANS = int(os.environ.get("BENCH_NIGHTLY_PLANS", "10000"))
NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
BATCH = 2000


def populate(n: int) -> None:
    services.protocol_library_load()
    protocol = Protocol.objects.get(clinic__isnull=True, condition=L.KNEE_OA)
    levels = [row.to_level().to_dict() for row in protocol.levels.all()]
    clinic = Clinic.objects.create(name="Bench", slug="bench", timezone="UTC")
    zones = ("Europe/London", "America/New_York", "Asia/Tokyo", "UTC")
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        patients = Patient.objects.bulk_create(
            Patient(
                clinic=clinic,
                first_name="B",
                last_name=str(start + i),
                condition=L.KNEE_OA,
                timezone=zones[(start + i) % 4],
                email=f"b{start + i}@example.org",
            )
            for i in range(size)
        )
        screenings = Screening.objects.bulk_create(
            Screening(
                patient=p,
                clinic=clinic,
                condition=L.KNEE_OA,
                answers={},
                status="cleared",
                referral="none",
                screened_on=TODAY,
                valid_until=TODAY + dt.timedelta(days=90),
            )
            for p in patients
        )
        Plan.objects.bulk_create(
            Plan(
                patient=p,
                clinic=clinic,
                protocol=protocol,
                protocol_version=1,
                protocol_name=protocol.name,
                condition=L.KNEE_OA,
                levels=levels,
                screening=s,
                start_date=TODAY - dt.timedelta(days=7),
                level_started_on=TODAY - dt.timedelta(days=7),
                window_start=TODAY - dt.timedelta(days=7),
                schedule_days=list(range(7)),
            )
            for p, s in zip(patients, screenings, strict=True)
        )


PLAIN_DUE = """
    SELECT plan.id, patient.id, patient.timezone, patient.reminder_time, patient.reminder_channel
    FROM rehab_plan plan JOIN rehab_patient patient ON patient.id = plan.patient_id
    WHERE plan.status = 'active' AND patient.reminders_enabled
      AND patient.archived_at IS NULL AND patient.reminder_channel <> 'none'
"""


def bench_reminders() -> None:
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(PLAIN_DUE)
        rows = cursor.fetchall()
    plain = time.perf_counter() - t0
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        created = services.reminders_plan(now=NOW, batch_size=500)
        full = time.perf_counter() - t0
    batches = -(-len(rows) // 500)
    print(
        f"reminders      plan {created:,} rows / plain SELECT of {len(rows):,}: "
        f"{full / plain:6.1f} x   ({len(ctx.captured_queries) / (batches + 1):.1f} "
        f"queries per batch of 500, {len(ctx.captured_queries)} in all)"
    )


def one_page_table() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table

    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(
        [Table([["Day", "Minutes", "Pain"]] + [[str(d), "10", "2"] for d in range(20)])]
    )
    return buffer.getvalue()


def bench_reports() -> None:
    data = big_data()
    reports.build_report(data)  # warm fonts and caches
    one_page_table()
    report_ms = statistics.median(_timed(lambda: reports.build_report(data)) for _ in range(10))
    table_ms = statistics.median(_timed(one_page_table) for _ in range(10))
    print(
        f"report         12-week clinician report / one-page table: {report_ms / table_ms:6.1f} x"
        f"   (median of 10)"
    )


def bench_nightly() -> None:
    ids = list(Plan.objects.values_list("pk", flat=True))
    t0 = time.perf_counter()
    for pk in ids[:2000]:
        list(Plan.objects.get(pk=pk).sessions.filter(date__gte=TODAY - dt.timedelta(days=7)))
    plain = (time.perf_counter() - t0) / min(len(ids), 2000)
    sample = ids[:NIGHTLY_PLANS]
    t0 = time.perf_counter()
    # A list, not an open cursor: on SQLite a reader left open stops the write-ahead log from
    # being checkpointed, and every write after it slows down.
    for start in range(0, len(sample), 5000):
        for plan in list(Plan.objects.filter(pk__in=sample[start : start + 5000])):
            services.progression_evaluate(plan=plan, trigger="nightly", today=TODAY)
    total = time.perf_counter() - t0
    per_plan = total / len(sample)
    print(
        f"nightly        evaluate per plan / plain SELECT per plan: {per_plan / plain:6.1f} x"
        f"   ({len(sample):,} plans in {total:.0f} s; all {len(ids):,} in one process: about "
        f"{per_plan * len(ids):.0f} s)"
    )


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    populate(PLANS)
    print(
        f"database: {connection.vendor}, {PLANS:,} active plans (made in "
        f"{time.perf_counter() - t0:.0f} s)"
    )
    bench_reminders()
    bench_reports()
    bench_nightly()


if __name__ == "__main__":
    main()
