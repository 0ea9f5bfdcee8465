"""The simulated people of the load test; bench/load.py starts locust with this file, after it
seeded the people LOAD_PEOPLE (a JSON file) names. Not for use on its own against any other
server: every request goes to the --host load.py gives, 127.0.0.1.

- PortalPatient (100): signs in to the portal (a real session, the forms' CSRF tokens), then
  visits every 20 to 60 s: Today, the log form, logs a session (the next day not logged yet), the
  "saved" page; sometimes the progress page.
- ApiPatient (100): a patient's phone app with a personal token: the plan, a session logged
  with an Idempotency-Key (a tenth of them sent twice, as an app retrying after a lost
  response), the sessions list.
- Clinician (20): signs in to the dashboard (a clinic without two-step sign-in) and browses:
  Today, page 2, a search, a patient's page.

Requests are named "<METHOD> <path pattern>" so each endpoint has one row in the table; the
sign-in requests are named "sign-in: ...". A page that answers 200 but shows a form error
counts as a failure, like any 4xx/5xx.

The measured window: 120 sign-ins at the start cost half a minute or more of CPU on 2 cores
(argon2 is slow on purpose), a stampede no clinic sees. So the users first sign in, three at a
time (one per gunicorn worker: a sign-in then waits for no other), and wait; once the last one
is in (the API patients need no sign-in), locust's statistics are reset, everyone starts (each
at a random moment within its first pause), and the run ends LOAD_SECONDS later. The sign-ins'
own times and every failed request of the whole run, ramp included, are written to LOAD_RECORD
(a JSON file) for load.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import time
import uuid
from pathlib import Path

import gevent
from gevent.event import Event
from gevent.lock import Semaphore
from locust import HttpUser, between, events, task
from locust.exception import StopUser

PEOPLE = json.loads(Path(os.environ["LOAD_PEOPLE"]).read_text())
MEASURED_SECONDS = float(os.environ["LOAD_SECONDS"])
SIGN_IN_SECONDS = float(os.environ["LOAD_SIGN_IN_SECONDS"])  # for all of them, at most
TIMEOUT = 30  # seconds a request may take before it counts as failed
# Seconds between two visits of one person. A patient logs once a day; the run compresses that
# to a visit (4 requests, one session logged) every 20 to 60 s: with 200 patients and 20
# clinicians browsing every 3 to 10 s, about 20 requests/s and 4 sessions logged a second.
PATIENT_PAUSE = (20, 60)
CLINICIAN_PAUSE = (3, 10)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ERRORS = re.compile(r'class="[^"]*error[^"]*"[^>]*>\s*([^<]{1,200})')
# Each simulated user takes the next person of its kind (locust runs them in one process).
_queues = {kind: list(reversed(PEOPLE[kind])) for kind in ("portal", "api", "clinicians")}


RECORD: dict = {"sign_in": [], "failures": [], "window_started": None}
_settled = {"users": 0}
SIGN_IN_TURNS = Semaphore(3)
EVERYONE_IN = Event()


def settled(environment) -> None:
    """One more user signed in (or given up); the last one starts the measured window. Each
    waits for it."""
    _settled["users"] += 1
    if _settled["users"] == sum(len(PEOPLE[kind]) for kind in ("portal", "api", "clinicians")):
        environment.stats.reset_all()
        RECORD["window_started"] = time.time()
        gevent.spawn_later(MEASURED_SECONDS, environment.runner.quit)
        EVERYONE_IN.set()
    EVERYONE_IN.wait(timeout=SIGN_IN_SECONDS)


@events.request.add_listener
def _on_request(name, response_time, exception, **_) -> None:
    if name.startswith("sign-in"):
        RECORD["sign_in"].append([name, response_time, exception is None])
    if exception is not None:
        RECORD["failures"].append([name, str(exception)[:300]])


@events.quitting.add_listener
def _on_quitting(**_) -> None:
    Path(os.environ["LOAD_RECORD"]).write_text(json.dumps(RECORD))


def arrive(pause: tuple[float, float]) -> None:
    """Everyone is released at once when the window starts: each first visit comes at a random
    moment within one pause, as they would in a steady stream, not all 220 in the same second."""
    gevent.sleep(random.uniform(0, pause[1]))


def unexpected(response, expected: int) -> str:
    if not response.status_code:  # no response at all: the connection or the timeout
        return f"no response: {type(response.error).__name__}"
    return f"{response.status_code} (expected {expected}): {(response.text or '')[:200]}"


def next_person(kind: str) -> dict:
    if not _queues[kind]:
        raise StopUser()  # more users than people seeded: load.py's counts are out of step
    return _queues[kind].pop()


def session_values(day: dt.date) -> dict:
    """A session well inside level 1 of the plan: no alert, no pause."""
    return {
        "date": day.isoformat(),
        "minutes_done": random.randint(8, 12),
        "setting": PEOPLE["setting"],
        "speed_kmh": PEOPLE["speed_kmh"],
        "pain_before": random.randint(0, 2),
        "pain_worst": random.randint(1, 2),
        "pain_after": random.randint(0, 2),
        "effort": random.randint(2, 4),
    }


class Days:
    """The days a patient can still log, oldest first, up to today."""

    def __init__(self, person: dict) -> None:
        self.next = dt.date.fromisoformat(person["first_day"])
        self.last = dt.date.fromisoformat(person["last_day"])

    def take(self) -> dt.date | None:
        if self.next > self.last:
            return None
        day, self.next = self.next, self.next + dt.timedelta(days=1)
        return day


class Browser(HttpUser):
    abstract = True

    def get(self, path: str, name: str, **kwargs):
        return self.client.get(
            path, name=name, timeout=TIMEOUT, allow_redirects=False, catch_response=True, **kwargs
        )

    def post_form(self, path: str, name: str, token: str, fields: dict):
        return self.client.post(
            path,
            name=name,
            data={"csrfmiddlewaretoken": token, **fields},
            headers={"Referer": self.host + path},
            timeout=TIMEOUT,
            allow_redirects=False,
            catch_response=True,
        )

    def page(self, path: str, name: str, **kwargs) -> str:
        with self.get(path, name, **kwargs) as response:
            if response.status_code != 200:
                response.failure(unexpected(response, 200))
                return ""
            response.success()
            return response.text

    def form_token(self, path: str, name: str) -> str | None:
        html = self.page(path, name)
        token = CSRF.search(html)
        return token.group(1) if token else None

    def sign_in(self, door: str, username: str) -> None:
        SIGN_IN_TURNS.acquire()
        try:
            login = f"/{door}/login/"
            token = self.form_token(login, f"sign-in: GET {login}")
            if token is None:
                raise StopUser()
            fields = {"username": username, "password": PEOPLE["password"]}
            with self.post_form(login, f"sign-in: POST {login}", token, fields) as response:
                if response.status_code != 302:
                    response.failure(f"sign-in as {username}: {unexpected(response, 302)}")
                    raise StopUser()
                response.success()
        finally:
            SIGN_IN_TURNS.release()
            settled(self.environment)


class PortalPatient(Browser):
    fixed_count = len(PEOPLE["portal"])
    wait_time = between(*PATIENT_PAUSE)

    def on_start(self) -> None:
        person = next_person("portal")
        self.days = Days(person)
        self.sign_in("portal", person["username"])
        arrive(PATIENT_PAUSE)

    @task(5)
    def log_a_session(self) -> None:
        self.page("/portal/", "GET /portal/")
        token = self.form_token("/portal/log/", "GET /portal/log/")
        day = self.days.take()
        if token is None or day is None:
            return
        time.sleep(random.uniform(3, 8))  # filling in the form
        fields = {**session_values(day), "swelling": "none"}
        with self.post_form("/portal/log/", "POST /portal/log/", token, fields) as response:
            saved = response.headers.get("Location", "")
            if response.status_code != 302 or not re.search(r"/portal/log/\d+/$", saved):
                errors = ERRORS.findall(response.text or "")[:2]
                response.failure(f"not saved: {unexpected(response, 302)[:40]} {errors}")
                return
            response.success()
        self.page(saved, "GET /portal/log/<pk>/")

    @task(1)
    def progress(self) -> None:
        self.page("/portal/progress/", "GET /portal/progress/")


class ApiPatient(HttpUser):
    fixed_count = len(PEOPLE["api"])
    wait_time = between(*PATIENT_PAUSE)

    def on_start(self) -> None:
        person = next_person("api")
        self.days = Days(person)
        self.plan = person["plan"]
        self.headers = {"Authorization": f"Token {person['token']}"}
        settled(self.environment)
        arrive(PATIENT_PAUSE)

    def call(self, method: str, path: str, name: str, expected: int, **kwargs) -> dict | None:
        with self.client.request(
            method,
            path,
            name=name,
            headers={**self.headers, **kwargs.pop("headers", {})},
            timeout=TIMEOUT,
            catch_response=True,
            **kwargs,
        ) as response:
            if response.status_code != expected:
                response.failure(unexpected(response, expected))
                return None
            response.success()
            return response.json()

    def retry(self, body: dict, key: dict, logged: int) -> None:
        """The same request again, as an app does after a lost response: the stored response
        comes back, nothing is logged twice."""
        with self.client.post(
            "/api/v1/sessions/",
            name="POST /api/v1/sessions/ (retry)",
            json=body,
            headers={**self.headers, **key},
            timeout=TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(unexpected(response, 201))
            elif response.json().get("id") != logged:
                response.failure(f"a second session logged: {response.text[:200]}")
            else:
                response.success()

    @task
    def log_a_session(self) -> None:
        self.call("GET", f"/api/v1/plans/{self.plan}/", "GET /api/v1/plans/<pk>/", 200)
        day = self.days.take()
        if day is not None:
            time.sleep(random.uniform(3, 8))  # the app's form
            body = {"plan": self.plan, **session_values(day)}
            key = {"Idempotency-Key": str(uuid.uuid4())}
            created = self.call(
                "POST", "/api/v1/sessions/", "POST /api/v1/sessions/", 201, json=body, headers=key
            )
            if created is not None and random.random() < 0.1:
                self.retry(body, key, created["id"])
        self.call("GET", f"/api/v1/sessions/?plan={self.plan}", "GET /api/v1/sessions/", 200)


class Clinician(Browser):
    fixed_count = len(PEOPLE["clinicians"])
    wait_time = between(*CLINICIAN_PAUSE)

    def on_start(self) -> None:
        self.sign_in("clinic", next_person("clinicians")["username"])
        arrive(CLINICIAN_PAUSE)

    @task(4)
    def today(self) -> None:
        self.page("/clinic/", "GET /clinic/ (Today)")

    @task(1)
    def today_page_two(self) -> None:
        self.page("/clinic/", "GET /clinic/?page=2", params={"page": 2})

    @task(2)
    def search(self) -> None:
        term = random.choice(PEOPLE["search_terms"])
        self.page("/clinic/", "GET /clinic/?q= (search)", params={"q": term})

    @task(4)
    def patient_page(self) -> None:
        pk = random.choice(PEOPLE["patient_ids"])
        self.page(f"/clinic/patients/{pk}/", "GET /clinic/patients/<pk>/")
