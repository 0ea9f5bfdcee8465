"""CI's end-to-end check of signed webhooks (issue 14): a clinic system's receiver gets every
event type of a clinic day, signed, including what happened while it was down.

1. A receiver (an HTTP server in a thread of this process, as a clinic system would run one)
   verifies each POST with the `standardwebhooks` library against the endpoint's secret,
   answers 400 to anything that fails (a forged request proves it does) and 204 otherwise, and
   records each webhook-id with its event type.
2. gunicorn, a Celery worker and beat on PostgreSQL and Redis, with
   WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true: the receiver is on 127.0.0.1 over plain http.
3. An API key from `manage.py create_api_key`; the endpoint is registered for every event
   through the REST API, and the secret kept from its 201.
4. A clinic day over HTTP: a patient created and updated, screened, a plan assigned, an outcome
   score, a session with a fall (the plan pauses for safety: a pause decision made and
   applied), a new screening and the plan resumed, a report the worker renders. Every event type
   must arrive. Only the setup is in-process: the built-in protocols (the load_protocols
   command) and the clinic row, which no door creates.
5. The receiver stops. A second patient is created, screened, given a plan, logs a session (the
   worker evaluates it: a decision), is moved a level (a decision made and applied), scores an
   outcome and gets a report: the delivery log shows each of these attempted and failed. The
   receiver starts again, and the retries (production's backoff: 30 s ±20 %, handed over by the
   outbox sweep) bring all of them.
6. Every event type arrived with a valid signature; a webhook-id arriving twice carried the same
   body; the log over HTTP shows each delivery succeeded, those of the outage after a failed
   attempt, and none is left waiting.

Run by .ci/run with DATABASE_URL (a fresh PostgreSQL database), REDIS_URL and EMAIL_URL set; it
starts and stops its own processes and exits non-zero on any failure. CI_PORT_RANGE (e.g.
19700-19799) keeps its listening ports in a range, where checks share a machine; by default the
system picks free ones.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))


_handed_out: set[int] = set()


def spare_port() -> int:
    """A port free now and not handed out before (the receiver's is bound later)."""
    first, _, last = os.environ.get("CI_PORT_RANGE", "0-0").partition("-")
    candidates = range(int(first), int(last or first) + 1) if int(first) else [0] * 20
    for candidate in candidates:
        if candidate in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port = probe.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise SystemExit("FAILED: no free port (CI_PORT_RANGE)")


WEB_PORT = spare_port()
WORK = Path(tempfile.mkdtemp(prefix="retrowalk-webhooks-"))
SWEEP_SECONDS = 5  # production: 60; the sweep is the retries' clock, short to keep CI short
# Every process of the check, this one included, sees the same configuration (the secret the
# API shows is derived from the key the worker signs with).
os.environ.update(
    DJANGO_SETTINGS_MODULE="rehab.settings",
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS="true",
    OUTBOX_SWEEP_SECONDS=str(SWEEP_SECONDS),
    MEDIA_ROOT=str(WORK / "media"),
    SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
    DEBUG="false",
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from standardwebhooks import Webhook, WebhookVerificationError  # noqa: E402

from rehab.clinical import levels as L  # noqa: E402
from rehab.clinical.screening import negative_answers  # noqa: E402
from rehab.models import Clinic, WebhookEvent  # noqa: E402
from rehab.services.webhooks import WEBHOOK_FIRST_RETRY  # noqa: E402

BASE = f"http://127.0.0.1:{WEB_PORT}"
DOWN_SECONDS = 15  # the receiver's outage, from its stop to its start
failures: list[str] = []


def fail(message: str) -> None:
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


def wait_for(predicate, seconds: float, what, *, every: float = 0.5) -> float:
    """Seconds until predicate() holds, asked every `every` seconds; fails the check after
    `seconds`, saying `what` (a callable: asked then, for what is still missing)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(every)
    fail(f"timed out after {seconds:.0f} s waiting for {what() if callable(what) else what}")
    return seconds


def spawn(args: list[str], log: str) -> subprocess.Popen:
    # A session of its own, so a kill reaches the whole process group (prefork children too).
    return subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=open(WORK / log, "w"),  # the child writes to it until it ends
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=60)


# --- the receiver: what a clinic system runs -------------------------------------------------


class Receiver:
    """Verifies each POST against the endpoint's secret with the specification's reference
    library, as the README's example does; records (webhook-id, type, body) of each verified
    one. Stopped, its port refuses connections: what a receiver that is down looks like."""

    def __init__(self) -> None:
        self.port = spare_port()
        self.secret = ""
        self.received: list[tuple[str, str, str]] = []
        self.rejected = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/retrowalk"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                try:
                    event = Webhook(receiver.secret).verify(body, dict(self.headers))
                except (WebhookVerificationError, ValueError):  # ValueError: a malformed one
                    with receiver.lock:
                        receiver.rejected += 1
                    self.send_response(400)
                else:
                    with receiver.lock:
                        receiver.received.append((self.headers["webhook-id"], event["type"], body))
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def types(self) -> set[str]:
        with self.lock:
            return {kind for _, kind, _ in self.received}

    def ids(self) -> set[str]:
        with self.lock:
            return {message_id for message_id, _, _ in self.received}


def forged_is_refused(receiver: Receiver) -> bool:
    """A request signed with another secret must get a 400: the receiver really verifies."""
    body = json.dumps({"type": "patient.created", "timestamp": "", "data": {}})
    now = dt.datetime.now(dt.UTC)
    other = Webhook("whsec_" + "A" * 43 + "=")
    request = urllib.request.Request(
        receiver.url,
        data=body.encode(),
        headers={
            "webhook-id": "msg_forged",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": other.sign(msg_id="msg_forged", timestamp=now, data=body),
            "content-type": "application/json",
        },
        method="POST",
    )
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc.code == 400
    return False


# --- the API over HTTP -----------------------------------------------------------------------


class Api:
    def __init__(self, key: str) -> None:
        self.key = key
        self.requests = 0

    def call(self, method: str, path: str, body: dict | None = None, *, expect: int = 200):
        request = urllib.request.Request(
            BASE + "/api/v1" + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Api-Key {self.key}", "Content-Type": "application/json"},
            method=method,
        )
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
        if status != expect:
            fail(f"{method} {path}: {status}, expected {expect}: {text[:300]}")
        return json.loads(text) if text else None

    def deliveries(self, endpoint_id: int) -> list[dict]:
        rows, page = [], f"/webhooks/{endpoint_id}/deliveries/?page_size=100"
        while page:
            answer = self.call("GET", page)
            rows.extend(answer["results"])
            page = answer["next"] and answer["next"].split("/api/v1", 1)[1]
        return rows


def web_up() -> bool:
    try:
        with urllib.request.urlopen(BASE + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def screening_answers() -> dict:
    # Every red-flag question answered "no": a cleared screening (the README's example).
    return {k: v for k, v in negative_answers(L.KNEE_OA).items() if k != "condition"}


def session_body(plan_id: int, **signals) -> dict:
    return {
        "plan": plan_id,
        "date": str(dt.datetime.now(dt.UTC).date()),  # the patients' zone is UTC
        "minutes_done": 10,
        "speed_kmh": 1.5,
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "pain_before": 2,
        "pain_worst": 3,
        "pain_after": 2,
        "effort": 3,
        **signals,
    }


def new_patient(api: Api, name: str, protocol_id: int) -> tuple[dict, dict]:
    """A patient created, screened and given a plan whose decisions apply themselves."""
    patient = api.call(
        "POST",
        "/patients/",
        {
            "first_name": "Pat",
            "last_name": name,
            "condition": L.KNEE_OA,
            "timezone": "UTC",
            "reminders_enabled": False,
        },
        expect=201,
    )
    api.call(
        "POST",
        "/screenings/",
        {"patient": patient["id"], "answers": screening_answers()},
        expect=201,
    )
    plan = api.call(
        "POST",
        "/plans/",
        {"patient": patient["id"], "protocol": protocol_id, "auto_apply": True},
        expect=201,
    )
    return patient, plan


# --- the check -------------------------------------------------------------------------------


def check_webhooks() -> None:
    receiver = Receiver()
    receiver.start()
    print(f"receiver: on 127.0.0.1:{receiver.port}, verifying with standardwebhooks", flush=True)

    call_command("load_protocols", stdout=io.StringIO())
    clinic = Clinic.objects.create(
        name="Webhook clinic", slug=f"webhooks-{time.time_ns()}", timezone="UTC"
    )
    # As .ci/run makes schemathesis' key: the command prints the key on its last line.
    made = subprocess.run(
        [
            str(BIN / "python"),
            "manage.py",
            "create_api_key",
            "--name",
            "EHR sync",
            "--clinic",
            clinic.slug,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        fail(f"manage.py create_api_key: {made.stderr.strip()[-300:]}")
    key = made.stdout.strip().splitlines()[-1]
    api = Api(key)

    web = spawn(
        [
            str(BIN / "gunicorn"),
            "rehab.wsgi:application",
            "--bind",
            f"127.0.0.1:{WEB_PORT}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
        ],
        "web.log",
    )
    worker = spawn(
        [
            str(BIN / "celery"),
            "-A",
            "rehab",
            "worker",
            "-n",
            "webhooks@%h",
            # Both queues, as `make run`'s one worker takes them (production runs one worker each).
            "-Q",
            f"{settings.CELERY_TASK_DEFAULT_QUEUE},{settings.NIGHTLY_QUEUE}",
            "--pool=prefork",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        "worker.log",
    )
    beat = spawn(
        [
            str(BIN / "celery"),
            "-A",
            "rehab",
            "beat",
            "--loglevel=INFO",
            f"--schedule={WORK / 'beat-schedule'}",
        ],
        "beat.log",
    )
    processes = [web, worker, beat]
    try:
        wait_for(web_up, 60, "gunicorn to answer")
        print(
            "started: gunicorn, a worker and beat (outbox sweep every "
            f"{SWEEP_SECONDS} s) on PostgreSQL and Redis; an API key from manage.py "
            "create_api_key",
            flush=True,
        )
        every_event = sorted(WebhookEvent.values)
        endpoint = api.call(
            "POST",
            "/webhooks/",
            {"url": receiver.url, "events": every_event, "description": "CI receiver"},
            expect=201,
        )
        receiver.secret = endpoint["secret"]
        if not receiver.secret.startswith("whsec_") or sorted(endpoint["events"]) != every_event:
            fail(f"the endpoint's 201 has no whsec_ secret or not every event: {endpoint}")
        if not forged_is_refused(receiver):
            fail("the receiver accepted a request signed with another secret")
        print(
            f"endpoint: {receiver.url} (plain http, private networks allowed) registered for "
            f"{len(every_event)} events through the API; its secret kept from the 201 (the "
            "receiver answers a forged signature 400)",
            flush=True,
        )

        # --- a clinic day, the receiver up
        day_started = time.monotonic()
        protocols = api.call("GET", f"/protocols/?condition={L.KNEE_OA}&builtin=true")
        protocol_id = protocols["results"][0]["id"]
        ann, ann_plan = new_patient(api, "Ann", protocol_id)
        api.call("PATCH", f"/patients/{ann['id']}/", {"reminder_time": "09:30"})
        api.call(
            "POST",
            "/outcomes/",
            {"patient": ann["id"], "measure": "nprs", "answers": {"score": 4}},
            expect=201,
        )
        fall = api.call("POST", "/sessions/", session_body(ann_plan["id"], fall=True), expect=201)
        if not fall["decision"] or fall["decision"]["outcome"] != "pause":
            fail(f"a fall did not pause the plan: {fall['decision']}")
        # A fall invalidates the screening: the patient is screened again before resuming.
        api.call(
            "POST",
            "/screenings/",
            {"patient": ann["id"], "answers": screening_answers()},
            expect=201,
        )
        api.call(
            "POST", f"/plans/{ann_plan['id']}/resume/", {"reason": "Re-screened after the fall."}
        )
        report = api.call(
            "POST", "/reports/", {"patient": ann["id"], "audience": "clinician"}, expect=202
        )
        wait_for(
            lambda: receiver.types() >= set(every_event),
            90,
            lambda: f"every event type (missing: {sorted(set(every_event) - receiver.types())})",
        )
        day_took = time.monotonic() - day_started
        if api.call("GET", f"/reports/{report['id']}/")["status"] != "ready":
            fail("report.ready arrived for a report that is not ready")
        print(
            f"day: {api.requests} API requests (patient, update, screenings, plan, outcome, a "
            "fall that paused the plan, resume, report); all "
            f"{len(every_event)} event types received within "
            f"{day_took:.1f} s of the day's start",
            flush=True,
        )

        # --- the receiver down
        # Not before the day's last delivery is through: one failing now would wait for its
        # retry outside this part of the check.
        wait_for(
            lambda: all(r["status"] == "succeeded" for r in api.deliveries(endpoint["id"])),
            30,
            "the day's deliveries to be succeeded in the log",
        )
        before_outage = {row["id"] for row in api.deliveries(endpoint["id"])}
        received_before = len(receiver.received)
        receiver.stop()
        down_at = time.monotonic()
        ben, ben_plan = new_patient(api, "Ben", protocol_id)
        session = api.call("POST", "/sessions/", session_body(ben_plan["id"]), expect=201)
        api.call(
            "POST",
            f"/plans/{ben_plan['id']}/set-level/",
            {"level": 2, "reason": "Walks well; moved on after the assessment."},
        )
        api.call(
            "POST",
            "/outcomes/",
            {"patient": ben["id"], "measure": "nprs", "answers": {"score": 3}},
            expect=201,
        )
        ben_report = api.call(
            "POST", "/reports/", {"patient": ben["id"], "audience": "patient"}, expect=202
        )
        # The worker's own work while the receiver is down: the session's evaluation, the report.
        wait_for(
            lambda: (
                api.call("GET", f"/sessions/{session['id']}/")["decision"] is not None
                and api.call("GET", f"/reports/{ben_report['id']}/")["status"] == "ready"
            ),
            60,
            "the worker's evaluation and report during the outage",
        )

        def outage_rows() -> list[dict]:
            return [r for r in api.deliveries(endpoint["id"]) if r["id"] not in before_outage]

        def all_failed_once() -> bool:
            rows = outage_rows()
            return bool(rows) and all(r["status"] == "pending" and r["attempt"] >= 1 for r in rows)

        wait_for(all_failed_once, 30, "each delivery of the outage to fail its first attempt")
        failed = outage_rows()
        outage_events = sorted({r["event"] for r in failed})
        errors = {r["error"] for r in failed}
        made = set(WebhookEvent.values) - {"patient.updated", "plan.paused", "plan.resumed"}
        if set(outage_events) != made:
            failures.append(f"events of the outage {outage_events}, expected {sorted(made)}")
        if any(r["status_code"] is not None or not r["error"] for r in failed):
            failures.append(f"failed attempts without their error in the log: {failed}")
        if len(receiver.received) != received_before:
            failures.append("the receiver got requests while it was stopped")
        print(
            f"down: the receiver stopped; {len(failed)} events meanwhile, of "
            f"{len(outage_events)} types ({', '.join(outage_events)}); the delivery log shows "
            "each pending after a failed attempt "
            f"({'; '.join(sorted(errors))})",
            flush=True,
        )
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
        receiver.start()
        up_at = time.monotonic()
        outage_ids = {r["message_id"] for r in failed}
        back_in = wait_for(
            lambda: receiver.ids() >= outage_ids,
            3 * WEBHOOK_FIRST_RETRY.total_seconds(),
            "the deliveries of the outage after the receiver came back",
        )
        print(
            f"back: the receiver started after {up_at - down_at:.0f} s down; the "
            f"{len(outage_ids)} deliveries of the outage arrived {back_in:.1f} s later "
            f"(first retry after {WEBHOOK_FIRST_RETRY.total_seconds():.0f} s ±20 %)",
            flush=True,
        )

        # --- what the receiver got and what the log says
        wait_for(
            lambda: all(r["status"] == "succeeded" for r in api.deliveries(endpoint["id"])),
            2 * SWEEP_SECONDS + 10,
            "every delivery to be succeeded in the log",
        )
        log = api.deliveries(endpoint["id"])
        bodies: dict[str, set[str]] = {}
        for message_id, _, body in receiver.received:
            bodies.setdefault(message_id, set()).add(body)
        duplicates = len(receiver.received) - len(bodies)
        if any(len(seen) > 1 for seen in bodies.values()):
            failures.append("one webhook-id arrived with different bodies")
        # Each event of this day is about a different object or is a different type (two
        # screenings, each decision created once and applied once...): an event emitted twice,
        # under two webhook-ids, would show here.
        events = [json.loads(next(iter(seen))) for seen in bodies.values()]
        about = [(e["type"], e["data"]["object"], e["data"]["id"]) for e in events]
        if len(set(about)) != len(about):
            failures.append(f"an event arrived under two webhook-ids: {sorted(about)}")
        paused = [e["data"] for e in events if e["type"] == "plan.paused"]
        if [p["reason"]["safety"] for p in paused] != [True] or paused[0]["resource"]["status"] != (
            "paused"
        ):
            failures.append(f"plan.paused after the fall: {paused}")
        if set(bodies) != {r["message_id"] for r in log}:
            failures.append(
                f"received {len(bodies)} webhook-ids, the log has {len(log)} deliveries"
            )
        if receiver.types() != set(every_event):
            failures.append(f"event types received: {sorted(receiver.types())}")
        if receiver.rejected != 1:  # the forged one
            failures.append(f"{receiver.rejected - 1} delivery(ies) failed verification")
        retried = [r for r in log if r["message_id"] in outage_ids]
        if any(r["attempt"] < 2 or r["status"] != "succeeded" for r in retried):
            failures.append(f"the outage's deliveries in the log: {retried}")
        waits = [
            (
                dt.datetime.fromisoformat(r["delivered_at"])
                - dt.datetime.fromisoformat(r["created_at"])
            ).total_seconds()
            for r in retried
        ]
        if min(waits) < 0.8 * WEBHOOK_FIRST_RETRY.total_seconds():
            failures.append(f"a retry came before the backoff's first step: {min(waits):.1f} s")
        print(
            f"log: {len(log)} deliveries succeeded in the delivery log over HTTP, none waiting; "
            f"the {len(retried)} of the outage at attempt "
            f"{'/'.join(str(n) for n in sorted({r['attempt'] for r in retried}))}, "
            f"{min(waits):.0f}-{max(waits):.0f} s "
            f"after their event; {duplicates} duplicate(s) (a webhook-id again, same body)",
            flush=True,
        )
    finally:
        for process in processes:
            stop(process)
        receiver.stop()
    if failures:
        for failure in failures:
            print(f"FAILED: {failure}", flush=True)
        print(f"logs: {WORK}", flush=True)
        sys.exit(1)
    print(
        f"webhooks: {len(every_event)} event types received, {len(log)} deliveries, "
        f"{len(retried)} retried after the receiver was down",
        flush=True,
    )


def main() -> None:
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        fail("run with DATABASE_URL (PostgreSQL) and REDIS_URL set")
    call_command("migrate", verbosity=0)
    check_webhooks()


if __name__ == "__main__":
    main()
