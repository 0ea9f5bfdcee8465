"""Tasks on a real broker and a real worker. These run in CI's PostgreSQL + Redis pass (.ci/run);
the default SQLite run has no broker to talk to and skips them."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from rehab.celery import app
from rehab.models import ProgressionDecision
from rehab.tasks import progression_nightly
from tests.factories import active_plan

pytestmark = [
    pytest.mark.live_worker,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: a real broker"),
]


@pytest.fixture
def live_worker(transactional_db):
    if connection.vendor == "sqlite":
        pytest.skip("the worker thread needs a database server it can share with the test")
    queue = f"test-{uuid.uuid4().hex[:8]}"  # no stale message of an earlier run is consumed
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
        ):
            yield
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved


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
