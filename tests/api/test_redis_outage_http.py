"""The Redis outage over real HTTP: gunicorn, as production runs it, on the test's database and a
private redis-server that is killed mid-test.

gunicorn must share the test's data, so this runs where the test database is a server
(CI's PostgreSQL pass in .ci/run, or DATABASE_URL=postgres://... locally); the default SQLite
run keeps its test database in memory and skips it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from rehab import services
from rehab.models import SessionLog
from tests.factories import active_plan
from tests.redis_server import redis_server_or_skip, spare_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_server():
    server = redis_server_or_skip()
    yield server
    server.kill()


@pytest.fixture
def gunicorn(transactional_db, redis_server, tmp_path):
    if connection.vendor == "sqlite":
        pytest.skip("gunicorn needs a database server it can share with the test")
    db = connection.settings_dict
    port = spare_port()
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_server.url(),
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "outage-test",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "false",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "rehab.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--error-logfile",
            str(tmp_path / "gunicorn.log"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "gunicorn.log").read_text()[-2000:])
                time.sleep(0.3)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def call(method: str, url: str, *, body: dict | None = None, key: str | None = None):
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    if key:
        request.add_header("Authorization", f"Api-Key {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_over_real_http_the_api_answers_json_while_redis_is_down(gunicorn, redis_server):
    plan = active_plan()
    _, key = services.api_key_create(clinic=plan.patient.clinic, name="EHR", actor=None)
    session = {
        "plan": plan.pk,
        "date": str(plan.patient.local_today()),
        "minutes_done": 10,
        "pain_before": 1,
        "pain_worst": 2,
        "pain_after": 1,
        "effort": 3,
        "setting": "treadmill_both_handrails",
    }
    assert call("GET", f"{gunicorn}/readyz")[0] == 200

    redis_server.kill()
    status, headers, body = call("POST", f"{gunicorn}/api/v1/sessions/", body=session, key=key)
    assert status == 201, body[:300]
    assert headers["Content-Type"] == "application/json"
    assert SessionLog.objects.filter(plan=plan).count() == 1

    status, headers, body = call("GET", f"{gunicorn}/api/v1/no-such-thing/", key=key)
    assert (status, headers["Content-Type"]) == (404, "application/json")
    assert json.loads(body)["code"] == "not_found"

    status, _, body = call("GET", f"{gunicorn}/readyz")
    assert status == 503
    checks = json.loads(body)["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"] != "ok"
    assert call("GET", f"{gunicorn}/healthz")[0] == 200

    redis_server.start()
    assert call("GET", f"{gunicorn}/readyz")[0] == 200
