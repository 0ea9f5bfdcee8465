"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

`.ci/run` installs chromium; on a machine without it these tests skip with a reason, so
`make test` still works on a fresh machine with only Python, make and git.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls (building
# data, checking rows) are still plain synchronous code, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if HAVE_CHROMIUM:
        return
    skip = pytest.mark.skip(reason=f"no chromium at {CHROMIUM} (.ci/run installs Debian's)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's chromium, not a Playwright download; flags keep it off the (closed) network.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture
def axe_check():
    """Runs axe-core on the page and fails on any serious or critical violation, naming it."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page):
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:5])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"axe on {page.url}:\n" + "\n".join(bad)
        return results

    return check


def fill_screening(page, answers: dict) -> None:
    """Answers the dashboard's screening form as a clinician would, question by question."""
    from clinicians.forms.flows import NO, YES

    for code, value in answers.items():
        if not page.locator(f"[name='{code}']").count():
            continue  # e.g. the condition: the form takes it from the patient's record
        if isinstance(value, bool):
            page.check(f"input[name='{code}'][value='{YES if value else NO}']")
        elif page.locator(f"input[type=radio][name='{code}']").count():
            page.check(f"input[name='{code}'][value='{value}']")
        else:
            page.fill(f"input[name='{code}']", str(value))


@pytest.fixture
def sign_in(live_server):
    """Signs a user in through the real form of a door ("clinicians" or "patients")."""

    def do(page, username: str, password: str = "pw", door: str = "clinicians"):
        path = "/clinic/login/" if door == "clinicians" else "/portal/login/"
        page.goto(live_server.url + path)
        page.get_by_label("username", exact=False).fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()

    return do


# Added before any of the page's own scripts: the browser fires securitypolicyviolation for
# everything the Content-Security-Policy blocks (an inline script, a style="" attribute, ...).
_POLICY_WATCH = """
window.__policyViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__policyViolations.push(
    event.effectiveDirective + " blocked " + (event.blockedURI || "inline") + " in " +
    event.sourceFile + ":" + event.lineNumber + " " + (event.sample || "")
  );
});
"""


def watch_policy(page) -> list[str]:
    """From now on, collects the page's console errors and uncaught exceptions; with
    assert_page_is_clean, also its Content-Security-Policy violations."""
    problems: list[str] = []
    page.add_init_script(_POLICY_WATCH)
    page.on(
        "console",
        lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    return problems


def assert_page_is_clean(page, problems: list[str]) -> None:
    found = problems + page.evaluate("window.__policyViolations || []")
    problems.clear()
    assert not found, f"{page.url}:\n" + "\n".join(found)


@pytest.fixture
def page_is_clean(page):
    """Call it to assert that the page has had no policy violation or console error so far."""
    problems = watch_policy(page)
    return lambda: assert_page_is_clean(page, problems)
