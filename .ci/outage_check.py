"""CI's end-to-end check that deferred work survives the broker (issue 10, rehab/outbox.py):

1. A private redis-server on a spare port; gunicorn, a Celery worker and beat against it.
   Redis is stopped. A patient signed in to the portal (a real HTTP session, CSRF and all) logs
   a fall and sees the stop message; a clinician requests a report in the dashboard; a clinic
   system logs a fall through the API with an API key (last: until the API throttle fails open
   without Redis, that door is the one that can still fail). All succeed. Redis starts again:
   within two minutes each pause alert e-mail exists exactly once per recipient and the report
   is ready exactly once.
2. With the production visibility timeout (CELERY_VISIBILITY_TIMEOUT=3600) a worker is SIGKILLed
   mid-render; a new worker starts, and the outbox sweep gets the report ready within five
   minutes, rendered once.

Run by .ci/run with DATABASE_URL (a fresh PostgreSQL database) and EMAIL_URL (filemail:// to an
empty folder) set; it starts and stops its own processes (Redis included) and exits non-zero on
any failure, after printing what it measured.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


REDIS_PORT = spare_port()
WEB_PORT = spare_port()
WORK = Path(tempfile.mkdtemp(prefix="retrowalk-outage-"))
SWEEP_SECONDS = 10  # production: 60; short here to keep the check's runtime modest
# Every process of the check, this one included, sees the same configuration.
os.environ.update(
    DJANGO_SETTINGS_MODULE="rehab.settings",
    REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
    CELERY_VISIBILITY_TIMEOUT="3600",  # production's: a killed worker's message stays hidden
    OUTBOX_SWEEP_SECONDS=str(SWEEP_SECONDS),
    MEDIA_ROOT=str(WORK / "media"),
    SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
    DEBUG="false",
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from rehab import services  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.clinical.screening import negative_answers  # noqa: E402
from rehab.models import (  # noqa: E402
    Alert,
    AuditEvent,
    Clinic,
    ClinicalNote,
    Clinician,
    Plan,
    Protocol,
    Report,
    SessionLog,
    User,
)

PASSWORD = secrets.token_urlsafe(16)
BASE = f"http://127.0.0.1:{WEB_PORT}"
STOP_MESSAGE = "Stop exercising now."
failures: list[str] = []


def fail(message: str) -> None:
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


def wait_for(predicate, seconds: float, what: str, *, every: float = 0.5) -> float:
    """Seconds until predicate() holds, asked every `every` seconds; fails the check after
    `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(every)
    fail(f"timed out after {seconds:.0f} s waiting for {what}")
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


def redis_start() -> subprocess.Popen:
    process = spawn(
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
        "redis.log",
    )
    wait_for(lambda: redis_up(), 20, "redis-server to answer")
    return process


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def worker(name: str) -> subprocess.Popen:
    return spawn(
        [
            str(BIN / "celery"),
            "-A",
            "rehab",
            "worker",
            "-n",
            f"{name}@%h",
            # Both queues, as `make run`'s one worker takes them (production runs one worker each).
            "-Q",
            f"{settings.CELERY_TASK_DEFAULT_QUEUE},{settings.NIGHTLY_QUEUE}",
            "--pool=prefork",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        f"{name}.log",
    )


# --- data -----------------------------------------------------------------------------------


def clinician(clinic: Clinic, username: str, *, admin: bool) -> Clinician:
    user = User.objects.create_user(
        username=username, email=f"{username}@clinic.example", password=PASSWORD
    )
    return Clinician.objects.create(user=user, clinic=clinic, is_clinic_admin=admin)


def patient_with_plan(clinic: Clinic, assigner: Clinician, name: str, *, days: int = 0) -> Plan:
    user = User.objects.create_user(username=f"{name}-{clinic.pk}", password=PASSWORD)
    patient = services.patient_create(
        clinic=clinic,
        actor=assigner.user,
        first_name="Pat",
        last_name=name.title(),
        condition=L.KNEE_OA,
        email=f"{name}@example.org",
        timezone_name="UTC",
        user=user,
    )
    today = patient.local_today()
    start = today - dt.timedelta(days=days)
    services.screening_submit(
        patient=patient, answers=negative_answers(L.KNEE_OA), actor=assigner.user, today=start
    )
    return services.plan_assign(
        patient=patient,
        protocol=Protocol.objects.get(clinic__isnull=True, condition=L.KNEE_OA),
        actor=assigner.user,
        start_date=start,
        schedule_days=list(range(7)),
        today=start,
    )


def long_history(plan: Plan, author) -> None:
    """A year of daily sessions with notes, and three clinical notes a day: a clinician's report
    that takes seconds to render (about 3 s), a window wide enough to kill its worker in.
    Without the clinical notes it rendered in half a second, sometimes between two looks."""
    start = plan.start_date
    SessionLog.objects.bulk_create(
        SessionLog(
            plan=plan,
            patient=plan.patient,
            date=start + dt.timedelta(days=n),
            level_index=0,
            minutes_done=10 + n % 20,
            speed_kmh=1.5,
            setting=L.TREADMILL_BOTH_HANDRAILS,
            pain_before=n % 4,
            pain_worst=n % 6,
            pain_after=n % 5,
            effort=3 + n % 3,
            near_fall=n % 2 == 0,
            notes=f"Day {n}: " + "a longer note about the session. " * 6,
        )
        for n in range(364)
    )
    ClinicalNote.objects.bulk_create(
        ClinicalNote(
            patient=plan.patient,
            author=author,
            noted_on=start + dt.timedelta(days=n // 3),
            text=f"Call {n}: " + "Reviewed the walking log with the patient by phone. " * 30,
        )
        for n in range(364 * 3)
    )


# --- HTTP: a browser's session, CSRF token and all --------------------------------------------


class Browser:
    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(BASE + path))

    def post_form(self, path: str, form_page: str, fields: dict) -> tuple[int, str]:
        """POST `fields` with the CSRF token of the form on `form_page`; redirects followed."""
        status, html = self.get(form_page)
        if status != 200:
            return status, html
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not token:
            fail(f"no CSRF token on {form_page}")
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **fields})
        return self._open(urllib.request.Request(BASE + path, data=data.encode(), method="POST"))

    def sign_in(self, door: str, username: str) -> None:
        login = f"/{door}/login/"
        status, html = self.post_form(login, login, {"username": username, "password": PASSWORD})
        if status != 200 or 'name="password"' in html:
            fail(f"could not sign in to /{door}/ as {username} ({status})")

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")


def web_up() -> bool:
    try:
        return Browser().get("/healthz")[0] == 200
    except OSError:
        return False


def api_post(path: str, key: str, body: dict) -> tuple[int, str]:
    request = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def timed(call, *args, **kwargs):
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def session_fields(day: dt.date) -> dict:
    return {
        "date": str(day),
        "minutes_done": "10",
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "speed_kmh": "1.5",
        "pain_before": "2",
        "pain_worst": "3",
        "pain_after": "2",
        "effort": "3",
        "swelling": "none",
    }


def pause_mails(folder: Path) -> dict[str, int]:
    """How many 'Plan paused' e-mails each address received (the file backend's messages are
    separated by a line of 79 dashes)."""
    counts: dict[str, int] = {}
    for path in folder.glob("*"):
        for message in path.read_text(errors="replace").split("-" * 79):
            to = re.search(r"^To: (.+)$", message, re.M)
            if to and re.search(r"^Subject: Plan paused", message, re.M):
                counts[to.group(1).strip()] = counts.get(to.group(1).strip(), 0) + 1
    return counts


# --- the check ------------------------------------------------------------------------------


def check_outage(mail_dir: Path) -> None:
    services.protocol_library_load()
    clinic = Clinic.objects.create(
        name="Outage clinic",
        slug=f"outage-{time.time_ns()}",
        timezone="UTC",
        quiet_hours_start=dt.time(0),
        quiet_hours_end=dt.time(0),
    )
    lead = clinician(clinic, f"lead-{clinic.pk}", admin=True)
    assigner = clinician(clinic, f"assigner-{clinic.pk}", admin=False)
    portal_plan = patient_with_plan(clinic, assigner, "portal")
    api_plan = patient_with_plan(clinic, assigner, "api")
    _, key = services.api_key_create(clinic=clinic, name="EHR", actor=None)
    recipients = sorted([lead.user.email, assigner.user.email])

    redis = redis_start()
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
    first_worker = worker("w1")
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
    processes = [web, first_worker, beat]
    try:
        wait_for(web_up, 60, "gunicorn to answer")
        patient_browser, clinician_browser = Browser(), Browser()
        patient_browser.sign_in("portal", portal_plan.patient.user.username)
        clinician_browser.sign_in("clinic", lead.user.username)

        stop(redis)
        if redis_up():
            fail("Redis still answers after it was stopped")
        outage_started = time.monotonic()

        # The portal: a fall, with the patient's signed-in session and the form's CSRF token.
        fields = {**session_fields(portal_plan.patient.local_today()), "fall": "on"}
        (status, html), took_portal = timed(
            patient_browser.post_form, "/portal/log/", "/portal/log/", fields
        )
        if status != 200 or STOP_MESSAGE not in html:
            failures.append(
                f"portal fall during the outage: {status}, stop message shown: "
                f"{STOP_MESSAGE in html}"
            )
        # The dashboard: a report.
        patient_page = f"/clinic/patients/{portal_plan.patient.pk}/"
        (status, html), took_report = timed(
            clinician_browser.post_form,
            f"/clinic/patients/{portal_plan.patient.pk}/reports/",
            patient_page,
            {"audience": "clinician"},
        )
        if status != 200 or "Report requested" not in html:
            failures.append(f"report request during the outage: {status}")
        # The API, last.
        body = {
            **session_fields(api_plan.patient.local_today()),
            "plan": api_plan.pk,
            "fall": True,
        }
        for name in ("minutes_done", "pain_before", "pain_worst", "pain_after", "effort"):
            body[name] = int(body[name])
        body["speed_kmh"] = float(body["speed_kmh"])
        del body["swelling"]
        (status, text), took_api = timed(api_post, "/api/v1/sessions/", key, body)
        if status != 201:
            failures.append(f"API fall during the outage: {status} {text[:200]!r}")

        alerts = Alert.objects.filter(clinician__clinic=clinic, kind=Alert.Kind.PAUSE)
        reports = Report.objects.filter(clinic=clinic)
        created = {"pause alerts": alerts.count(), "reports": reports.count()}
        waiting = alerts.filter(status="pending").count() + reports.filter(status="pending").count()
        outage_seconds = time.monotonic() - outage_started
        print(
            f"outage: {outage_seconds:.1f} s with Redis down; requests took portal "
            f"{took_portal:.2f} s, dashboard {took_report:.2f} s, API {took_api:.2f} s; work "
            f"created: {created['pause alerts']} pause alert(s), {created['reports']} report(s); "
            f"{waiting} waiting",
            flush=True,
        )

        redis = redis_start()
        back = time.monotonic()
        delivered_in = wait_for(
            lambda: (
                alerts.filter(status="sent").count() == created["pause alerts"]
                and created["pause alerts"] > 0
                and reports.filter(status="ready").count() == created["reports"] == 1
            ),
            120,
            "the pause alerts sent and the report ready after Redis came back",
        )
        time.sleep(2.5 * SWEEP_SECONDS)  # more sweeps: nothing more may be sent or rendered
        mails = pause_mails(mail_dir)
        pauses = alerts.values("decision_id").distinct().count()
        duplicates = sum(max(0, mails.get(r, 0) - pauses) for r in recipients)
        renders = AuditEvent.objects.filter(action="report.render", clinic=clinic).count()
        if sorted(mails) != recipients or set(mails.values()) != {pauses}:
            failures.append(f"pause e-mails per recipient {mails}, expected {pauses} each")
        if renders != 1:
            failures.append(f"the report rendered {renders} times")
        print(
            f"after: Redis back, {alerts.filter(status='sent').count()} alert e-mail(s) to "
            f"{len(recipients)} recipient(s) for {pauses} pause(s) and "
            f"{reports.filter(status='ready').count()} report(s) ready within "
            f"{delivered_in:.1f} s ({time.monotonic() - back:.1f} s incl. the wait for "
            f"duplicates); duplicates: {duplicates} e-mail(s), {max(0, renders - 1)} render(s)",
            flush=True,
        )

        # A worker killed mid-render, with the production visibility timeout.
        slow_plan = patient_with_plan(clinic, assigner, "history", days=364)
        long_history(slow_plan, assigner.user)
        report = services.report_request(
            patient=slow_plan.patient,
            audience="clinician",
            actor=None,
            period_start=slow_plan.start_date,
        )  # committed; the fast path publishes it to the live broker
        wait_for(
            lambda: Report.objects.get(pk=report.pk).status == "rendering",
            60,
            "the long report to start rendering",
            every=0.05,
        )
        stop(first_worker, signal.SIGKILL)
        killed = time.monotonic()
        if Report.objects.get(pk=report.pk).status != "rendering":
            fail("the report finished before the worker could be killed; nothing was tested")
        second_worker = worker("w2")
        processes.append(second_worker)
        ready_in = wait_for(
            lambda: Report.objects.get(pk=report.pk).status == "ready",
            300,
            "the report of the killed worker to be ready (5 minutes)",
        )
        report.refresh_from_db()
        content = services.report_path(report).read_bytes()
        renders = AuditEvent.objects.filter(action="report.render", object_id=str(report.pk))
        if not content.startswith(b"%PDF") or renders.count() != 1:
            failures.append(f"the killed report is not one PDF rendered once ({renders.count()})")
        print(
            f"killed: a worker SIGKILLed mid-render (visibility timeout 3600 s); the report was "
            f"ready {ready_in:.0f} s later ({time.monotonic() - killed:.0f} s), "
            f"attempts {report.attempts}, rendered once, {report.size_bytes} bytes",
            flush=True,
        )
    finally:
        for process in processes:
            stop(process)
        stop(redis)
    if failures:
        for failure in failures:
            print(f"FAILED: {failure}", flush=True)
        print(f"logs: {WORK}", flush=True)
        sys.exit(1)
    print("ok: nothing lost and nothing twice across a broker outage and a killed worker")


def main() -> None:
    if "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        fail("run with DATABASE_URL (PostgreSQL) set")
    mail_dir = Path(settings.EMAIL_FILE_PATH)
    mail_dir.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    check_outage(mail_dir)


if __name__ == "__main__":
    main()
