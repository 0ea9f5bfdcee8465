"""CI's end-to-end check of the background jobs on the real Redis broker and PostgreSQL, with
real worker processes (issue 4):

1. 300 patients in four time zones, each with a session due today: two workers and beat run,
   and the dispatch is also fired twice at the same moment; every patient gets exactly one
   reminder, and exactly 300 e-mails leave.
(A worker killed with SIGKILL mid-render is checked by .ci/outage_check.py, with production's
visibility timeout: the broker's redelivery finds the report claimed, and the outbox sweep
re-drives it once the claim is older than the render's hard time limit.)

Run by .ci/run with DATABASE_URL (a fresh database), REDIS_URL and EMAIL_URL set; it starts and
stops its own processes and exits non-zero on any failure.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rehab.settings")
os.environ["REMINDERS_DISPATCH_SECONDS"] = "3"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from rehab import services, tasks  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.clinical.screening import negative_answers  # noqa: E402
from rehab.models import Clinic, Patient, Protocol, Reminder  # noqa: E402

PATIENTS = 300
ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
CELERY = str(ROOT / ".venv" / "bin" / "celery")


def fail(message: str) -> None:
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    fail(f"timed out waiting for {what}")


def start(*args: str, log: str) -> subprocess.Popen:
    # A session of its own, so a kill reaches the worker's whole process group.
    return subprocess.Popen(
        [CELERY, "-A", "rehab", *args],
        cwd=ROOT,
        stdout=open(log, "w"),  # the child writes to it until it ends
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def worker(name: str, log: str, pool: str = "prefork") -> subprocess.Popen:
    return start(
        "worker",
        "-n",
        f"{name}@%h",
        # Both queues, as `make run`'s one worker takes them (production runs one worker each).
        "-Q",
        f"{settings.CELERY_TASK_DEFAULT_QUEUE},{settings.NIGHTLY_QUEUE}",
        f"--pool={pool}",
        "--concurrency=2",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        log=log,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=60)


def mail_count(folder: Path) -> int:
    return sum(path.read_text(errors="replace").count("\nSubject: ") for path in folder.glob("*"))


def setup_patients() -> Clinic:
    services.protocol_library_load()
    clinic = Clinic.objects.create(
        name="CI clinic",
        slug=f"ci-{time.time_ns()}",
        timezone="UTC",
        quiet_hours_start=dt.time(0),
        quiet_hours_end=dt.time(0),  # no quiet hours
    )
    protocol = Protocol.objects.get(clinic__isnull=True, condition=L.KNEE_OA)
    for n in range(PATIENTS):
        zone = ZONES[n % len(ZONES)]
        patient = services.patient_create(
            clinic=clinic,
            actor=None,
            first_name="Pat",
            last_name=f"{n:03d}",
            condition=L.KNEE_OA,
            email=f"pat{n}@example.org",
            timezone_name=zone,
            reminder_time=dt.time(0, 0),  # due since the patient's midnight
        )
        today = patient.local_today()
        services.screening_submit(
            patient=patient, answers=negative_answers(L.KNEE_OA), actor=None, today=today
        )
        services.plan_assign(
            patient=patient,
            protocol=protocol,
            actor=None,
            start_date=today,
            schedule_days=list(range(7)),
            today=today,
        )
    return clinic


def check_reminders(logs: Path, mail_dir: Path) -> None:
    clinic = setup_patients()
    workers = [worker("w1", str(logs / "w1.log")), worker("w2", str(logs / "w2.log"))]
    beat = start(
        "beat",
        "--loglevel=INFO",
        f"--schedule={logs / 'beat-schedule'}",
        log=str(logs / "beat.log"),
    )
    try:
        # Two dispatches at the same moment, on top of beat's own every three seconds.
        barrier = threading.Barrier(2)

        def fire():
            barrier.wait()
            tasks.reminders_dispatch.delay()

        threads = [threading.Thread(target=fire) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reminders = Reminder.objects.filter(patient__clinic=clinic)
        wait_for(
            lambda: reminders.filter(status="sent").count() == PATIENTS,
            240,
            f"{PATIENTS} reminders sent",
        )
        time.sleep(8)  # a few more beats: nothing more may be sent
    finally:
        stop(beat)
        for process in workers:
            stop(process)
    per_patient = set(reminders.values_list("patient_id", flat=True))
    if reminders.count() != PATIENTS or len(per_patient) != PATIENTS:
        fail(f"{reminders.count()} reminders for {len(per_patient)} patients")
    statuses = set(reminders.values_list("status", flat=True))
    if statuses != {"sent"}:
        fail(f"reminder statuses {statuses}")
    sent = mail_count(mail_dir)
    if sent != PATIENTS:
        fail(f"{sent} e-mails for {PATIENTS} patients")
    zones = set(Patient.objects.filter(clinic=clinic).values_list("timezone", flat=True))
    print(
        f"ok: {PATIENTS} patients in {len(zones)} time zones, one reminder and one e-mail "
        "each, with beat and two concurrent dispatches",
        flush=True,
    )


def main() -> None:
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        fail("run with DATABASE_URL (PostgreSQL) and REDIS_URL set")
    mail_dir = Path(settings.EMAIL_FILE_PATH)
    mail_dir.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    logs = Path(tempfile.mkdtemp(prefix="retrowalk-jobs-"))
    check_reminders(logs, mail_dir)


if __name__ == "__main__":
    main()
