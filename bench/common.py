"""What every `make bench` script shares: a throw-away database, a free port, and the figures
file var/bench/results.json.

Each script calls `throwaway_database("<its name>")` before `django.setup()`:

- a fresh temporary VAR_DIR (never var/ or the caller's), removed at exit;
- when DATABASE_URL is a PostgreSQL URL, a database of its own on that server
  (`<database>_bench_<name>`, dropped first if an aborted run left it, dropped again at exit),
  so a bench never writes into the database DATABASE_URL names; otherwise SQLite in VAR_DIR.

It then calls `record(...)` once per figure. `make bench` starts with `reset()` and ends with
`print_table()` (bench/all.py), so results.json holds exactly the figures of one run.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "bench" / "results.json"
# BENCH_QUICK=1: smaller worlds and fewer requests, the same figure names (for a quick look and
# for the suite's smoke test of the bench scripts); the figures of record come from a full run.
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")


def quick(full, small):
    """`small` in a BENCH_QUICK run, `full` otherwise."""
    return small if QUICK else full


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in ("postgres", "postgresql", "pgsql", "postgis")


def _admin_connect(url: str):
    """An autocommit connection to the server's `postgres` database (CREATE/DROP DATABASE)."""
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def throwaway_database(name: str) -> str:
    """Point this process (and every process it starts) at a database of its own; returns the
    vendor, "postgresql" or "sqlite". Call it before django.setup()."""
    tmp = tempfile.mkdtemp(prefix=f"retrowalk-bench-{name}-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    os.environ["VAR_DIR"] = tmp
    url = os.environ.get("DATABASE_URL", "")
    if not _is_postgres(url):
        os.environ.pop("DATABASE_URL", None)
        return "sqlite"
    parts = urlsplit(url)
    database = f"{parts.path.lstrip('/') or 'retrowalk'}_bench_{name}"
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')

    def drop() -> None:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django never set up, or already torn down
            pass
        with _admin_connect(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    atexit.register(drop)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{database}"))
    return "postgresql"


def free_port() -> int:
    """A port the operating system chose, free at the time of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_redis() -> str | None:
    """A redis-server of this process's own on an OS-chosen port (no persistence), stopped at
    exit: production's broker and cache, never the machine's shared one. None without the
    binary (the caller then stays on the embedded filesystem broker and local-memory cache)."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(process.terminate)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError("the private redis-server did not answer within 10 s")


def reset() -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("{}\n")


def load() -> dict:
    try:
        return json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {}


def record(
    name: str,
    *,
    value: float,
    goal: float | None,
    unit: str,
    lower_is_better: bool,
    db: str,
    **detail,
) -> None:
    """One figure of the run into results.json (merged with the figures already there). unit is
    "ratio", "ms" or "s"; detail (queries, rows, absolute times...) is kept beside it."""
    assert unit in ("ratio", "ms", "s"), unit
    results = load()
    results[name] = {
        "value": round(float(value), 3),
        "goal": goal,
        "unit": unit,
        "lower_is_better": lower_is_better,
        "db": db,
        **({"detail": detail} if detail else {}),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def meets(entry: dict) -> bool | None:
    goal = entry.get("goal")
    if goal is None:
        return None
    return entry["value"] <= goal if entry["lower_is_better"] else entry["value"] >= goal


def print_table(results: dict | None = None) -> None:
    results = load() if results is None else results
    print(f"{'figure':<34}{'value':>10}{'goal':>12}  {'unit':<6}{'db':<11}verdict")
    for name in sorted(results):
        entry = results[name]
        goal = entry.get("goal")
        sign = "<=" if entry["lower_is_better"] else ">="
        goal_text = "-" if goal is None else f"{sign} {goal:g}"
        verdict = {True: "ok", False: "MISSED", None: ""}[meets(entry)]
        print(
            f"{name:<34}{entry['value']:>10.2f}{goal_text:>12}  {entry['unit']:<6}"
            f"{entry['db']:<11}{verdict}"
        )
