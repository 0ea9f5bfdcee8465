"""`make bench`: what the core's writes cost, as ratios to a bare baseline measured in the same
run on the same machine (absolute times on shared machines are noise).

- session log: services.session_log (validation, audit, progression evaluation) vs a bare
  SessionLog INSERT of the same row;
- nightly progression: services.progression_evaluate per plan vs a bare SELECT of the plan's
  sessions.

It runs against a throw-away SQLite database under a temporary VAR_DIR (or DATABASE_URL when
set), never against var/.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Always a fresh, throw-away VAR_DIR (never var/ or the caller's); removed at exit.
_TMP = tempfile.mkdtemp(prefix="retrowalk-bench-")
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
os.environ["VAR_DIR"] = _TMP
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rehab.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from rehab import services  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.clinical.screening import negative_answers  # noqa: E402
from rehab.models import Clinic, Patient, Protocol, SessionLog  # noqa: E402

PLANS = int(os.environ.get("BENCH_PLANS", "200"))
START = dt.date(2026, 1, 5)


def make_plans(n):
    clinic = Clinic.objects.create(name="Bench", slug=f"bench-{time.time_ns()}")
    protocol = Protocol.objects.get(clinic__isnull=True, condition=L.KNEE_OA)
    plans = []
    for i in range(n):
        patient = Patient.objects.create(
            clinic=clinic, first_name="B", last_name=str(i), condition=L.KNEE_OA
        )
        services.screening_submit(
            patient=patient, answers=negative_answers(L.KNEE_OA), actor=None, today=START
        )
        plans.append(
            services.plan_assign(
                patient=patient, protocol=protocol, actor=None, start_date=START, today=START
            )
        )
    return plans


def timed(fn, items):
    samples = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def session_kwargs(day):
    return {
        "date": day,
        "minutes_done": 10,
        "pain_before": 2,
        "pain_worst": 3,
        "pain_after": 2,
        "effort": 3,
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "speed_kmh": 1.5,
    }


def main():
    call_command("migrate", verbosity=0)
    services.protocol_library_load()
    plans = make_plans(PLANS)
    day = START + dt.timedelta(days=1)

    def bare_insert(plan):
        with transaction.atomic():
            SessionLog.objects.create(
                plan=plan, patient_id=plan.patient_id, level_index=0, **session_kwargs(day)
            )

    def service_log(plan):
        services.session_log(
            plan=plan,
            actor=None,
            today=day + dt.timedelta(days=1),
            **session_kwargs(day + dt.timedelta(days=1)),
        )

    half = len(plans) // 2
    base = timed(bare_insert, plans[:half])
    full = timed(service_log, plans[half:])
    with CaptureQueriesContext(connection) as ctx:
        services.session_log(
            plan=plans[0],
            actor=None,
            today=day + dt.timedelta(days=2),
            **session_kwargs(day + dt.timedelta(days=2)),
        )
    log_queries = len(ctx.captured_queries)

    today = day + dt.timedelta(days=3)

    def bare_select(plan):
        list(SessionLog.objects.filter(plan=plan, date__gte=START))

    def evaluate(plan):
        services.progression_evaluate(plan=plan, trigger="nightly", today=today)

    sel = timed(bare_select, plans)
    ev = timed(evaluate, plans)

    print(f"database: {connection.vendor}, plans: {len(plans)}")
    print(f"session log    service / bare insert : {full / base:5.1f} x   ({log_queries} queries)")
    print(f"nightly eval   service / bare select : {ev / sel:5.1f} x   (per plan)")


if __name__ == "__main__":
    main()
