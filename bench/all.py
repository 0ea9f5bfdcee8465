"""`make bench`: every bench script, each in a process of its own, then the table of one run.

var/bench/results.json is emptied first (common.reset), then each script of SCRIPTS runs with
the caller's environment (DATABASE_URL: PostgreSQL when it names a PostgreSQL server, each
script in a throw-away database of its own; SQLite otherwise; BENCH_QUICK=1 for smaller runs
with the same figure names), its output streamed as it comes. Each script has a time budget:
one that runs past it is interrupted (SIGINT, so that its `finally` and atexit handlers stop
its servers and drop its database), then killed. The whole run is held to TOTAL_BUDGET (the
issue's 15 minutes on 2 cores): a script never gets more than what is left of it.

At the end: each script's outcome and wall time, the total, the table of figures (a goal
missed shows as MISSED), and the path of results.json. The exit status is non-zero when a
script failed or ran out of time, not when a goal was missed. A script not written yet is
skipped with a line saying so.

The load test (bench/load.py, `make bench-load`) is not part of this run: five minutes of it
would not fit in the budget.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

# In this order; seconds each may take on 2 cores (a full run, PostgreSQL; on a quiet machine
# they took 51, 56, 2, 347 to 400, 112 to 135 and 63 s; the whole run about 12 minutes). The
# budgets add up to TOTAL_BUDGET.
SCRIPTS: list[tuple[str, float]] = [
    ("api.py", 90),
    ("reminders.py", 90),
    ("report.py", 20),
    ("nightly.py", 420),
    ("audit.py", 170),
    ("dashboard.py", 110),
]
TOTAL_BUDGET = 15 * 60.0
# After SIGINT, how long a script has to stop its servers and drop its database; after
# SIGTERM, how long before SIGKILL.
GRACE_INTERRUPT, GRACE_TERMINATE = 20.0, 5.0


@dataclass
class Outcome:
    script: str
    status: str  # "ok", "failed", "timed out", "skipped"
    seconds: float = 0.0
    detail: str = ""

    @property
    def bad(self) -> bool:
        return self.status in ("failed", "timed out")


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(process.pid, sig)


def _stop(process: subprocess.Popen) -> None:
    """Interrupt the script's whole process group (its gunicorn, workers...), then kill it."""
    for sig, grace in ((signal.SIGINT, GRACE_INTERRUPT), (signal.SIGTERM, GRACE_TERMINATE)):
        _signal_group(process, sig)
        try:
            process.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    _signal_group(process, signal.SIGKILL)  # whatever of the group is still there
    process.wait()


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def run_script(path: Path, budget: float) -> Outcome:
    """Run one script with its output going straight to ours; at most `budget` seconds."""
    name = path.name
    if not path.exists():
        print(f"== skip {_shown(path)}: not written yet (no such file)", flush=True)
        return Outcome(name, "skipped", detail="no such file")
    print(f"== {_shown(path)} (budget {budget:.0f} s)", flush=True)
    started = time.monotonic()
    # A session of its own: on a timeout the signal reaches everything the script started.
    process = subprocess.Popen([sys.executable, str(path)], cwd=ROOT, start_new_session=True)
    try:
        returncode = process.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        _stop(process)
        seconds = time.monotonic() - started
        print(f"== {name}: TIMED OUT after {seconds:.1f} s (budget {budget:.0f} s)", flush=True)
        return Outcome(name, "timed out", seconds, f"budget {budget:.0f} s")
    except BaseException:  # Ctrl-C on make bench: stop the script too, then stop
        _stop(process)
        raise
    seconds = time.monotonic() - started
    if returncode != 0:
        print(f"== {name}: FAILED (exit status {returncode}) in {seconds:.1f} s", flush=True)
        return Outcome(name, "failed", seconds, f"exit status {returncode}")
    print(f"== {name}: ok in {seconds:.1f} s", flush=True)
    return Outcome(name, "ok", seconds)


def run_all(
    scripts: list[tuple[str, float]], *, bench_dir: Path, total_budget: float
) -> list[Outcome]:
    outcomes = []
    deadline = time.monotonic() + total_budget
    for name, budget in scripts:
        left = deadline - time.monotonic()
        if left <= 0:
            print(f"== skip {name}: the run's {total_budget:.0f} s are spent", flush=True)
            outcomes.append(Outcome(name, "timed out", detail="no time left in the run"))
            continue
        outcomes.append(run_script(bench_dir / name, min(budget, left)))
    return outcomes


def summary(outcomes: list[Outcome], total_seconds: float) -> None:
    print("\nscript            outcome     wall time")
    for outcome in outcomes:
        took = f"{outcome.seconds:8.1f} s" if outcome.status != "skipped" else "       -"
        detail = f"  ({outcome.detail})" if outcome.detail else ""
        print(f"{outcome.script:<18}{outcome.status:<12}{took}{detail}")
    print(f"{'total':<30}{total_seconds:8.1f} s\n")


def database_line() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if common._is_postgres(url):
        return "PostgreSQL (each script in a throw-away database on DATABASE_URL's server)"
    return "SQLite (set DATABASE_URL to a PostgreSQL URL for the figures of record)"


def main(
    scripts: list[tuple[str, float]] | None = None,
    *,
    bench_dir: Path | None = None,
    total_budget: float = TOTAL_BUDGET,
) -> int:
    common.reset()
    print(
        f"make bench: {database_line()}; {'BENCH_QUICK' if common.QUICK else 'full'} run",
        flush=True,
    )
    started = time.monotonic()
    outcomes = run_all(
        SCRIPTS if scripts is None else scripts,
        bench_dir=bench_dir or ROOT / "bench",
        total_budget=total_budget,
    )
    summary(outcomes, time.monotonic() - started)
    common.print_table()
    print(f"\nresults: {common.RESULTS}")
    bad = [outcome.script for outcome in outcomes if outcome.bad]
    if bad:
        print(f"failed: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
