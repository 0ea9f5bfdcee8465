"""Bench: the 12-week PDF progress report against a one-page document in the same font (issue 13,
goal 4: at most 10x).

The baseline is what any PDF of ours costs at the least: one A4 page holding a table of 20 rows,
set in the report's own TrueType font (DejaVu, registered once per process by
`rehab.reports.register_fonts`, exactly as the report registers it) and embedded the same way.
The report is the 12-week clinician report of the report tests (`big_data`: 12 weeks of
calendar, 36 sessions in five charts, 10 level changes, 40 safety events).

Builds alternate (report, table, report, table...) so machine noise falls on both; the figure is
the ratio of the medians of 10 builds each (3 in a BENCH_QUICK run). No database rows are needed;
the throw-away database is kept so every bench script runs the same way.
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


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    data = big_data()
    # Warm both: the font files are read and parsed once per process, by whichever builds first.
    reports.build_report(data)
    one_page_table()
    report_ms: list[float] = []
    table_ms: list[float] = []
    for _ in range(ROUNDS):
        report_ms.append(_timed(lambda: reports.build_report(data)))
        table_ms.append(_timed(one_page_table))
    report, table = statistics.median(report_ms), statistics.median(table_ms)
    record(
        "report.twelve_week",
        value=report / table,
        goal=10,
        unit="ratio",
        lower_is_better=True,
        db=DB,
        report_ms=round(report, 2),
        one_page_ms=round(table, 2),
        rounds=ROUNDS,
    )
    print(
        f"report.twelve_week  12-week report {report:.1f} ms / one-page table {table:.1f} ms "
        f"(same font) = {report / table:.1f}x  (median of {ROUNDS}, alternating)"
    )


if __name__ == "__main__":
    main()
