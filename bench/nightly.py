"""`make bench`, the nightly progression run (issue 13, goal 5) as production runs it.

100,000 active plans (BENCH_QUICK: 5,000) with 4 weeks of sessions each, made by bulk SQL on
PostgreSQL; then a real Celery worker on the `nightly` queue with the worker's default
concurrency (2 processes), and `progression_nightly` sent to it: the time until every batch has
finished, on a first night (no decision yet: one written per plan) and on the next night with no
new session (a decision only where one really changed: almost none).

The two nights are one calendar day apart by the patients' time zone: UTC-12 on the first night,
UTC+12 on the second, so the worker's own clock needs no faking.

Figures: `nightly.progression` (seconds, the slower night; goal 300), with the plans, both
nights' times and the decisions written on each in its detail. The broker is REDIS_URL's when
set (only the `nightly` queue is purged), else the embedded filesystem broker. PostgreSQL only:
without it the script says so and records nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import quick, record, throwaway_database

VENDOR = throwaway_database("nightly")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rehab.settings")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from rehab import services, tasks  # noqa: E402
from rehab.celery import app  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.models import (  # noqa: E402
    Clinic,
    Patient,
    Plan,
    ProgressionDecision,
    Protocol,
    Screening,
    SessionLog,
)

PLANS = quick(100_000, 5_000)
WEEKS = 4
GOAL_S = 300
# The patients' zones on each night: local dates exactly one day apart, whatever the hour.
NIGHT_ZONES = ("Etc/GMT+12", "Etc/GMT-12")
ROOT = Path(__file__).resolve().parent.parent


def local_today(zone: str) -> dt.date:
    import zoneinfo

    return timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()


def copy_rows(model, template_id: int, overrides: dict[str, str], source: str, where: str) -> int:
    """INSERT ... SELECT: the template row's every column, but `overrides` (SQL over `t`, the
    template, and the `source` rows), once per row of `source`."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if f.column != "id"]
    values = [overrides.get(c, f"t.{connection.ops.quote_name(c)}") for c in columns]
    sql = (
        f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "
        f"SELECT {', '.join(values)} FROM {table} t, {source} "
        f"WHERE t.id = {int(template_id)} AND {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)  # no parameters: the % in the SQL are its own
        return cursor.rowcount


def populate(n: int, day: dt.date) -> None:
    """n active plans on the first level, started WEEKS weeks before `day`, a session on each
    day before it; the data vary by plan so that the decisions do (advance, hold for low
    adherence, pain, swelling, a near fall, next-morning pain not in yet)."""
    services.protocol_library_load()
    protocol = Protocol.objects.get(clinic__isnull=True, condition=L.KNEE_OA)
    clinic = Clinic.objects.create(name="Bench", slug="bench", timezone="UTC")
    start = day - dt.timedelta(weeks=WEEKS)
    patient = Patient.objects.create(
        clinic=clinic,
        first_name="B",
        last_name="0",
        condition=L.KNEE_OA,
        timezone=NIGHT_ZONES[0],
        email="b0@example.org",
    )
    screening = Screening.objects.create(
        patient=patient,
        clinic=clinic,
        condition=L.KNEE_OA,
        answers={},
        status="cleared",
        referral="none",
        screened_on=start,
        valid_until=start + dt.timedelta(days=180),
    )
    plan = Plan.objects.create(
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
    session = SessionLog.objects.create(  # a template only, on a day no copy takes
        plan=plan,
        patient=patient,
        date=start - dt.timedelta(days=1),
        level_index=0,
        minutes_done=plan.level_objs()[0].minutes,
        speed_kmh=None,
        incline_pct=0,
        setting=plan.level_objs()[0].setting,
        pain_before=2,
        pain_worst=3,
        pain_after=2,
        pain_next_morning=2,
        effort=3,
    )
    copy_rows(
        Patient,
        patient.pk,
        {"last_name": "g::text", "email": "'b' || g || '@example.org'"},
        f"generate_series(1, {n - 1}) g",
        "true",
    )
    copy_rows(
        Screening,
        screening.pk,
        {"patient_id": "p.id"},
        "rehab_patient p",
        f"p.clinic_id = {clinic.pk} AND p.id <> {patient.pk}",
    )
    copy_rows(
        Plan,
        plan.pk,
        {"patient_id": "s.patient_id", "screening_id": "s.id"},
        "rehab_screening s",
        f"s.clinic_id = {clinic.pk} AND s.id <> {screening.pk}",
    )
    # Every day of the WEEKS weeks before `day`; one plan in 5 walks every other day only (low
    # adherence); the rest vary by plan: worst pain 3 to 6, effort 2 to 4, a near fall, more
    # swelling, the last next-morning pain not in yet.
    d = f"(DATE '{start.isoformat()}' + g)"
    last = WEEKS * 7 - 1  # the day before `day`
    copy_rows(
        SessionLog,
        session.pk,
        {
            "plan_id": "pl.id",
            "patient_id": "pl.patient_id",
            "date": d,
            "pain_worst": "3 + (pl.id % 7) / 2",
            "effort": "2 + (pl.id + g) % 3",
            "near_fall": f"(pl.id % 97 = 0 AND g = {last - 2})",
            "swelling": "CASE WHEN pl.id % 31 = 0 AND g > 20 THEN 'more' ELSE 'none' END",
            "pain_next_morning": f"CASE WHEN g = {last} AND pl.id % 3 = 0 THEN NULL ELSE 2 END",
        },
        f"rehab_plan pl, generate_series(0, {last}) g",
        f"pl.clinic_id = {clinic.pk} AND (pl.id % 5 <> 0 OR g % 2 = 0)",
    )
    SessionLog.objects.filter(pk=session.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _children(pid: int) -> list[int]:
    try:
        found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [grand for child in found for grand in _children(child)]


def _cpu(pid: int) -> float:
    """utime + stime of a live process, in seconds (0 when it is gone or not readable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Worker:
    """A real worker on the nightly queue, its log read for the batches it finished."""

    def __init__(self) -> None:
        self.log = Path(tempfile.mkstemp(prefix="bench-nightly-worker-", suffix=".log")[1])
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "celery"),
                "-A",
                "rehab",
                "worker",
                "-Q",
                settings.NIGHTLY_QUEUE,
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
                "-n",
                f"bench-nightly-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its pool processes are stopped with it
        )
        self.cpu: dict[int, float] = {}

    def finished(self, task: str) -> list[int]:
        """The results of `task` the worker has logged as succeeded."""
        pattern = re.compile(rf"Task rehab\.tasks\.{task}\[[^\]]+\] succeeded in [\d.]+s: (\d+)")
        text = self.log.read_text(errors="replace")
        if "Traceback" in text or "raised unexpected" in text:
            raise RuntimeError(f"the worker failed a task; its log: {self.log}")
        return [int(m.group(1)) for m in pattern.finditer(text)]

    def sample_cpu(self) -> None:
        """Note the CPU time (user + system) used so far by the worker, its pool processes and
        the database server's processes serving this bench's database (sampled while a night
        runs, as a connection's process ends when the worker closes it). On this shared
        machine the wall time depends on everyone else's load, the CPU time much less."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            backends = [pid for (pid,) in cursor.fetchall()]
        for pid in (self.process.pid, *_children(self.process.pid), *backends):
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu(pid))

    def cpu_seconds(self) -> float:
        self.sample_cpu()
        return sum(self.cpu.values())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.unlink(missing_ok=True)


def night(worker: Worker, zone: str) -> tuple[float, int, int, float]:
    """Send the nightly run, wait until every batch it queued has finished: (seconds, plans
    evaluated, decisions written, CPU seconds of the worker and the database for it)."""
    Patient.objects.update(timezone=zone)
    before = ProgressionDecision.objects.count()
    cpu = worker.cpu_seconds()
    runs = len(worker.finished("progression_nightly"))
    done = len(worker.finished("progression_evaluate_batch"))
    t0 = time.perf_counter()
    tasks.progression_nightly.delay()
    while len(worker.finished("progression_nightly")) == runs:
        if worker.process.poll() is not None or time.perf_counter() - t0 > 3 * GOAL_S:
            raise RuntimeError("the worker stopped or the nightly run never ended")
        worker.sample_cpu()
        time.sleep(0.2)
    batches = worker.finished("progression_nightly")[-1]
    while len(worker.finished("progression_evaluate_batch")) < done + batches:
        if worker.process.poll() is not None or time.perf_counter() - t0 > 3 * GOAL_S:
            raise RuntimeError("the worker stopped or the nightly batches never ended")
        worker.sample_cpu()
        time.sleep(0.2)
    seconds = time.perf_counter() - t0
    cpu = worker.cpu_seconds() - cpu
    evaluated = sum(worker.finished("progression_evaluate_batch")[done:])
    return seconds, evaluated, ProgressionDecision.objects.count() - before, cpu


def main() -> None:
    if VENDOR != "postgresql":
        print("nightly: skipped, needs DATABASE_URL on PostgreSQL (bulk SQL, a shared worker)")
        return
    call_command("migrate", verbosity=0)
    first_day = local_today(NIGHT_ZONES[0])
    t0 = time.perf_counter()
    populate(PLANS, first_day)
    sessions = SessionLog.objects.count()
    print(
        f"nightly: {PLANS:,} active plans, {sessions:,} sessions on PostgreSQL "
        f"(made in {time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(settings.NIGHTLY_QUEUE)  # an aborted run's batches
    worker = Worker()
    try:
        first = night(worker, NIGHT_ZONES[0])
        if local_today(NIGHT_ZONES[0]) != first_day:
            raise RuntimeError("the first night's date changed while it ran; run it again")
        second = night(worker, NIGHT_ZONES[1])
    finally:
        worker.stop()
    for name, (seconds, evaluated, written, cpu) in (("first", first), ("second", second)):
        print(
            f"nightly: {name} night {seconds:6.1f} s, {evaluated:,} plans evaluated, "
            f"{written:,} decisions written; {cpu:.0f} CPU s (worker and database), "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            flush=True,
        )
    assert first[1] == second[1] == PLANS, (first, second)
    record(
        "nightly.progression",
        value=max(first[0], second[0]),
        goal=GOAL_S,
        unit="s",
        lower_is_better=True,
        db=VENDOR,
        plans=PLANS,
        sessions=sessions,
        concurrency=2,
        first_night_s=round(first[0], 1),
        first_night_decisions=first[2],
        second_night_s=round(second[0], 1),
        second_night_decisions=second[2],
        # CPU seconds of the worker and the database for each night: the wall time on an idle
        # machine with these 2 cores is about half of it.
        first_night_cpu_s=round(first[3], 1),
        second_night_cpu_s=round(second[3], 1),
        load_average=round(os.getloadavg()[0], 1),
    )


if __name__ == "__main__":
    main()
