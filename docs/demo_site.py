"""The demo clinic on a throwaway database, served for a browser: what docs/screenshots.py and
docs/page_heights.py both stand on. Never touches var/ (a temporary VAR_DIR, SQLite, eager tasks).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@dataclass(frozen=True)
class DemoSite:
    base: str  # http://127.0.0.1:<port>
    password: str  # every demo login's
    env: dict  # the environment the site runs in, for manage()


def manage(*args: str, env: dict) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def demo_site(prefix: str) -> Iterator[DemoSite]:
    """Migrates, loads the protocol library and the demo clinic, and serves it until the block
    ends; then removes everything it made."""
    var = tempfile.mkdtemp(prefix=prefix)
    env = {**os.environ, "VAR_DIR": var, "DEBUG": "true", "CELERY_TASK_ALWAYS_EAGER": "true"}
    env.pop("DATABASE_URL", None)
    manage("migrate", "--noinput", env=env)
    manage("load_protocols", env=env)
    manage("seed_demo", env=env)
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        yield DemoSite(base=base, password=env.get("DEMO_PASSWORD", "retrowalk-demo"), env=env)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(var, ignore_errors=True)


def sign_in(page, base: str, door: str, username: str, password: str) -> None:
    page.goto(f"{base}/{door}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
