"""`make bench-load`: the load test of the whole service, with locust, on loopback.

200 simulated patients log sessions (100 through the portal with a signed-in session, 100
through the API with personal tokens, as a phone app) while 20 clinicians browse the dashboard
(Today, its page 2, a search, a patient's page), for 5 minutes (BENCH_LOAD_SECONDS; 30 s with
BENCH_QUICK=1), against the production shape: gunicorn as the Dockerfile runs it (3 sync
workers, access log on), PostgreSQL, Redis as broker and cache (a private redis-server on a
spare port) and the Celery worker(s) as docker-compose.yml runs them. What the simulated people
do is bench/locustfile.py.

It prints p50/p95/p99 per endpoint and the errors, and records `load.p95_ms_max`: the highest
p95 of any endpoint, sign-in excluded (argon2 is slow on purpose, and a person signs in once);
goal 200 ms, 0 errors. The exit status is non-zero when a request failed (the target is no
error at all) or a process could not start, not when the p95 goal is missed.

Needs DATABASE_URL naming a PostgreSQL server (a throw-away database `<name>_bench_load` is made
there and dropped) and redis-server on PATH. Every process it starts listens on 127.0.0.1 only,
on ports the OS chose, and is stopped at the end, also on error or Ctrl-C. Not part of `make
bench` (five minutes would not fit its fifteen).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

DB = common.throwaway_database("load")
WORK = Path(os.environ["VAR_DIR"])  # the throw-away VAR_DIR: logs, locust's CSV files, mail
REDIS_PORT, WEB_PORT = common.free_port(), common.free_port()
HOST = f"http://127.0.0.1:{WEB_PORT}"
# Every process started here sees the same configuration as this one.
os.environ.update(
    DJANGO_SETTINGS_MODULE="rehab.settings",
    DEBUG="false",
    SECRET_KEY=secrets.token_urlsafe(50),
    REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",  # the cache takes the next database, 1
    LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
)

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from rehab import services  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.clinical.levels import loggable_settings  # noqa: E402
from rehab.clinical.screening import negative_answers  # noqa: E402
from rehab.models import Clinic, Clinician, Protocol, SessionLog, User  # noqa: E402

SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS") or common.quick(300, 30))
# The 200 patients (half through the portal, half through the API) and 20 clinicians;
# BENCH_LOAD_PATIENTS and BENCH_LOAD_CLINICIANS change them (a look on a busy machine).
PATIENTS = int(os.environ.get("BENCH_LOAD_PATIENTS") or 200)
PORTAL_PATIENTS, API_PATIENTS = PATIENTS // 2, PATIENTS - PATIENTS // 2
CLINICIANS = int(os.environ.get("BENCH_LOAD_CLINICIANS") or 20)
USERS = PORTAL_PATIENTS + API_PATIENTS + CLINICIANS
SPAWN_RATE = 20  # users started per second
# Patients who only fill the dashboard (no sign-in): the clinic has 500 patients in all (the
# dashboard's own bench measures 10,000).
OTHER_PATIENTS = common.quick(300, 0)
HISTORY_DAYS = 28  # four weeks of sessions each, bulk-made before the run
LOG_DAYS = 60  # days each simulated patient can still log, one session a day
GOAL_MS = 200.0
PASSWORD = secrets.token_urlsafe(16)
STOP_GRACE = 30.0
# Seconds the users have to sign in before the measured window (argon2 on 2 cores: 120 sign-ins
# take 15 to 30 s of CPU on a quiet machine, minutes on a busy one).
SIGN_IN_ALLOWANCE = 300


def fail(message: str) -> None:
    print(f"load: FAILED: {message}", flush=True)
    sys.exit(1)


# --- the world ------------------------------------------------------------------------------


def seed() -> dict:
    """The clinic, its people and their plans; what the simulated users need to sign in."""
    services.protocol_library_load()
    # One hash for every account: argon2 costs a tenth of a second a password by design, and
    # the run measures sign-ins, not the seeding.
    hashed = make_password(PASSWORD)
    with transaction.atomic():
        clinic = Clinic.objects.create(
            name="Load clinic",
            slug=f"load-{time.time_ns()}",
            timezone="UTC",
            require_two_step=False,
        )
        clinicians = []
        for i in range(CLINICIANS):
            user = User.objects.create(
                username=f"clinician{i:02d}",
                email=f"clinician{i:02d}@load.example",
                password=hashed,
            )
            clinicians.append(Clinician.objects.create(user=user, clinic=clinic))
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=HISTORY_DAYS + LOG_DAYS)
    people = {"portal": [], "api": [], "patient_ids": []}
    total = PORTAL_PATIENTS + API_PATIENTS + OTHER_PATIENTS
    for i in range(total):
        kind = "portal" if i < PORTAL_PATIENTS else "api" if i < total - OTHER_PATIENTS else None
        with transaction.atomic():
            plan = patient_with_history(
                clinic, clinicians[i % CLINICIANS].user, i, start, hashed if kind else None
            )
        people["patient_ids"].append(plan.patient_id)
        if kind is None:
            continue
        person = {
            "username": plan.patient.user.username,
            "plan": plan.pk,
            "first_day": str(start + dt.timedelta(days=HISTORY_DAYS)),
            "last_day": str(today),
        }
        if kind == "api":
            _, person["token"] = services.personal_token_create(
                user=plan.patient.user, clinic=clinic
            )
        people[kind].append(person)
    return {
        **people,
        "clinicians": [{"username": c.user.username} for c in clinicians],
        "password": PASSWORD,
        **dict(zip(("setting", "speed_kmh"), prescription(plan), strict=True)),
        # Surnames are Walker0000...: "Walker012" finds ten patients, "Kim" a fifth of the
        # clinic, "Walker0042" one.
        "search_terms": [f"Walker{n:03d}" for n in range(0, total // 10, 7)]
        + ["Kim", "Walker0042"],
    }


def prescription(plan) -> tuple[str, float]:
    """A setting and a speed inside the plan's first level (the level stays: nothing is
    applied without a clinician's approval), so no session is off plan."""
    level = plan.level_objs()[0]
    constraints = plan.constraints_obj
    speed = level.speed_kmh or 1.0
    if constraints.max_speed_kmh is not None:
        speed = min(speed, constraints.max_speed_kmh)
    return loggable_settings(level, constraints)[0], speed


def patient_with_history(clinic, assigner, i: int, start: dt.date, hashed):
    user = None
    if hashed:
        user = User.objects.create(username=f"patient{i:04d}", password=hashed)
    patient = services.patient_create(
        clinic=clinic,
        actor=assigner,
        first_name=("Ana", "Ben", "Chloe", "Dev", "Kim")[i % 5],
        last_name=f"Walker{i:04d}",
        condition=L.KNEE_OA,
        email=f"patient{i:04d}@load.example",
        timezone_name="UTC",
        user=user,
    )
    services.screening_submit(
        patient=patient, answers=negative_answers(L.KNEE_OA), actor=assigner, today=start
    )
    plan = services.plan_assign(
        patient=patient,
        protocol=Protocol.objects.get(clinic__isnull=True, condition=L.KNEE_OA),
        actor=assigner,
        start_date=start,
        schedule_days=list(range(7)),
        today=start,
    )
    setting, speed = prescription(plan)
    SessionLog.objects.bulk_create(
        SessionLog(
            plan=plan,
            patient=patient,
            date=start + dt.timedelta(days=n),
            level_index=0,
            minutes_done=10,
            speed_kmh=speed,
            setting=setting,
            pain_before=1,
            pain_worst=2,
            pain_after=1,
            effort=3,
        )
        for n in range(HISTORY_DAYS)
    )
    return plan


# --- the processes --------------------------------------------------------------------------


class Processes:
    """What the run starts, each in a session of its own (a stop reaches its children too),
    its output in WORK/<name>.log; stopped in reverse order."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], **kwargs) -> subprocess.Popen:
        log = open(WORK / f"{name}.log", "w")  # noqa: SIM115 (the child writes to it until it ends)
        process = subprocess.Popen(
            args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        self.started.append((name, process))
        return process

    def check(self) -> None:
        for name, process in self.started:
            if process.poll() is not None:
                fail(f"{name} exited with {process.returncode}:\n{tail(name)}")

    def stop_all(self) -> None:
        for _, process in reversed(self.started):
            stop(process)
        self.started.clear()


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_GRACE)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def keep_logs() -> None:
    """The processes' logs (gunicorn's access log among them) and locust's CSV files, kept in
    var/bench/load/ (the throw-away VAR_DIR goes at exit)."""
    kept = ROOT / "var" / "bench" / "load"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    for path in [*WORK.glob("*.log"), *WORK.glob("load_*.csv")]:
        shutil.copy(path, kept / path.name)
    print(f"load: logs and locust's CSV files in {kept.relative_to(ROOT)}/", flush=True)


def tail(name: str, lines: int = 20) -> str:
    path = WORK / f"{name}.log"
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
    )


def wait_for(predicate, seconds: float, what: str, processes: Processes) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        processes.check()
        time.sleep(0.25)
    fail(f"{what}: not within {seconds:.0f} s")


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def web_up() -> bool:
    try:
        with urllib.request.urlopen(f"{HOST}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def worker_commands() -> list[tuple[str, list[str]]]:
    """The Celery worker(s) as docker-compose.yml runs them (its queues and concurrency)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = []
    for name, service in compose["services"].items():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["celery"] and "worker" in command:
            # One host here, several containers there: each worker needs a name of its own.
            named = any(arg == "-n" or arg.startswith(("-n", "--hostname")) for arg in command)
            extra = [] if named else ["-n", f"{name}@%h"]
            commands.append((name, [str(BIN / "celery"), *command[1:], *extra]))
    if not commands:
        fail("docker-compose.yml runs no Celery worker")
    return commands


def start_service(processes: Processes) -> None:
    processes.start(
        "redis",
        [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(WORK),
        ],
    )
    wait_for(redis_up, 20, "redis-server to answer", processes)
    # The Dockerfile's command, on loopback: 3 sync workers, the access log on standard output.
    processes.start(
        "web",
        [
            str(BIN / "gunicorn"),
            "rehab.wsgi:application",
            "--bind",
            f"127.0.0.1:{WEB_PORT}",
            "--workers",
            "3",
            "--access-logfile",
            "-",
        ],
    )
    for name, command in worker_commands():
        processes.start(name, command)
    wait_for(web_up, 60, "gunicorn to answer /healthz", processes)
    for name, _ in worker_commands():
        wait_for(lambda n=name: " ready." in tail(n, 200), 60, f"the {name} to be ready", processes)


# --- where the cores went ---------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


class CpuSampler(threading.Thread):
    """The CPU seconds used by each process this run started (with its children: it started each
    in a session of its own), by PostgreSQL's processes and by the whole machine, sampled once a
    second from /proc, so that the measured window's share of the two cores can be told: on one
    machine the load generator, the web workers, the Celery worker and the database all take
    turns on the same cores, and a request's time includes its wait for one."""

    def __init__(self, processes: Processes) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(1.0):
            self.samples.append((time.time(), self.sample()))

    def sample(self) -> dict[str, float]:
        names = {process.pid: name for name, process in self.processes.started}
        used: dict[str, float] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    stat = f.read()
            except OSError:  # gone meanwhile
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            # fields[3] is the session id; fields[11] and [12] user and system ticks.
            name = names.get(int(fields[3])) or ("postgres" if comm == "postgres" else None)
            if name:
                used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / _TICK
        with open("/proc/stat") as f:
            ticks = [int(n) for n in f.readline().split()[1:]]
        used["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / _TICK  # all but idle and iowait
        return used

    def cores(self, first: float, last: float) -> dict[str, float]:
        """Cores in use on average between the samples nearest `first` and `last` (unix times),
        by process; "machine" is everything that ran, this run's or not."""
        self.done.set()
        within = [s for s in self.samples if first <= s[0] <= last]
        if len(within) < 2:
            return {}
        (t0, start), (t1, end) = within[0], within[-1]
        return {
            name: round((end[name] - start.get(name, 0.0)) / (t1 - t0), 2)
            for name in end
            if name in start or name == "postgres"
        }


# --- locust and its figures -------------------------------------------------------------------


def run_locust(processes: Processes, people_file: Path) -> dict:
    """locust's run; what the locustfile recorded (sign-ins, failures, the window's start)."""
    record_file = WORK / "locust-record.json"
    # -t bounds the whole run; the locustfile itself ends it SECONDS after the last sign-in.
    limit = SECONDS + SIGN_IN_ALLOWANCE
    locust = processes.start(
        "locust",
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(USERS),
            "-r",
            str(SPAWN_RATE),
            "-t",
            f"{limit}s",
            "--stop-timeout",
            "15",
            "--host",
            HOST,
            "--csv",
            str(WORK / "load"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env={
            **os.environ,
            "LOAD_PEOPLE": str(people_file),
            "LOAD_SECONDS": str(SECONDS),
            "LOAD_RECORD": str(record_file),
            "LOAD_SIGN_IN_SECONDS": str(SIGN_IN_ALLOWANCE),
        },
    )
    try:
        locust.wait(timeout=limit + 60)
    except subprocess.TimeoutExpired:
        fail(f"locust still running {limit + 60} s after it started:\n{tail('locust')}")
    if not (WORK / "load_stats.csv").exists() or not record_file.exists():
        fail(f"locust wrote no figures (exit {locust.returncode}):\n{tail('locust')}")
    record = json.loads(record_file.read_text())
    if record["window_started"] is None:
        fail(f"the users were not all signed in within {SIGN_IN_ALLOWANCE} s")
    return record


def read_stats() -> list[dict]:
    with open(WORK / "load_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def read_exceptions() -> list[dict]:
    """Exceptions raised in the locustfile itself (a bug there, not in the service)."""
    path = WORK / "load_exceptions.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def percentile(values: list[float], share: float) -> float:
    """Nearest rank, as locust's own figures."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


def endpoint_figures(rows: list[dict], record: dict) -> dict[str, dict]:
    """Per endpoint: the measured window's percentiles (locust's CSV), the sign-ins' from the
    whole run (they all happen before the window), and the errors of the whole run."""
    errors = Counter(name for name, _ in record["failures"])
    figures = {}
    for row in rows:
        name = row["Name"] if row["Type"] else "all requests"
        if name.startswith("sign-in"):
            continue  # a late sign-in's retry, if any: counted below with the others
        if not int(row["Request Count"]):
            continue  # asked for before the window only
        figures[name] = {
            "requests": int(row["Request Count"]),
            "errors": errors[name] if row["Type"] else sum(errors.values()),
            "p50_ms": float(row["50%"] or 0),
            "p95_ms": float(row["95%"] or 0),
            "p99_ms": float(row["99%"] or 0),
            "per_s": float(row["Requests/s"] or 0),
        }
    sign_ins: dict[str, list[float]] = {}
    for name, took, _ in record["sign_in"]:
        sign_ins.setdefault(name, []).append(took)
    for name, times in sorted(sign_ins.items()):
        figures[name] = {
            "requests": len(times),
            "errors": errors[name],
            "p50_ms": percentile(times, 0.50),
            "p95_ms": percentile(times, 0.95),
            "p99_ms": percentile(times, 0.99),
            "per_s": None,
        }
    return figures


def report(
    figures: dict[str, dict],
    record: dict,
    exceptions: list[dict],
    logged: int,
    cores: dict[str, float],
) -> int:
    """Print the table, record the figure; the number of errors."""
    print(
        f"\nload: {USERS} users ({PORTAL_PATIENTS} portal patients, {API_PATIENTS} API patients, "
        f"{CLINICIANS} clinicians) on {HOST}, {DB}; percentiles of the {SECONDS} s after every "
        "user was signed in (sign-ins: all of them); errors of the whole run"
    )
    heads = ("requests", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s")
    print(f"{'endpoint':<36}" + "".join(f"{head:>9}" for head in heads))
    for name, f in figures.items():
        rate = "-" if f["per_s"] is None else f"{f['per_s']:.1f}"
        print(
            f"{name:<36}{f['requests']:>9}{f['errors']:>9}{f['p50_ms']:>9.0f}{f['p95_ms']:>9.0f}"
            f"{f['p99_ms']:>9.0f}{rate:>9}"
        )
    for (name, message), count in Counter(map(tuple, record["failures"])).most_common(20):
        print(f"error: {count} x {name}: {message}")
    for exception in exceptions:
        print(f"exception in the locustfile: {exception['Count']} x {exception['Message'][:300]}")
    if cores:
        print(
            f"cores in use in the window (of {os.cpu_count()}): "
            + ", ".join(f"{name} {used:.2f}" for name, used in sorted(cores.items()))
        )
    errors = len(record["failures"]) + sum(int(e["Count"]) for e in exceptions)
    measured = {
        n: f for n, f in figures.items() if n != "all requests" and not n.startswith("sign-in")
    }
    if not measured:
        fail("no request was measured")
    worst = max(measured, key=lambda n: measured[n]["p95_ms"])
    print(
        f"highest p95 (sign-in excluded): {measured[worst]['p95_ms']:.0f} ms, {worst} "
        f"(goal {GOAL_MS:.0f} ms); errors: {errors} (target 0); sessions logged: {logged}",
        flush=True,
    )
    common.record(
        "load.p95_ms_max",
        value=measured[worst]["p95_ms"],
        goal=GOAL_MS,
        unit="ms",
        lower_is_better=True,
        db=DB,
        slowest=worst,
        errors=errors,
        seconds=SECONDS,
        users=USERS,
        sessions_logged=logged,
        cores=cores,
        endpoints=figures,
    )
    return errors


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below still runs
    if DB != "postgresql":
        fail("set DATABASE_URL to a PostgreSQL server (postgres://postgres@127.0.0.1:5432/NAME)")
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: manifest storage
    migrated = time.monotonic()
    print(f"load: migrated in {migrated - started:.0f} s", flush=True)
    people = seed()
    people_file = WORK / "people.json"
    people_file.write_text(json.dumps(people))
    before = SessionLog.objects.count()
    print(
        f"load: seeded {len(people['patient_ids'])} patients and {CLINICIANS} clinicians in "
        f"{time.monotonic() - migrated:.0f} s",
        flush=True,
    )
    processes = Processes()
    try:
        start_service(processes)
        print(
            f"load: gunicorn, redis-server and the worker are up; locust for {SECONDS} s",
            flush=True,
        )
        sampler = CpuSampler(processes)
        sampler.start()
        record = run_locust(processes, people_file)
        cores = sampler.cores(record["window_started"], record["window_started"] + SECONDS)
    finally:
        processes.stop_all()
        keep_logs()
    logged = SessionLog.objects.count() - before
    errors = report(
        endpoint_figures(read_stats(), record), record, read_exceptions(), logged, cores
    )
    print(f"load: done in {time.monotonic() - started:.0f} s", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
