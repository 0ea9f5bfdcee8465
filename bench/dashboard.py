"""`make bench`, dashboard half (issues 5 and 13): what the clinician's Today page costs for a
clinic of 10,000 patients as a ratio to a clinic of 10, measured in the same run on the same
machine (absolute times on a shared machine are noise; the ratio is the figure). Two figures,
each goal at most 1.5:

- `dashboard.today`: the worst ratio of the Today pages
  - GET /clinic/                            page 1, everyone, sorted by need;
  - GET /clinic/?q=smith&status=active      a search for a common name, with a filter;
  - GET /clinic/?flag=attention&page=2      the second page of those who need attention;
- `dashboard.search`: GET /clinic/?q=quennell, a rare surname that five patients of each clinic
  bear, so both pages show the same 5 rows (what the search costs, not how many rows it shows).

Both clinics live in one throw-away database (bench/common.py: a database of its own on
PostgreSQL, SQLite otherwise), filled with bulk inserts: patients, screenings (some expired,
expiring or invalidated), plans (active, paused by a fall, completed, none yet), four weeks of
sessions at each patient's own adherence, and decisions (noted, applied, pending, pauses). One
clinician of each clinic asks for the pages with Django's test client, in interleaved rounds; the
medians are compared, and each request's queries are counted.

The list stores each patient's need and works it out again only for the patients a write marked
stale, and for everyone on a new day (services.dashboard_refresh). The measure is of a working
day: the needs are computed for today in the warm-up, and before each measured request (outside
its time) a session is logged through services.session_log for one patient of each clinic, so
every measured request refreshes a stale patient as it would after a patient's log. The first
request of a day, which recomputes the whole clinic, is reported apart (not in the ratio): the
large clinic's needs set back to yesterday, then one request, a few times.

Knobs: BENCH_DASHBOARD_PATIENTS (the large clinic, default 10000; 2000 with BENCH_QUICK=1),
BENCH_DASHBOARD_ROUNDS (9; 3), BENCH_DASHBOARD_REQUESTS (requests per page and clinic in each
round, 5; 3).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import quick, record, throwaway_database

DB = throwaway_database("dashboard")
os.environ["DJANGO_SETTINGS_MODULE"] = "rehab.settings"
os.environ["DEBUG"] = "false"
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from rehab import services  # noqa: E402
from rehab.clinical import levels as L  # noqa: E402
from rehab.clinical.screening import negative_answers  # noqa: E402
from rehab.errors import RehabError  # noqa: E402
from rehab.models import (  # noqa: E402
    Clinic,
    Clinician,
    Patient,
    Plan,
    ProgressionDecision,
    Protocol,
    Screening,
    SessionLog,
    User,
)
from rehab.services import DEFAULT_SCHEDULES  # noqa: E402

SMALL = 10
LARGE = int(os.environ.get("BENCH_DASHBOARD_PATIENTS", quick("10000", "2000")))
ROUNDS = max(1, int(os.environ.get("BENCH_DASHBOARD_ROUNDS", quick("9", "3"))))
REQUESTS = max(1, int(os.environ.get("BENCH_DASHBOARD_REQUESTS", quick("5", "3"))))
GOAL = 1.5
# Five patients of each clinic bear this surname after their own (Smith-Quennell; no other
# patient has it in any field), so a search for it shows the same 5 rows in both:
# SEARCH_PATH is dashboard.search's page.
RARE_SURNAME = "Quennell"
RARE_ROWS = 5
SEARCH_PATH = f"/clinic/?q={RARE_SURNAME.lower()}"
TODAY_PATHS = ["/clinic/", "/clinic/?q=smith&status=active", "/clinic/?flag=attention&page=2"]
BATCH = 2000
LAST_NAMES = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Patel", "Khan")
CONDITIONS = list(L.CONDITIONS)
# A safety pause writes its first reason on the plan (services.evaluate_locked).
FALL_REASON = "A fall was reported (bench). The plan is paused until the clinician has reviewed it."


def _chunks(rows, size=BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk(model, rows):
    created = []
    for chunk in _chunks(rows):
        created.extend(model.objects.bulk_create(chunk))
    return created


def populate(clinic: Clinic, n: int, today: dt.date, rng: random.Random) -> None:
    """n patients of the clinic in the shapes the list meets in real life."""
    protocols = {
        p.condition: (p, [row.to_level().to_dict() for row in p.levels.all()])
        for p in Protocol.objects.filter(clinic__isnull=True).prefetch_related("levels")
    }
    rare = set(range(0, n, max(1, n // RARE_ROWS))[:RARE_ROWS])
    patients = _bulk(
        Patient,
        [
            Patient(
                clinic=clinic,
                first_name=rng.choice(("Alex", "Sam", "Jo", "Chris", "Robin", "Kim")),
                last_name=f"{rng.choice(LAST_NAMES)}{f'-{RARE_SURNAME}' * (i in rare)}{i:05d}",
                condition=CONDITIONS[i % len(CONDITIONS)],
                email=f"{clinic.slug}-{i}@example.org",
                external_id=f"MRN{i:06d}",
            )
            for i in range(n)
        ],
    )
    kinds = []  # per patient: "active", "paused", "completed", "none", "screened"
    screenings = []
    for i, patient in enumerate(patients):
        roll = rng.random()
        kind = (
            "none"
            if roll < 0.03
            else "screened"
            if roll < 0.06
            else "completed"
            if roll < 0.08
            else "paused"
            if roll < 0.10
            else "active"
        )
        kinds.append(kind)
        if kind == "none":
            screenings.append(None)
            continue
        age = rng.randint(1, 200)  # a screening is valid 180 days: some expired, some expiring
        screened_on = today - dt.timedelta(days=age)
        screenings.append(
            Screening(
                patient=patient,
                clinic=clinic,
                condition=patient.condition,
                answers=negative_answers(patient.condition),
                status=Screening.Status.CLEARED,
                referral=Screening.Referral.NONE,
                screened_on=screened_on,
                screened_at=timezone.make_aware(
                    dt.datetime.combine(screened_on, dt.time(10, i % 60))
                ),
                valid_until=screened_on + dt.timedelta(days=180),
                invalidated_at=timezone.now() if kind == "paused" and i % 2 else None,
            )
        )
    _bulk(Screening, [s for s in screenings if s is not None])
    plans = []
    for patient, kind, screening in zip(patients, kinds, screenings, strict=True):
        if kind in ("none", "screened"):
            continue
        protocol, levels = protocols[patient.condition]
        start = max(screening.screened_on, today - dt.timedelta(days=rng.randint(0, 60)))
        # Paused days are read from Plan.pauses by the adherence flag's SQL: a paused plan is
        # paused since a day of its own, and one active plan in five had a week's pause before.
        pauses = []
        if kind == "paused":
            pauses = [[(start + dt.timedelta(days=(today - start).days // 2)).isoformat(), None]]
        elif kind == "active" and (today - start).days > 10 and rng.random() < 0.2:
            paused_on = start + dt.timedelta(days=rng.randint(0, (today - start).days - 8))
            pauses = [[paused_on.isoformat(), (paused_on + dt.timedelta(days=7)).isoformat()]]
        plans.append(
            Plan(
                patient=patient,
                clinic=clinic,
                protocol=protocol,
                protocol_version=protocol.version,
                protocol_name=protocol.name,
                condition=protocol.condition,
                levels=levels,
                screening=screening,
                status={"active": "active", "paused": "paused", "completed": "completed"}[kind],
                status_reason=FALL_REASON if kind == "paused" else "",
                current_level=rng.randint(0, len(levels) - 1),
                start_date=start,
                level_started_on=start,
                window_start=start,
                schedule_days=DEFAULT_SCHEDULES[rng.choice((2, 3, 3, 3, 5))],
                auto_apply=rng.random() < 0.5,
                pauses=pauses,
            )
        )
    plans = _bulk(Plan, plans)
    sessions, decisions = [], []
    for plan in plans:
        adherence = rng.choice((0.2, 0.5, 0.8, 0.9, 1.0, 1.0))
        first = max(plan.start_date, today - dt.timedelta(days=27))
        for back in range((today - first).days + 1):
            day = today - dt.timedelta(days=back)
            if day.weekday() not in plan.schedule_days or rng.random() > adherence:
                continue
            pain_before = rng.randint(0, 4)
            sessions.append(
                SessionLog(
                    plan=plan,
                    patient_id=plan.patient_id,
                    date=day,
                    level_index=plan.current_level,
                    minutes_done=rng.randint(5, 30),
                    speed_kmh=1.5,
                    setting=L.TREADMILL_BOTH_HANDRAILS,
                    pain_before=pain_before,
                    pain_worst=pain_before + rng.randint(0, 3),
                    pain_after=pain_before + rng.randint(0, 2),
                    pain_next_morning=None
                    if back == 0
                    else max(0, pain_before + rng.choice((0, 0, 0, 0, 0, 0, -1, 1))),
                    effort=rng.randint(2, 5),
                )
            )
        for week in range(1, 4):
            decisions.append(
                _decision(plan, today - dt.timedelta(days=7 * week), "hold", "noted", "session")
            )
        if plan.status == Plan.Status.PAUSED:
            decisions.append(_decision(plan, today - dt.timedelta(days=1), "pause", "applied"))
        elif plan.status == Plan.Status.ACTIVE and rng.random() < 0.06:
            decisions.append(_decision(plan, today, "advance", "pending"))
    _bulk(SessionLog, sessions)
    _bulk(ProgressionDecision, decisions)


def _decision(plan, day, outcome, status, trigger="session"):
    code = {"hold": "min_days", "pause": "fall", "advance": "criteria_met"}[outcome]
    text = FALL_REASON if outcome == "pause" else f"{code} (bench)"
    return ProgressionDecision(
        plan=plan,
        evaluated_on=day,
        trigger=trigger,
        outcome=outcome,
        from_level=plan.current_level,
        to_level=plan.current_level + (1 if outcome == "advance" else 0),
        reasons=[{"code": code, "text": text, "outcome": outcome}],
        alert=outcome == "pause",
        status=status,
        applied_on=day if status == "applied" else None,
        created_at=timezone.make_aware(dt.datetime.combine(day, dt.time(18))),
    )


def clinic_with_clinician(name: str, n: int, today: dt.date, rng: random.Random) -> User:
    clinic = Clinic.objects.create(name=name, slug=name.lower(), timezone="UTC")
    user = User.objects.create_user(username=f"{clinic.slug}-physio", password=None)
    Clinician.objects.create(user=user, clinic=clinic)
    with transaction.atomic():
        populate(clinic, n, today, rng)
    return user


class SessionLogger:
    """Logs a session, through services.session_log, for one patient of the clinic at a time:
    an active plan's day with nothing logged yet (in the last four weeks, not before the plan's
    start), in a shuffled order, and runs its deferred evaluation as a worker would. Each log
    marks that patient's stored need stale.

    The small clinic has fewer free plan days than the bench has requests: once they are used
    up, the sessions logged here are deleted (between requests, untimed; their patients marked
    stale as a service would, so the stored needs stay exact) and their days are free again."""

    def __init__(self, clinic: Clinic, today: dt.date, rng: random.Random):
        self.clinic, self.today, self.rng = clinic, today, rng
        self.logged: list[SessionLog] = []
        self.free: list[tuple[Plan, dt.date]] = []
        self._find_free_days()

    def _find_free_days(self) -> None:
        logged = set(
            SessionLog.objects.filter(plan__clinic=self.clinic).values_list("plan_id", "date")
        )
        self.free = [
            (plan, day)
            for plan in Plan.objects.filter(clinic=self.clinic, status=Plan.Status.ACTIVE)
            for day in (self.today - dt.timedelta(days=back) for back in range(28))
            if day >= plan.start_date and (plan.pk, day) not in logged
        ]
        self.rng.shuffle(self.free)

    def _recycle(self) -> None:
        if not self.logged:
            raise RuntimeError("no free plan day left to log a session on")
        SessionLog.objects.filter(pk__in=[s.pk for s in self.logged]).delete()
        for patient_id in {s.patient_id for s in self.logged}:
            services.dashboard_mark_stale(patient_id)
        self.logged = []
        self._find_free_days()

    def log_one(self) -> None:
        while True:
            if not self.free:
                self._recycle()
            plan, day = self.free.pop()
            try:
                session = services.session_log(
                    plan=plan,
                    actor=None,
                    date=day,
                    today=self.today,
                    minutes_done=20,
                    pain_before=2,
                    pain_worst=3,
                    pain_after=2,
                    effort=3,
                    setting=L.TREADMILL_BOTH_HANDRAILS,
                    speed_kmh=1.5,
                )
            except RehabError:  # the plan was paused or ended meanwhile: another one
                continue
            # The worker's share, done here as it would be moments later: the deferred
            # evaluation, which marks the patient's stored need stale.
            services.session_evaluate(session_id=session.pk)
            self.logged.append(session)
            return


def measure(
    clients: dict[str, Client], paths: list[str], loggers: dict[str, SessionLogger]
) -> dict[tuple[str, str], list[float]]:
    """Seconds of each request, by (clinic, path): rounds interleave the clinics and pages so a
    slow spell of the machine hits both alike. Before each request (not timed) a session of one
    of the clinic's patients is logged."""
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(ROUNDS):
        for path in paths:
            for label, client in clients.items():
                for _ in range(REQUESTS):
                    loggers[label].log_one()
                    t0 = time.perf_counter()
                    response = client.get(path)
                    elapsed = time.perf_counter() - t0
                    if response.status_code != 200:
                        raise RuntimeError(f"{label} {path}: HTTP {response.status_code}")
                    samples.setdefault((label, path), []).append(elapsed)
    return samples


def count_queries(client: Client, path: str, logger: SessionLogger) -> tuple[int, int]:
    """The request's queries, and the patients its page shows: on the Today pages a clinic of 10
    shows at most 10 rows (fewer for the search), the large one 25, and the page's own cost grows
    with its rows; the rare surname's search shows 5 in both."""
    logger.log_one()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return len(ctx.captured_queries), response.content.decode().count('<th scope="row">')


def first_of_day(client: Client, clinic: Clinic, today: dt.date, times: int = 3) -> float:
    """Median seconds of the first request of a day: every need computed for yesterday."""
    samples = []
    for _ in range(times):
        Patient.objects.filter(clinic=clinic).update(dashboard_day=today - dt.timedelta(days=1))
        t0 = time.perf_counter()
        response = client.get("/clinic/")
        samples.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise RuntimeError(f"first of the day: HTTP {response.status_code}")
    return statistics.median(samples)


def main() -> int:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    services.protocol_library_load()
    today = timezone.now().date()  # the clinics are on UTC, like the clinic_today of the view
    rng = random.Random(5)
    users = {
        "small": clinic_with_clinician("Small", SMALL, today, rng),
        "large": clinic_with_clinician("Large", LARGE, today, rng),
    }
    built = time.perf_counter() - started
    jit = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum does soon after a bulk load; the planner's row estimates (and
            # whether it JIT-compiles a query) depend on it.
            cursor.execute("ANALYZE")
            cursor.execute("SHOW jit")
            jit = f", jit {cursor.fetchone()[0]}"
    clients = {}
    for label, user in users.items():
        clients[label] = Client()
        clients[label].force_login(user)
    loggers = {
        label: SessionLogger(Clinician.objects.get(user=user).clinic, today, rng)
        for label, user in users.items()
    }
    paths = [*TODAY_PATHS, SEARCH_PATH]
    # Warm-up: imports, template loading, the database's caches, and every patient's need
    # computed for today (the first request of the day).
    for path in paths:
        for client in clients.values():
            client.get(path)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Again what autovacuum does soon after: that first request rewrote every patient's
            # row, leaving dead row versions in the indexes and statistics that still say every
            # patient is stale (the refresh would plan for recomputing the whole clinic).
            cursor.execute("VACUUM ANALYZE")
    samples = measure(clients, paths, loggers)
    print(
        f"database: {connection.vendor}{jit}, clinics of {SMALL} and {LARGE} patients "
        f"(built in {built:.0f} s), {ROUNDS} rounds x {REQUESTS} requests"
    )
    print(f"{'request':<36}{'small ms':>9}{'large ms':>10}{'ratio':>7}{'queries':>10}{'rows':>8}")
    pages = {}
    for path in paths:
        small = statistics.median(samples[("small", path)])
        large = statistics.median(samples[("large", path)])
        (small_q, small_rows), (large_q, large_rows) = (
            count_queries(clients[label], path, loggers[label]) for label in ("small", "large")
        )
        pages[path] = {
            "ratio": round(large / small, 3),
            "small_ms": round(small * 1000, 1),
            "large_ms": round(large * 1000, 1),
            "queries": [small_q, large_q],
            "rows": [small_rows, large_rows],
        }
        print(
            f"{path:<36}{small * 1000:>9.1f}{large * 1000:>10.1f}{large / small:>7.2f}"
            f"{f'{small_q}/{large_q}':>10}{f'{small_rows}/{large_rows}':>8}"
        )
    search = pages[SEARCH_PATH]
    if search["rows"] != [RARE_ROWS, RARE_ROWS]:
        raise RuntimeError(f"the rare surname's search showed {search['rows']} rows")
    worst_path = max(TODAY_PATHS, key=lambda path: pages[path]["ratio"])
    worst = pages[worst_path]["ratio"]
    large_clinic = Clinician.objects.get(user=users["large"]).clinic
    first_ms = first_of_day(clients["large"], large_clinic, today) * 1000
    for name, value, detail in (
        (
            "dashboard.today",
            worst,
            {"worst": worst_path, "pages": {p: pages[p] for p in TODAY_PATHS}},
        ),
        (
            "dashboard.search",
            search["ratio"],
            {"path": SEARCH_PATH, **{k: v for k, v in search.items() if k != "ratio"}},
        ),
    ):
        verdict = "ok" if value <= GOAL else "over the goal"
        print(f"{name}: {value:.2f} (goal <= {GOAL}): {verdict}")
        record(
            name,
            value=value,
            goal=GOAL,
            unit="ratio",
            lower_is_better=True,
            db=DB,
            patients=[SMALL, LARGE],
            rounds=ROUNDS,
            requests=REQUESTS,
            **detail,
            **({"first_of_day_ms": round(first_ms)} if name == "dashboard.today" else {}),
        )
    print(
        "first request of the day, large clinic (every need recomputed, not in the ratio): "
        f"{first_ms:.0f} ms"
    )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    # Pages render without a collectstatic run, as in the tests.
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        sys.exit(main())
