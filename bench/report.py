"""Bench: the 12-week PDF progress report against a one-page document in the same font (issue 13,
goal 4: at most 10x).

The baseline is what any PDF of ours costs at the least: one A4 page holding a table of 20 rows,
set in the report's own TrueType font (DejaVu, registered once per process by
`rehab.reports.register_fonts`, exactly as the report registers it) and embedded the same way.
The report is the 12-week clinician report of the report tests (`big_data`: 12 weeks of
calendar, 36 sessions in five charts, 10 level changes, 40 safety events).

Builds alternate (report, table, report, table...) so machine noise falls on both; the figure is
the ratio of the medians of 10 builds each (3 in a BENCH_QUICK run), in the process's CPU time:
both are single-threaded work in this process, and on a shared machine the wall clock also
counts the time other processes held the cores (the wall-clock ratio is kept in the detail).
No database rows are needed; the throw-away database is kept so every bench script runs the same
way.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import quick, record, throwaway_database

DB = throwaway_database("report")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rehab.settings")

import django  # noqa: E402

django.setup()

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle  # noqa: E402

from rehab import reports  # noqa: E402
from tests.reports.test_reports import big_data  # noqa: E402  (the report tests' 12-week report)

ROUNDS = quick(10, 3)


def one_page_table() -> bytes:
    """One A4 page, one table of 20 rows, in the report's font, with the report's page setup."""
    font, bold = reports.register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        invariant=True,
    )
    rows = [["Day", "Minutes", "Pain"]] + [[str(d), "10", "2"] for d in range(20)]
    style = TableStyle([("FONT", (0, 0), (-1, -1), font, 8), ("FONT", (0, 0), (-1, 0), bold, 8)])
    doc.build([Table(rows, style=style)])
    return buffer.getvalue()


def _timed(fn) -> tuple[float, float]:
    """(CPU ms, wall ms) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def main() -> None:
    data = big_data()
    # Warm both: the font files are read and parsed once per process, by whichever builds first.
    reports.build_report(data)
    one_page_table()
    report: list[tuple[float, float]] = []
    table: list[tuple[float, float]] = []
    for _ in range(ROUNDS):
        report.append(_timed(lambda: reports.build_report(data)))
        table.append(_timed(one_page_table))
    report_ms, table_ms = (statistics.median(cpu for cpu, _ in r) for r in (report, table))
    report_wall, table_wall = (statistics.median(wall for _, wall in r) for r in (report, table))
    record(
        "report.twelve_week",
        value=report_ms / table_ms,
        goal=10,
        unit="ratio",
        lower_is_better=True,
        db=DB,
        report_ms=round(report_ms, 2),
        one_page_ms=round(table_ms, 2),
        clock="process CPU time",
        wall_ratio=round(report_wall / table_wall, 2),
        report_wall_ms=round(report_wall, 2),
        one_page_wall_ms=round(table_wall, 2),
        rounds=ROUNDS,
    )
    print(
        f"report.twelve_week  12-week report {report_ms:.1f} ms / one-page table {table_ms:.1f} ms "
        f"(same font, CPU) = {report_ms / table_ms:.1f}x; wall clock "
        f"{report_wall / table_wall:.1f}x  (median of {ROUNDS}, alternating)"
    )


if __name__ == "__main__":
    main()
