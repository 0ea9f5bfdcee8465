"""`make bench`'s own parts, without running a bench: the figures file and its table
(bench/common.py) and the runner (bench/all.py) on tiny stand-in scripts. The real scripts take
minutes; they are run by `make bench`, not by the suite."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from bench import all as bench_all
from bench import common


@pytest.fixture
def results(tmp_path, monkeypatch):
    """results.json in the test's own folder, never the developer's var/bench/."""
    path = tmp_path / "results.json"
    monkeypatch.setattr(common, "RESULTS", path)
    return path


def test_record_merges_figures_into_results_json(results):
    common.reset()
    common.record(
        "api.session_post", value=0.61234, goal=0.5, unit="ratio", lower_is_better=False, db="x"
    )
    common.record("load.p95_ms_max", value=250, goal=200, unit="ms", lower_is_better=True, db="x")
    common.record("reminders.first", value=2.0, goal=3, unit="ratio", lower_is_better=True, db="x")
    common.record(
        "nightly.seconds", value=1, goal=None, unit="s", lower_is_better=True, db="x", plans=10
    )

    saved = json.loads(results.read_text())
    assert sorted(saved) == [
        "api.session_post",
        "load.p95_ms_max",
        "nightly.seconds",
        "reminders.first",
    ]
    assert saved["api.session_post"] == {
        "value": 0.612,
        "goal": 0.5,
        "unit": "ratio",
        "lower_is_better": False,
        "db": "x",
    }
    assert saved["nightly.seconds"]["detail"] == {"plans": 10}
    common.reset()
    assert common.load() == {}


def test_unknown_unit_is_refused(results):
    with pytest.raises(AssertionError):
        common.record("x", value=1, goal=1, unit="minutes", lower_is_better=True, db="x")


@pytest.mark.parametrize(
    ("value", "goal", "lower_is_better", "verdict"),
    [
        (0.6, 0.5, False, True),
        (0.5, 0.5, False, True),
        (0.4, 0.5, False, False),
        (150, 200, True, True),
        (250, 200, True, False),
        (1.0, None, True, None),
    ],
)
def test_meets(value, goal, lower_is_better, verdict):
    assert common.meets({"value": value, "goal": goal, "lower_is_better": lower_is_better}) is (
        verdict
    )


def test_table_says_ok_or_missed(results, capsys):
    common.reset()
    common.record("a.met", value=0.7, goal=0.5, unit="ratio", lower_is_better=False, db="sqlite")
    common.record("b.missed", value=250, goal=200, unit="ms", lower_is_better=True, db="sqlite")
    common.record("c.no_goal", value=3, goal=None, unit="s", lower_is_better=True, db="sqlite")
    common.print_table()

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["figure", "value", "goal", "unit", "db", "verdict"]
    assert lines[1].split() == ["a.met", "0.70", ">=", "0.5", "ratio", "sqlite", "ok"]
    assert lines[2].split() == ["b.missed", "250.00", "<=", "200", "ms", "sqlite", "MISSED"]
    assert lines[3].split() == ["c.no_goal", "3.00", "-", "s", "sqlite"]


def test_throwaway_database_on_sqlite(monkeypatch, tmp_path):
    # Whatever the call changes in the environment is put back after the test.
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "callers-var"))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///somewhere.sqlite3")

    assert common.throwaway_database("harness") == "sqlite"
    assert "DATABASE_URL" not in os.environ
    var_dir = os.environ["VAR_DIR"]
    assert var_dir != str(tmp_path / "callers-var")
    assert os.path.isdir(var_dir)
    assert "retrowalk-bench-harness-" in var_dir


def test_quick_and_free_port():
    assert common.quick(1000, 10) == (10 if common.QUICK else 1000)
    assert 0 < common.free_port() < 65536


def script(folder, name: str, body: str) -> None:
    (folder / name).write_text(textwrap.dedent(body))


def test_runner_runs_each_script_and_fails_on_a_failed_or_slow_one(results, tmp_path, capfd):
    script(tmp_path, "first.py", 'print("first speaks")\n')
    script(tmp_path, "broken.py", 'import sys\nprint("broken speaks")\nsys.exit(3)\n')
    script(tmp_path, "slow.py", "import time\ntime.sleep(60)\n")
    script(tmp_path, "last.py", 'print("last speaks")\n')
    results.write_text('{"stale.figure": {}}')  # a previous run's figures

    status = bench_all.main(
        [("first.py", 30), ("broken.py", 30), ("missing.py", 30), ("slow.py", 1), ("last.py", 30)],
        bench_dir=tmp_path,
        total_budget=120,
    )

    out = capfd.readouterr().out
    assert status == 1
    # Each script's own output is streamed, in order, and every script ran despite failures.
    assert out.index("first speaks") < out.index("broken speaks") < out.index("last speaks")
    assert "== broken.py: FAILED (exit status 3)" in out
    assert f"== skip {tmp_path / 'missing.py'}: not written yet (no such file)" in out
    assert "== slow.py: TIMED OUT after" in out
    summary = {line.split()[0]: line.split()[1] for line in out.splitlines() if ".py " in line}
    assert summary["first.py"] == "ok"
    assert summary["broken.py"] == "failed"
    assert summary["missing.py"] == "skipped"
    assert summary["slow.py"] == "timed"  # "timed out"
    assert summary["last.py"] == "ok"
    assert "total" in out
    assert f"results: {results}" in out
    assert "failed: broken.py, slow.py" in out
    assert common.load() == {}  # the run started from an empty results.json


def test_runner_a_missed_goal_is_not_a_failure(results, tmp_path, capfd, monkeypatch):
    # The stand-in writes the figure where this test put results.json (a real script records
    # through bench/common.py into var/bench/).
    monkeypatch.setenv("FAKE_RESULTS", str(results))
    script(
        tmp_path,
        "missed.py",
        """
        import json, os
        figure = {"value": 0.3, "goal": 0.5, "unit": "ratio", "lower_is_better": False,
                  "db": "sqlite"}
        with open(os.environ["FAKE_RESULTS"], "w") as f:
            json.dump({"fake.ratio": figure}, f)
        """,
    )

    status = bench_all.main([("missed.py", 30)], bench_dir=tmp_path, total_budget=60)

    out = capfd.readouterr().out
    assert status == 0
    assert "MISSED" in next(line for line in out.splitlines() if line.startswith("fake.ratio"))


def test_runner_stops_when_the_run_budget_is_spent(results, tmp_path, capfd):
    script(tmp_path, "slow.py", "import time\ntime.sleep(60)\n")
    script(tmp_path, "never.py", 'print("never speaks")\n')

    status = bench_all.main([("slow.py", 30), ("never.py", 30)], bench_dir=tmp_path, total_budget=1)

    out = capfd.readouterr().out
    assert status == 1
    assert "never speaks" not in out
    assert "== skip never.py: the run's 1 s are spent" in out


def test_the_real_run_fits_in_fifteen_minutes():
    assert sum(budget for _, budget in bench_all.SCRIPTS) <= bench_all.TOTAL_BUDGET == 15 * 60
    assert [name for name, _ in bench_all.SCRIPTS] == [
        "api.py",
        "reminders.py",
        "report.py",
        "nightly.py",
        "audit.py",
        "dashboard.py",
    ]
