"""gunicorn's access log, from a real gunicorn started in the repository root (where it reads
gunicorn.conf.py, as in the image and CI): paths without query strings, secret path segments
masked. Django's own request warnings ("Not Found: /path") are cleaned the same way."""

from __future__ import annotations

import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from rehab import services
from rehab.log_privacy import private_path, private_request_line
from tests.factories import ClinicianFactory, PatientFactory

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(17600, 17700)  # the ports this project's checks may use on a shared machine


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("/clinic/?q=Bloggs", "/clinic/"),
        ("/api/v1/patients/?external_id=MRN-1&page=2", "/api/v1/patients/"),
        ("/portal/calendar/AbC-12_xyz.ics", "/portal/calendar/….ics"),
        ("/portal/calendar/AbC-12_xyz.ics?x=1", "/portal/calendar/….ics"),
        ("/portal/invite/AbC-12_xyz/", "/portal/invite/…/"),
        ("/clinic/password-reset/MQ/ckz7-3f9a0b/", "/clinic/password-reset/MQ/…/"),
        ("/clinic/password-reset/MQ/set-password/", "/clinic/password-reset/MQ/set-password/"),
        ("https://rehab.example.org/clinic/?q=Bloggs#x", "https://rehab.example.org/clinic/"),
        ("-", "-"),
    ],
)
def test_private_path_drops_the_query_and_masks_secrets(url, logged):
    assert private_path(url) == logged


def test_private_request_line_keeps_method_and_protocol():
    assert private_request_line("GET /clinic/?q=Bloggs HTTP/1.1") == "GET /clinic/ HTTP/1.1"


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 17600-17699")


def _database_url(tmp_path: Path) -> str:
    """The test database, for another process: SQLite copied to a file, PostgreSQL shared."""
    connection.ensure_connection()
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        target = tmp_path / "db.sqlite3"
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        return f"sqlite:///{target}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _get(port: int, path: str, headers: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_the_access_log_has_no_query_strings_and_no_calendar_token(tmp_path):
    clinician = ClinicianFactory()
    patient = PatientFactory(clinic=clinician.clinic, last_name="Bloggs", external_id="MRN-555")
    token = services.calendar_feed_create(patient=patient, actor=None)
    _, key = services.api_key_create(clinic=clinician.clinic, name="EHR", actor=None)
    port = _free_port()
    access_log, errors = tmp_path / "access.log", tmp_path / "stderr.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "access-log-test",
        "DEBUG": "false",
    }
    env.pop("REDIS_URL", None)  # the requests below need no cache shared with anyone
    with open(errors, "wb") as stderr:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "rehab.wsgi:application"),
                *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
                *("--access-logfile", str(access_log)),
            ],
            cwd=ROOT,
            env=env,
            stdout=stderr,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz", {}) == 200:
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{errors.read_text()}")
                time.sleep(0.2)
        referer = {"Referer": f"http://127.0.0.1:{port}/clinic/?q=Bloggs"}
        assert _get(port, "/clinic/?q=Bloggs&flag=paused", referer) == 302  # to sign in
        api = {"Authorization": f"Api-Key {key}"}
        assert _get(port, "/api/v1/patients/?external_id=MRN-555", api) == 200
        assert _get(port, "/api/v1/patients/?search=Bloggs", api) == 200
        assert _get(port, f"/portal/calendar/{token}.ics", {}) == 200
        assert _get(port, f"/portal/calendar/{token[::-1]}.ics?src=app", {}) == 404
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = access_log.read_text().splitlines()
    requests = [line for line in lines if "/healthz" not in line]
    assert len(requests) == 5, lines
    for secret in ("Bloggs", "MRN-555", token, token[::-1], "?", "src=app"):
        assert not any(secret in line for line in requests), (secret, requests)
        assert secret not in errors.read_text(), (secret, errors.read_text())
    assert '"GET /clinic/ HTTP/1.1" 302' in requests[0]
    assert f'"http://127.0.0.1:{port}/clinic/"' in requests[0]  # the referrer, cleaned too
    assert '"GET /api/v1/patients/ HTTP/1.1" 200' in requests[1]
    assert '"GET /portal/calendar/….ics HTTP/1.1" 200' in requests[3]
    assert '"GET /portal/calendar/….ics HTTP/1.1" 404' in requests[4]
    assert "Not Found: /portal/calendar/….ics" in errors.read_text()
