"""Takes the README's screenshots from the demo clinic in Debian's chromium: `make screenshots`.

Runs on its own throwaway database (a temporary VAR_DIR), so it never touches var/.
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
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PYTHON = sys.executable
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(*args: str, env: dict) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def sign_in(page, base: str, door: str, username: str, password: str) -> None:
    page.goto(f"{base}/{door}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def main() -> None:
    var = tempfile.mkdtemp(prefix="retrowalk-shots-")
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
        password = env.get("DEMO_PASSWORD", "retrowalk-demo")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            desk = browser.new_page(viewport={"width": 1280, "height": 1000})
            sign_in(desk, base, "clinic", "hughes", password)
            desk.goto(f"{base}/clinic/")
            desk.screenshot(path=OUT / "dashboard-today.png", full_page=False)
            # The patient at the top of the list, the one who needs attention first: an emergency
            # referral not yet acted on, its banner at the top of the page.
            desk.locator("table a[href*='/clinic/patients/']").first.click()
            desk.wait_for_load_state()
            desk.screenshot(path=OUT / "dashboard-patient.png", full_page=False)
            phone = browser.new_context(
                # A small phone's screen (360 x 740): the one the portal is designed and tested for.
                viewport={"width": 360, "height": 740},
                device_scale_factor=2,
                is_mobile=True,
            ).new_page()
            sign_in(phone, base, "portal", "maria", password)
            phone.goto(f"{base}/portal/")
            phone.screenshot(path=OUT / "portal-today.png", full_page=False)
            phone.goto(f"{base}/portal/log/")
            phone.screenshot(path=OUT / "portal-log.png", full_page=False)
            phone.goto(f"{base}/portal/progress/")
            phone.screenshot(path=OUT / "portal-progress.png", full_page=False)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(var, ignore_errors=True)
    for name in sorted(OUT.glob("*.png")):
        print(name.relative_to(ROOT))


if __name__ == "__main__":
    main()
