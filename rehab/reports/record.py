"""The readable summary of a patient's whole record (summary.pdf of their data export).

Pure, as the progress report: the record comes in as plain words (rehab.selectors.patient_record
gathers them) and leaves as PDF bytes, with the report's fonts, styles and tables. Every value is
user text as far as this module knows, so each passes through `markup` (escaped) on its way in.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer

from rehab.reports.fonts import FONT, register_fonts
from rehab.reports.layout import Paragraph, grid_table, styles_for
from rehab.reports.words import generated_words, markup


@dataclass(frozen=True)
class RecordTable:
    """A section of the record: a heading, and its rows under a header (plain text)."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    # Each column's share of the page's width.
    widths: tuple[float, ...]
    empty: str = "None recorded."
    intro: str = ""


@dataclass(frozen=True)
class RecordSummary:
    patient_name: str
    clinic_name: str
    generated_at: datetime  # aware: the page says its zone
    details: list[tuple[str, str]]
    sections: list[RecordTable] = field(default_factory=list)


def _section(table: RecordTable, st, width: float) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(markup(table.title), st.h2)]
    if table.intro:
        story.append(Paragraph(markup(table.intro), st.small))
    if not table.rows:
        story.append(Paragraph(markup(table.empty), st.body))
        return story
    story.append(
        grid_table(
            [markup(name) for name in table.header],
            [[markup(value) for value in row] for row in table.rows],
            [share * width for share in table.widths],
            st,
        )
    )
    return story


def build_record_summary(data: RecordSummary) -> bytes:
    """The record as PDF bytes (A4): the patient's details, then each section's table."""
    if data.generated_at.tzinfo is None:
        raise ValueError("generated_at must be an aware datetime (the page shows its zone).")
    register_fonts()
    st = styles_for(False)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Patient record: {data.patient_name}",
        author=data.clinic_name,
        creator="retrowalk",
        lang="en",
        invariant=True,
    )
    width = doc.width
    story: list[Flowable] = [
        Paragraph(markup(f"Patient record: {data.patient_name}"), st.h1),
        Paragraph(
            markup(f"{data.clinic_name} · generated {generated_words(data.generated_at)}"),
            st.small,
        ),
        Spacer(1, 4 * mm),
        grid_table(
            ["Detail", "Recorded"],
            [[markup(name), markup(value)] for name, value in data.details],
            [0.3 * width, 0.7 * width],
            st,
        ),
    ]
    for table in data.sections:
        story.extend(_section(table, st, width))
    footer = f"Patient record · {data.patient_name} · {data.clinic_name}"

    def furniture(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, st.footer_size)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(18 * mm, 10 * mm, footer[:110])
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return buffer.getvalue()
