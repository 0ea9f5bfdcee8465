"""`make bench`, audit half (issue 13, goal 6): what the reads of the audit trail cost when it
holds 10,000,000 rows, as a ratio to their cost at 10,000, in one run on one machine, with the
same clinic and the same pages (goal: at most 1.2 each; BENCH_QUICK=1: 10,000 vs 1,000,000).

- audit.patient_page  GET /clinic/patients/<id>/     its audit section: the patient's latest
                                                     events and the lists that showed them;
- audit.events_api    GET /api/v1/audit-events/     the clinic's latest page (cursor pages);
- audit.today         GET /clinic/                  Today (reads no audit, writes one event).

One throw-away database (common.throwaway_database): a clinic of 100 patients with a clinic
administrator, and a second clinic beside it. The trail is filled in SQL, never row by row:
years of history older than the first measure, four in five events in the measured clinic, one
in a hundred a list read naming a page of 25 patients (with its listing rows), every event
sealed in its clinic's chain as the sealer would leave it. On PostgreSQL the growth to the large
size drops the trail's indexes and constraints, inserts with generate_series (triggers and
foreign-key checks off for the load), rebuilds them and runs VACUUM ANALYZE, as autovacuum would
soon after. Each read is asked by Django's test client in-process, in interleaved rounds; the
medians are compared. The plans of the two audit queries at the large size are printed.

Knobs: BENCH_AUDIT_ROWS (the large trail), BENCH_AUDIT_VERBOSE=1 (the fill's steps). On the
2-core machine the full run takes 5-8 minutes, most of it the 10,000,000-row fill (the insert,
then twelve index and constraint builds); BENCH_QUICK=1 about 1-3 minutes.
"""

from __future__ import annotations

import atexit
import copy
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import quick, record, throwaway_database

DB = throwaway_database("audit")
os.environ["DJANGO_SETTINGS_MODULE"] = "rehab.settings"
os.environ["DEBUG"] = "false"
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["API_THROTTLE_RATE"] = "1000000/min"  # the bench's own rounds, not a client's

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from rehab.models import AuditChain, Clinic, Clinician, Patient, User  # noqa: E402

SMALL = 10_000
LARGE = int(os.environ.get("BENCH_AUDIT_ROWS", quick(10_000_000, 1_000_000)))
PATIENTS = 100  # per clinic: a page of the API's list is 25, so four list pages
LIST_EVERY = 100  # one event in a hundred is a list read naming a page of 25 patients
SPAN = dt.timedelta(days=3 * 365)  # the history the large trail covers
ROUNDS = quick(9, 6)
REQUESTS = 3  # per read and round
WARMUP = 2  # rounds not counted: imports, templates, the database's caches
GOAL = 1.2
ACTIONS = ["patient.view", "plan.read", "session.log", "reminder.sent", "audit.read"]


def clinic_with_patients(name: str) -> tuple[Clinic, list[int]]:
    clinic = Clinic.objects.create(name=name, slug=name.lower(), timezone="UTC")
    created = Patient.objects.bulk_create(
        Patient(clinic=clinic, first_name="Pat", last_name=f"{name}{i:03d}", condition="knee_oa")
        for i in range(PATIENTS)
    )
    ids = sorted(p.pk for p in created)
    # The fill names patients by arithmetic on the first id.
    assert ids == list(range(ids[0], ids[0] + PATIENTS)), "patient ids not contiguous"
    AuditChain.objects.create(clinic_ref=clinic.pk)
    return clinic, ids


def _pages_json(ids: list[int]) -> list[str]:
    return [json.dumps({"patients": ids[i : i + 25]}) for i in range(0, PATIENTS, 25)]


def _events_sql(vendor: str, worlds) -> str:
    """INSERT ... SELECT of the events numbered g in [%(lo)s, %(hi)s]: clinic, patient, action,
    time and chain place all worked out from g."""
    (bench, bench_ids), (other, other_ids) = worlds
    chains = dict(AuditChain.objects.values_list("clinic_ref", "pk"))

    def pick(expr_bench: str, expr_other: str) -> str:
        return f"CASE WHEN g % 5 = 0 THEN {expr_other} ELSE {expr_bench} END"

    listing = f"g % {LIST_EVERY} = 0"
    cast = "::jsonb" if vendor == "postgresql" else ""

    def pages(ids):
        whens = " ".join(f"WHEN {n} THEN '{text}'{cast}" for n, text in enumerate(_pages_json(ids)))
        return f"CASE (g / {LIST_EVERY}) % 4 {whens} END"

    patient = pick(f"{bench_ids[0]} + g % {PATIENTS}", f"{other_ids[0]} + g % {PATIENTS}")
    action = (
        "CASE g % 5 " + " ".join(f"WHEN {i} THEN '{a}'" for i, a in enumerate(ACTIONS)) + " END"
    )
    seconds = SPAN.total_seconds() / LARGE
    if vendor == "postgresql":
        series = "generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g"
        at = f"%(t0)s::timestamptz - g * interval '{seconds:.6f} seconds'"
        chain_hash = "lpad(to_hex(g), 64, '0')"
        empty = "'{}'::jsonb"
    else:
        series = (
            "(WITH RECURSIVE s(g) AS (SELECT %(lo)s UNION ALL SELECT g + 1 FROM s "
            "WHERE g < %(hi)s) SELECT g FROM s)"
        )
        at = (
            f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %(t0)s, '-' || (g * {seconds:.6f}) || ' seconds')"
        )
        chain_hash = "printf('%%064x', g)"
        empty = "'{}'"
    sql = f"""
        INSERT INTO rehab_auditevent (at, actor_id, actor_label, api_key_id, clinic_id,
            patient_id, patient_ref, action, object_type, object_id, detail, ip_address,
            chain_id, chain_seq, chain_hash, exported_at)
        SELECT {at}, NULL, 'bench-physio', NULL, {pick(str(bench.pk), str(other.pk))},
            CASE WHEN {listing} THEN NULL ELSE {patient} END,
            CASE WHEN {listing} THEN NULL ELSE {patient} END,
            CASE WHEN {listing} THEN 'patient.list' ELSE {action} END,
            'patient', CASE WHEN {listing} THEN '' ELSE CAST({patient} AS TEXT) END,
            CASE WHEN {listing} THEN {pick(pages(bench_ids), pages(other_ids))} ELSE {empty} END,
            '10.0.0.1', {pick(str(chains[bench.pk]), str(chains[other.pk]))}, g, {chain_hash},
            NULL
        FROM {series}
    """
    return sql.replace(" % ", " %% ")  # the modulo, not a parameter


def _pg_drop_indexes(cursor) -> list[str]:
    """Drop the trail's secondary indexes and unique constraints; the statements that rebuild
    them."""
    cursor.execute(
        """
        SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.conrelid IN ('rehab_auditevent'::regclass, 'rehab_auditlisting'::regclass)
          AND c.contype = 'u'
        """
    )
    constraints = cursor.fetchall()
    rebuild = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for n, t, d in constraints]
    for name, table, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cursor.execute(
        """
        SELECT indexname, indexdef FROM pg_indexes
        WHERE tablename IN ('rehab_auditevent', 'rehab_auditlisting')
          AND indexname NOT LIKE '%%pkey'
        """
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes] + rebuild


def _step(label: str, since: float) -> float:
    now = time.perf_counter()
    if os.environ.get("BENCH_AUDIT_VERBOSE"):
        print(f"  {label}: {now - since:.1f} s", flush=True)
    return now


def fill(worlds, lo: int, hi: int, t0: dt.datetime) -> float:
    """Events numbered lo..hi (and their listing rows); seconds it took."""
    started = step = time.perf_counter()
    params = {"lo": lo, "hi": hi, "t0": t0.isoformat()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM rehab_auditevent")
        first_new = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            rebuild = _pg_drop_indexes(cursor)
            # Triggers (the listing's, the foreign keys' checks) off for the load: the listing
            # rows are inserted below in one statement, the keys are the bench's own.
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(_events_sql("postgresql", worlds), params)
            step = _step("events", step)
            cursor.execute(
                """
                INSERT INTO rehab_auditlisting (event_id, patient_ref, at)
                SELECT e.id, p::bigint, e.at
                FROM rehab_auditevent e, jsonb_array_elements_text(e.detail -> 'patients') p
                WHERE e.id > %s AND e.action = 'patient.list'
                """,
                [first_new],
            )
            step = _step("listing rows", step)
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for statement in rebuild:
                cursor.execute(statement)
                step = _step(statement[:60], step)
        else:
            cursor.execute(_events_sql("sqlite", worlds), params)  # the trigger fills listings
        cursor.execute("UPDATE rehab_auditchain SET head_seq = %s, head_hash = %s", [hi, "0" * 64])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE rehab_auditevent")
            cursor.execute("VACUUM ANALYZE rehab_auditlisting")
        _step("vacuum analyze", step)
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def measure(trails: dict, reads: dict[str, str]) -> dict[tuple[str, str], float]:
    """Median ms of each read at each size, the sizes alternating request by request (a shared
    machine's load drifts; both sizes see the same drift), after warm-up rounds."""
    samples: dict[tuple[str, str], list[float]] = {}
    for round_ in range(-WARMUP, ROUNDS):
        for _ in range(REQUESTS):
            for name, path in reads.items():
                for size, (conn, client) in trails.items():
                    use(conn)
                    started = time.perf_counter()
                    response = client.get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, (size, path, response.status_code)
                    if round_ >= 0:
                        samples.setdefault((size, name), []).append(elapsed)
    return {key: statistics.median(values) for key, values in samples.items()}


def explain(patient: Patient, clinic: Clinic) -> None:
    """The plans of the patient page's audit query and the API's first page, at this size."""
    if connection.vendor != "postgresql":
        return
    from rehab.models import AuditEvent
    from rehab.selectors.patient_page import _page_audit_events

    class Staff:  # what _page_audit_events reads of a principal
        pass

    principal = Staff()
    principal.clinic = clinic
    queries = {
        "patient page, audit section": _page_audit_events(principal, patient),
        "audit-events API, first page": AuditEvent.objects.filter(clinic=clinic).order_by(
            "-at", "-id"
        )[:26],
    }
    for label, queryset in queries.items():
        print(f"-- {label}")
        print(queryset.explain(analyze=True, buffers=True))


def second_database() -> object:
    """A connection to a second throw-away database beside the first (the small trail), so that
    the two sizes can be asked in alternation; dropped at exit."""
    default = connections["default"]
    settings_dict = copy.deepcopy(default.settings_dict)
    if default.vendor == "postgresql":
        settings_dict["NAME"] = f"{settings_dict['NAME']}_small"
        admin = {k: settings_dict[k] for k in ("HOST", "PORT", "USER", "PASSWORD") if k}
        dsn = " ".join(f"{k.lower()}={v}" for k, v in admin.items() if v)
        import psycopg

        def drop() -> None:
            small.close()
            with psycopg.connect(f"{dsn} dbname=postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')

        drop_first = psycopg.connect(f"{dsn} dbname=postgres", autocommit=True)
        with drop_first as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{settings_dict["NAME"]}"')
        small = default.__class__(settings_dict, alias="default")
        atexit.register(drop)
    else:
        settings_dict["NAME"] = str(Path(settings_dict["NAME"]).with_name("small.sqlite3"))
        small = default.__class__(settings_dict, alias="default")
    return small


def use(conn) -> None:
    """Requests and the ORM go to this database from now on."""
    connections["default"] = conn


def build() -> tuple:
    """The clinics, the administrator and their client, in the database in use (the same ids in
    each fresh database)."""
    call_command("migrate", verbosity=0)
    bench = clinic_with_patients("Bench")
    other = clinic_with_patients("Other")
    clinic = bench[0]
    user = User.objects.create_user(username="bench-admin", password=None)
    Clinician.objects.create(user=user, clinic=clinic, is_clinic_admin=True)
    client = Client()
    client.force_login(user)
    return (bench, other), client


def main() -> int:
    started = time.perf_counter()
    large_db = connections["default"]
    small_db = second_database()
    t0 = timezone.now()
    use(small_db)
    worlds, small_client = build()
    took_small = fill(worlds, 1, SMALL, t0)
    use(large_db)
    worlds, large_client = build()
    took_large = fill(worlds, 1, LARGE, t0)
    (clinic, ids), _ = worlds
    patient = Patient.objects.get(pk=ids[7])
    reads = {
        "audit.patient_page": reverse("clinicians:patient", args=[patient.pk]),
        "audit.events_api": "/api/v1/audit-events/",
        "audit.today": reverse("clinicians:today"),
    }
    medians = measure({"small": (small_db, small_client), "large": (large_db, large_client)}, reads)
    small = {name: medians[("small", name)] for name in reads}
    large = {name: medians[("large", name)] for name in reads}
    use(large_db)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM rehab_auditevent")
        rows = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM rehab_auditlisting")
        listings = cursor.fetchone()[0]
    explain(patient, clinic)
    print(
        f"database: {DB}; trails of {SMALL:,} and {rows:,} events ({listings:,} listing rows), "
        f"filled in {took_small:.1f} s and {took_large:.1f} s; {ROUNDS} rounds x {REQUESTS}"
    )
    print(f"{'read':<22}{'small ms':>10}{'large ms':>10}{'ratio':>8}")
    for name in reads:
        ratio = large[name] / small[name]
        print(f"{name:<22}{small[name]:>10.2f}{large[name]:>10.2f}{ratio:>8.2f}")
        record(
            name,
            value=ratio,
            goal=GOAL,
            unit="ratio",
            lower_is_better=True,
            db=DB,
            small_rows=SMALL,
            large_rows=rows,
            small_ms=round(small[name], 2),
            large_ms=round(large[name], 2),
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
