"""`make bench`, API half: requests/s of two REST endpoints served by gunicorn, as ratios to a
minimal DRF endpoint doing the least the same job needs, measured in the same run on the same
machine (absolute rates on a shared 2-core machine are noise; the ratios are the figures).

- POST /api/v1/sessions/ (log a session: validation, audit, progression evaluation) vs
  POST bench/minimal/insert/ (insert one AuditEvent row);
- GET /api/v1/patients/ (a page of 25 patients: scoping, filters, ordering, audited reads) vs
  GET bench/minimal/list/ (a page of 25 rows of the Patient table).

The minimal endpoints (bench/urls.py) go through the same DRF stack (API-key authentication,
permission, throttles, JSON renderer, paginator), so a ratio is what the view itself costs. The
goal is at least 0.5. Queries per request are counted in this process with DRF's APIClient
against the same views (the gunicorn workers are other processes).

Everything runs against a throw-away database: SQLite under a fresh temporary VAR_DIR, or
DATABASE_URL when set. gunicorn listens on 127.0.0.1 only, on a free port, and is stopped at the
end, also on error. Knobs: BENCH_API_REQUESTS (measured requests per endpoint, default 600),
BENCH_API_CONNECTIONS (concurrent keep-alive connections, 4), BENCH_API_ROUNDS (the requests are
split into interleaved rounds, 6), BENCH_API_VERBOSE=1 (print the SQL of each counted request).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="retrowalk-bench-api-"))
# Always a fresh VAR_DIR (never var/ or the caller's); DATABASE_URL, when set, still wins.
os.environ["VAR_DIR"] = str(TMP / "var")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["DEBUG"] = "false"
os.environ["API_THROTTLE_RATE"] = "1000000/s"  # the benchmark measures work, not the throttle
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
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "600"))
CONNECTIONS = int(os.environ.get("BENCH_API_CONNECTIONS", "4"))
ROUNDS = max(1, int(os.environ.get("BENCH_API_ROUNDS", "6")))
VERBOSE = os.environ.get("BENCH_API_VERBOSE", "") not in ("", "0")
WARMUP = 20  # requests per endpoint before measuring (imports, connections, caches)
WORKERS, THREADS = 2, 2
GOAL = 0.5
LOAD_BUDGET = 70.0  # seconds for all the HTTP load; a batch stops early when it runs out
REQUEST_TIMEOUT = 15.0


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
    needed = 2 * WARMUP + REQUESTS + 20  # warm-up, measured, counted in-process, spare
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


@dataclass(frozen=True)
class Endpoint:
    label: str
    method: str
    path: str
    expect: int
    body: object = None  # a callable giving each request's JSON body, or None

    def payload(self) -> dict | None:
        return self.body() if self.body else None


def endpoints(world: World) -> tuple[Endpoint, Endpoint, Endpoint, Endpoint]:
    def session_body() -> dict:
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

    return (
        Endpoint("POST /api/v1/sessions/", "POST", "/api/v1/sessions/", 201, session_body),
        Endpoint("  minimal insert", "POST", "/bench/minimal/insert/", 201, insert_body),
        Endpoint("GET /api/v1/patients/", "GET", "/api/v1/patients/", 200),
        Endpoint("  minimal list", "GET", "/bench/minimal/list/", 200),
    )


# --- gunicorn -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.log_path = TMP / "gunicorn.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "rehab.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(THREADS),
            "--keep-alive",
            "30",
            "--graceful-timeout",
            "5",
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
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
    """n requests over CONNECTIONS keep-alive connections; (done, seconds, errors)."""
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
                    conn.request(endpoint.method, endpoint.path, body=body, headers=headers)
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


def measure(server: Server, world: World, eps) -> dict[str, Tally]:
    tallies = {ep.label: Tally() for ep in eps}
    deadline = time.monotonic() + LOAD_BUDGET
    for ep in eps:  # warm-up: both workers import, connect and fill their caches
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


def count_queries(world: World, eps) -> dict[str, list[int]]:
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.raw_key}")
    counts: dict[str, list[int]] = {}
    for ep in eps:
        counts[ep.label] = []
        for attempt in range(4):  # the first is a warm-up (the key's last-used touch, caches)
            payload = ep.payload()
            with CaptureQueriesContext(connection) as ctx:
                if ep.method == "POST":
                    response = client.post(ep.path, payload, format="json")
                else:
                    response = client.get(ep.path)
            if response.status_code != ep.expect:
                raise RuntimeError(f"{ep.label}: {response.status_code} {response.content[:300]}")
            if attempt:
                counts[ep.label].append(len(ctx.captured_queries))
            if VERBOSE and attempt == 1:
                print(f"\n{ep.label.strip()}: {len(ctx.captured_queries)} queries")
                for query in ctx.captured_queries:
                    print("   ", query["sql"][:240])
    return counts


# --- Report ---------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def report(eps, tallies: dict[str, Tally], counts: dict[str, list[int]]) -> None:
    print(
        f"API on gunicorn (gthread, {WORKERS} workers x {THREADS} threads), "
        f"{CONNECTIONS} keep-alive connections, database: {connection.vendor}"
    )
    print(
        f"{REQUESTS} requests per endpoint in {ROUNDS} interleaved rounds, after {WARMUP} "
        "warm-up requests each"
    )
    print(
        f"ratio = req/s over its minimal endpoint's, goal >= {GOAL} (req/s alone are this "
        "run's noise)"
    )
    print("round range = the ratio in each round; queries = per request, counted in process")
    print()
    print(f"{'endpoint':<26}{'req/s':>9}{'ratio':>8}{'round range':>13}{'queries':>9}")
    pairs = [(eps[0], eps[1]), (eps[2], eps[3])]
    for real, minimal in pairs:
        t_real, t_min = tallies[real.label], tallies[minimal.label]
        ratio = t_real.rate / t_min.rate if t_min.rate else 0.0
        per_round = [a / b for a, b in zip(t_real.rounds, t_min.rounds, strict=False) if b]
        verdict = "ok" if ratio >= GOAL else "below goal"
        for ep, tally, ratio_text, round_text, note in (
            (real, t_real, f"{ratio:.2f}", spread(per_round), verdict),
            (minimal, t_min, "1.00", "", ""),
        ):
            n = counts[ep.label]
            queries = f"{min(n)}" if min(n) == max(n) else f"{min(n)}-{max(n)}"
            print(
                f"{ep.label:<26}{tally.rate:>9.0f}{ratio_text:>8}{round_text:>13}{queries:>9}"
                f"  {note}".rstrip()
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
        counts = count_queries(world, eps)
        report(eps, tallies, counts)
        failed = {label: t.errors for label, t in tallies.items() if t.errors}
        if failed:
            print("\nunexpected responses (the figures above are not valid):")
            for label, errors in failed.items():
                print(f"  {label.strip()}: {len(errors)}, e.g. {errors[0]}")
            return 1
        short = [label.strip() for label, t in tallies.items() if t.requests < REQUESTS]
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
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
