"""Tasks on a real broker and a real worker. These run in CI's PostgreSQL + Redis pass (.ci/run);
the default SQLite run has no broker to talk to and skips them."""

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.utils import timezone

from rehab import outbox, services, tasks
from rehab.celery import app
from rehab.clinical import levels as L
from rehab.models import AuditEvent, ProgressionDecision, Report, SessionLog
from rehab.tasks import progression_nightly
from tests.factories import active_plan

pytestmark = [
    pytest.mark.live_worker,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: a real broker"),
]


@contextlib.contextmanager
def own_queues():
    """The default queue and the nightly one (settings.CELERY_TASK_ROUTES) under names of the
    test's own, so no stale message of an earlier run, nor another test process's, is
    consumed; yields them both, as a worker started with `-Q celery,nightly` takes both."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    default, nightly = name, f"{name}-{settings.NIGHTLY_QUEUE}"
    routes = {task: {"queue": nightly} for task in settings.CELERY_TASK_ROUTES}
    saved = app.conf.task_always_eager, app.conf.task_default_queue, app.conf.task_routes

    def reroute(*conf):
        app.conf.task_always_eager, app.conf.task_default_queue, app.conf.task_routes = conf
        # Celery reads task_routes once into its router: read them again.
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)

    reroute(False, default, routes)
    try:
        yield [default, nightly]
    finally:
        reroute(*saved)


@pytest.fixture
def live_worker(transactional_db):
    if connection.vendor == "sqlite":
        pytest.skip("the worker thread needs a database server it can share with the test")
    with (
        own_queues() as queues,
        start_worker(
            app, pool="solo", perform_ping_check=False, queues=queues, shutdown_timeout=30
        ),
    ):
        yield


def wait_for(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_nightly_run_fans_out_on_a_real_worker_and_records_one_decision_per_plan(live_worker):
    plans = [active_plan() for _ in range(5)]
    progression_nightly.delay(batch_size=2)
    nightly = ProgressionDecision.objects.filter(trigger="nightly")
    assert wait_for(lambda: nightly.count() == len(plans))
    # The same run again (a redelivery, a second beat) adds nothing: the results are unchanged.
    progression_nightly.delay(batch_size=2)
    time.sleep(2)
    assert nightly.count() == len(plans)
    assert set(nightly.values_list("plan_id", flat=True)) == {p.pk for p in plans}


def _worker_process(queues: list[str], media_root) -> subprocess.Popen:
    """A real worker process on the test's own database, killable with SIGKILL."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "MEDIA_ROOT": str(media_root),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "rehab",
            "worker",
            "--pool=solo",
            "-Q",
            ",".join(queues),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture
def live_broker(transactional_db, settings):
    if connection.vendor == "sqlite":
        pytest.skip("the worker process needs a database server it can share with the test")
    with own_queues() as queues:
        yield queues


def test_a_worker_killed_mid_render_leaves_a_report_the_sweep_gets_ready_once(
    live_broker, settings
):
    plan = active_plan(today=dt.date.today() - dt.timedelta(days=364))
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
            notes="A longer note about the session. " * 6,
        )
        for n in range(364)
    )
    doomed = _worker_process(live_broker, settings.MEDIA_ROOT)
    try:
        report = services.report_request(
            patient=plan.patient, audience="clinician", actor=None, period_start=start
        )  # committed: the fast path publishes it to the real broker
        assert wait_for(lambda: Report.objects.get(pk=report.pk).status == "rendering", 60)
    finally:
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=30)
    report.refresh_from_db()
    if report.status != "rendering":
        pytest.fail("the report finished before its worker was killed; nothing was tested")

    # The broker keeps the killed worker's message hidden for its visibility timeout; the
    # sweep sees the claim is dead once it is older than the render's hard time limit.
    assert outbox.sweep(now=timezone.now()).report_ids == []
    due = outbox.sweep(
        now=report.claimed_at + outbox.REPORT_CLAIM_DEAD_AFTER + dt.timedelta(seconds=1)
    )
    assert due.report_ids == [report.pk]
    rescuer = _worker_process(live_broker, settings.MEDIA_ROOT)
    try:
        for report_id in due.report_ids * 2:  # the sweep's message, and a duplicate of it
            tasks.report_render.delay(report_id)
        assert wait_for(lambda: Report.objects.get(pk=report.pk).status == "ready", 120)
        time.sleep(2)  # the duplicate is consumed too
    finally:
        os.killpg(rescuer.pid, signal.SIGTERM)
        rescuer.wait(timeout=60)
    report.refresh_from_db()
    assert report.attempts == 2
    assert services.report_path(report).read_bytes().startswith(b"%PDF")
    renders = AuditEvent.objects.filter(action="report.render", object_id=str(report.pk))
    assert renders.count() == 1
