"""`make bench`, API half: requests/s of the REST API's two hot endpoints served by gunicorn, as
ratios to a minimal DRF endpoint doing the least the same job needs, measured in one run, the
endpoints interleaved (absolute rates on a shared 2-core machine are noise; the ratios are the
figures).

- `api.sessions_post`: POST /api/v1/sessions/ (validation, the plan looked up and locked once,
  the session with its due evaluation, audit) vs POST bench/minimal/insert/ (one row inserted in
  a transaction, as the service's own); goal >= 0.5;
- `api.sessions_post_idempotent`: the same POST with a unique Idempotency-Key each (the key
  claimed, the response stored) vs the same minimal insert; goal >= 0.5;
- `api.patients_get`: GET /api/v1/patients/ (a page of 25: scoping, filters, ordering, audited
  reads) vs GET bench/minimal/list/ (a page of 25 rows of the Patient table); goal >= 0.7.

Production-like gunicorn: the Dockerfile's worker model (3 sync workers), the access log on (to
a file in the temporary VAR_DIR; gunicorn.conf.py's private logger applies, the working
directory being the repository root). The minimal endpoints (bench/urls.py) go through the same
DRF stack (API-key authentication, permission, throttles, JSON renderer, paginator), so a ratio
is what the view itself costs.

Redis as in production, broker and cache (a private redis-server, bench/common.py; without
the binary, the embedded filesystem broker and local-memory cache). The deferred progression
evaluation of each logged session (tasks.session_evaluate) is only queued, never run: no worker
reads the broker. The request pays for what it does in production (the publish after commit),
not for the worker's share.

Queries per request are counted in this process with DRF's APIClient against the same views.
Everything runs against a throw-away database (bench/common.py). BENCH_QUICK=1: fewer requests.
"""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    free_port,
    private_redis,
    quick,
    record,
    throwaway_database,
)

DB = throwaway_database("api")
TMP = Path(os.environ["VAR_DIR"])
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["DEBUG"] = "false"
os.environ["API_THROTTLE_RATE"] = "1000000/s"  # the benchmark measures work, not the throttle
REDIS = private_redis()
if REDIS:
    os.environ["REDIS_URL"] = REDIS  # the cache takes the next database, 1
else:
    os.environ.pop("REDIS_URL", None)  # the filesystem broker under VAR_DIR
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from rehab import services  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.clinical.screening import negative_answers  # noqa: E402
from rehab.models import Clinic, Patient, Protocol  # noqa: E402

PATIENTS = 50  # two pages of the patient list at the default page size of 25
# Measured requests per endpoint, split into interleaved rounds of 100: rounds of a third of a
# second (600 in 8) left the ratio at the mercy of one slow spell of the machine.
REQUESTS = quick(1500, 60)
ROUNDS = quick(15, 2)
WARMUP = quick(15, 5)  # requests per endpoint before measuring (imports, connections, caches)
WORKERS = 3  # the Dockerfile's: gunicorn --workers 3, the default sync worker class
CONNECTIONS = WORKERS  # one client per worker: a sync worker serves one request at a time
LOAD_BUDGET = 75.0  # seconds for all the HTTP load; a batch stops early when it runs out
REQUEST_TIMEOUT = 15.0
VERBOSE = os.environ.get("BENCH_API_VERBOSE", "") not in ("", "0")

# figure name, goal, the measured endpoint's label, its baseline's label
FIGURES = (
    ("api.sessions_post", 0.5, "POST sessions", "minimal insert"),
    ("api.sessions_post_idempotent", 0.5, "POST sessions + key", "minimal insert"),
    ("api.patients_get", 0.7, "GET patients", "minimal list"),
)


# --- The world ------------------------------------------------------------------------------


class Slots:
    """(plan, date) pairs no session was logged for yet: one log per plan per day, never in the
    future, never before the plan's start. Handed out newest day first, so the progression
    window fills as it would for patients logging day after day."""

    def __init__(self, plan_ids: list[int], today: dt.date, days: int) -> None:
        self._pairs = [
            (plan_id, today - dt.timedelta(days=back))
            for back in range(days)
            for plan_id in plan_ids
        ]
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[int, dt.date]:
        with self._lock:
            if self._next >= len(self._pairs):
                raise RuntimeError("out of (plan, day) slots for session logs")
            pair = self._pairs[self._next]
            self._next += 1
            return pair


@dataclass
class World:
    raw_key: str
    slots: Slots


def build_world() -> World:
    call_command("migrate", verbosity=0)
    services.protocol_library_load()
    # Two session endpoints: warm-up, measured and counted in process, with a margin.
    needed = 2 * (WARMUP + REQUESTS + 10)
    days = math.ceil(needed / PATIENTS) + 1
    with transaction.atomic():
        clinic = Clinic.objects.create(name="Bench", slug=f"bench-{time.time_ns()}")
        protocol = Protocol.objects.get(clinic__isnull=True, condition=L.KNEE_OA)
        plan_ids = []
        today = None
        for i in range(PATIENTS):
            patient = Patient.objects.create(
                clinic=clinic, first_name="Bench", last_name=f"{i:03d}", condition=L.KNEE_OA
            )
            today = patient.local_today()
            start = today - dt.timedelta(days=days - 1)
            services.screening_submit(
                patient=patient, answers=negative_answers(L.KNEE_OA), actor=None, today=start
            )
            plan = services.plan_assign(
                patient=patient, protocol=protocol, actor=None, start_date=start, today=start
            )
            plan_ids.append(plan.pk)
        _, raw_key = services.api_key_create(clinic=clinic, name="bench", actor=None)
    return World(raw_key=raw_key, slots=Slots(plan_ids, today, days))


# --- The endpoints --------------------------------------------------------------------------

_keys = itertools.count()


@dataclass(frozen=True)
class Endpoint:
    label: str
    method: str
    path: str
    expect: int
    body: object = None  # a callable giving each request's JSON body, or None
    idempotent: bool = False  # a unique Idempotency-Key per request

    def payload(self) -> dict | None:
        return self.body() if self.body else None

    def headers(self) -> dict[str, str]:
        if not self.idempotent:
            return {}
        return {"Idempotency-Key": f"bench-{os.getpid()}-{next(_keys)}"}


def endpoints(world: World) -> list[Endpoint]:
    def session_body() -> dict:
        # A session with no safety signal: its evaluation is deferred work, as for most logs.
        plan_id, day = world.slots.take()
        return {
            "plan": plan_id,
            "date": day.isoformat(),
            "minutes_done": 10,
            "pain_before": 2,
            "pain_worst": 3,
            "pain_after": 2,
            "effort": 3,
            "setting": L.TREADMILL_BOTH_HANDRAILS,
            "speed_kmh": 1.5,
        }

    def insert_body() -> dict:
        return {"action": "bench.insert", "object_type": "bench", "object_id": "1"}

    return [
        Endpoint("POST sessions", "POST", "/api/v1/sessions/", 201, session_body),
        Endpoint("POST sessions + key", "POST", "/api/v1/sessions/", 201, session_body, True),
        Endpoint("minimal insert", "POST", "/bench/minimal/insert/", 201, insert_body),
        Endpoint("GET patients", "GET", "/api/v1/patients/", 200),
        Endpoint("minimal list", "GET", "/bench/minimal/list/", 200),
    ]


# --- gunicorn -------------------------------------------------------------------------------


class Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.log_path = TMP / "gunicorn.log"
        self.access_log = TMP / "access.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        # The Dockerfile's command, on loopback and a port the system chose; the access log to a
        # file (the image writes it to stdout, which a container runtime then stores).
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "rehab.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(WORKERS),
            "--access-logfile",
            str(self.access_log),
            "--graceful-timeout",
            "5",
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}\n{self.log()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn was not ready within 30 s\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def access_lines(self) -> int:
        try:
            with open(self.access_log, "rb") as lines:
                return sum(1 for _ in lines)
        except OSError:
            return 0


# --- Load -----------------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    seconds: float = 0.0
    rounds: list[float] = field(default_factory=list)  # requests/s of each measured round
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_batch(port: int, raw_key: str, endpoint: Endpoint, n: int, deadline: float):
    """n requests over CONNECTIONS client threads; (done, seconds, errors). A sync worker closes
    the connection after each response; http.client then opens the next one by itself."""
    headers = {
        "Authorization": f"Api-Key {raw_key}",
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Host": f"127.0.0.1:{port}",
    }
    lock = threading.Lock()
    issued = [0]
    done = [0]
    errors: list[str] = []
    barrier = threading.Barrier(CONNECTIONS + 1)

    def claim() -> bool:
        with lock:
            if issued[0] >= n or time.monotonic() > deadline:
                return False
            issued[0] += 1
            return True

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        barrier.wait()
        try:
            while claim():
                payload = endpoint.payload()
                body = json.dumps(payload).encode() if payload is not None else None
                try:
                    conn.request(
                        endpoint.method,
                        endpoint.path,
                        body=body,
                        headers={**headers, **endpoint.headers()},
                    )
                    response = conn.getresponse()
                    content = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()  # reconnect on the next request; never retry a POST
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    if response.status == endpoint.expect:
                        done[0] += 1
                    else:
                        errors.append(f"{response.status}: {content[:300]!r}")
        except Exception as exc:  # e.g. out of session slots: report it, never hang the batch
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * (n + 1))
    return done[0], time.perf_counter() - t0, errors


def measure(server: Server, world: World, eps: list[Endpoint]) -> dict[str, Tally]:
    tallies = {ep.label: Tally() for ep in eps}
    deadline = time.monotonic() + LOAD_BUDGET
    for ep in eps:  # warm-up: every worker imports, connects and fills its caches
        _, _, errors = run_batch(server.port, world.raw_key, ep, WARMUP, deadline)
        tallies[ep.label].errors += errors
    per_round = math.ceil(REQUESTS / ROUNDS)
    for r in range(ROUNDS):
        # Interleaved, each round in another order, so drift (a growing table, a noisy
        # neighbour) falls on every endpoint alike.
        order = eps[r % len(eps) :] + eps[: r % len(eps)]
        for ep in order:
            done, seconds, errors = run_batch(server.port, world.raw_key, ep, per_round, deadline)
            tally = tallies[ep.label]
            tally.requests += done
            tally.seconds += seconds
            tally.errors += errors
            if done:
                tally.rounds.append(done / seconds)
    return tallies


# --- Queries, in process --------------------------------------------------------------------


def count_queries(world: World, eps: list[Endpoint]) -> dict[str, list[int]]:
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.raw_key}")
    counts: dict[str, list[int]] = {}
    for ep in eps:
        counts[ep.label] = []
        for attempt in range(4):  # the first is a warm-up (the key's last-used touch, caches)
            payload = ep.payload()
            extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in ep.headers().items()}
            with CaptureQueriesContext(connection) as ctx:
                if ep.method == "POST":
                    response = client.post(ep.path, payload, format="json", **extra)
                else:
                    response = client.get(ep.path, **extra)
            if response.status_code != ep.expect:
                raise RuntimeError(f"{ep.label}: {response.status_code} {response.content[:300]}")
            if attempt:
                counts[ep.label].append(len(ctx.captured_queries))
            if VERBOSE and attempt == 1:
                print(f"\n{ep.label}: {len(ctx.captured_queries)} queries")
                for query in ctx.captured_queries:
                    print("   ", query["sql"][:240])
    return counts


# --- Report ---------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def queries_text(n: list[int]) -> str:
    return f"{min(n)}" if min(n) == max(n) else f"{min(n)}-{max(n)}"


def report(tallies: dict[str, Tally], counts: dict[str, list[int]]) -> None:
    print(
        f"API on gunicorn ({WORKERS} sync workers, access log on), {CONNECTIONS} clients, "
        f"database: {DB}, broker and cache: {'redis' if REDIS else 'embedded'}; "
        f"{REQUESTS} requests per endpoint in {ROUNDS} interleaved rounds "
        f"after {WARMUP} warm-up requests each"
    )
    print(f"{'endpoint':<22}{'req/s':>9}{'ratio':>8}{'round range':>13}{'queries':>9}  goal")
    shown = set()
    for name, goal, real, minimal in FIGURES:
        t_real, t_min = tallies[real], tallies[minimal]
        ratio = t_real.rate / t_min.rate if t_min.rate else 0.0
        per_round = [a / b for a, b in zip(t_real.rounds, t_min.rounds, strict=False) if b]
        record(
            name,
            value=ratio,
            goal=goal,
            unit="ratio",
            lower_is_better=False,
            db=DB,
            req_per_s=round(t_real.rate, 1),
            baseline_req_per_s=round(t_min.rate, 1),
            queries=queries_text(counts[real]),
            baseline_queries=queries_text(counts[minimal]),
            round_ratios=spread(per_round),
            requests=t_real.requests,
            workers=WORKERS,
        )
        print(
            f"{real:<22}{t_real.rate:>9.0f}{ratio:>8.2f}{spread(per_round):>13}"
            f"{queries_text(counts[real]):>9}  >= {goal}"
        )
        if minimal not in shown:
            shown.add(minimal)
            print(
                f"{'  ' + minimal:<22}{t_min.rate:>9.0f}{'1.00':>8}{'':>13}"
                f"{queries_text(counts[minimal]):>9}"
            )


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below still runs
    server = Server()
    try:
        world = build_world()
        eps = endpoints(world)
        connection.close()  # the workers write to the same database: hold nothing open
        server.start()
        tallies = measure(server, world, eps)
        server.stop()
        if not server.access_lines():
            raise RuntimeError("gunicorn wrote no access log: not the production-like set-up")
        counts = count_queries(world, eps)
        report(tallies, counts)
        failed = {label: t.errors for label, t in tallies.items() if t.errors}
        if failed:
            print("\nunexpected responses (the figures above are not valid):")
            for label, errors in failed.items():
                print(f"  {label}: {len(errors)}, e.g. {errors[0]}")
            return 1
        short = [label for label, t in tallies.items() if t.requests < REQUESTS]
        if short:
            print(f"\nnote: the time budget ran out before all requests of: {', '.join(short)}")
        return 0
    except Exception:
        log = server.log()
        if log:
            print(f"gunicorn log (tail):\n{log}", file=sys.stderr)
        raise
    finally:
        server.stop()
        connection.close()


if __name__ == "__main__":
    sys.exit(main())
