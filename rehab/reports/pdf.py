"""The PDF progress report, built with reportlab platypus from plain dataclasses.

Pure: no ORM access, so a Celery task gathers `ReportData` and calls `build_report`. Two audiences
share one layout: the clinician version is dense; the patient version uses plain, kinder words
and a larger font. Neither shows a reason code: reasons come in the words the pages use
(rehab.wording). Every page names the patient with their record number and date of birth.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate

from rehab.reports.charts import format_date
from rehab.reports.data import AUDIENCES, CALENDAR_STATES, ReportData
from rehab.reports.fonts import FONT, register_fonts
from rehab.reports.layout import Styles, styles_for
from rehab.reports.sections import report_story
from rehab.reports.words import generated_words, identity

# reportlab's process-wide setting for every PDF written here. Compressed streams were also
# ASCII85-encoded by default, a 7-bit-safe form no channel of ours needs (files travel as bytes,
# or base64 in e-mail): encoding them in pure Python cost about a twentieth of a report's build,
# and the files are smaller without it. What a page shows is unchanged.
rl_config.useA85 = 0


# --- page furniture ------------------------------------------------------------------------------


def _numbered_canvas(data: ReportData, st: Styles) -> type[Canvas]:
    """A canvas that holds its pages until the end so each footer can say "Page N of M"."""
    footer_centre = f"Generated {generated_words(data.generated_at)}"
    # Every page carries who it is about: a page separated from the others is still filed
    # against the right patient.
    head_start = f"{'Your progress report' if st.patient else 'Progress report'} · "
    head_end = identity(data).removeprefix(data.patient_name)

    def fit(text: str, size: float, room: float) -> str:
        # Canvas strings do not wrap: shorten a long clinic or patient name instead of overlapping.
        if stringWidth(text, FONT, size) <= room:
            return text
        while text and stringWidth(text + "…", FONT, size) > room:
            text = text[:-1]
        return text + "…"

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab calls this at the end of every page
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._furniture(number, total)
                super().showPage()
            super().save()

        def _furniture(self, number: int, total: int) -> None:
            width, _ = self._pagesize
            size = st.footer_size
            left, right = 18 * mm, width - 18 * mm
            third = (right - left) / 3
            self.saveState()
            self.setFont(FONT, size)
            self.setFillColor(colors.HexColor("#444444"))
            self.setStrokeColor(colors.HexColor("#BBBBBB"))
            self.setLineWidth(0.4)
            y = 10 * mm
            self.line(left, y + size + 2, right, y + size + 2)
            self.drawString(left, y, fit(data.clinic_name, size, third - 6))
            self.drawCentredString((left + right) / 2, y, footer_centre)
            self.drawRightString(right, y, f"Page {number} of {total}")
            top = self._pagesize[1] - 11 * mm
            # A long name is shortened, never the record number or the date of birth.
            room = right - left - stringWidth(head_start + head_end, FONT, size)
            name = fit(data.patient_name, size, max(room, 20 * mm))
            self.drawString(left, top, fit(head_start + name + head_end, size, right - left))
            self.restoreState()

    return NumberedCanvas


# --- entry point ---------------------------------------------------------------------------------


def _check(data: ReportData) -> None:
    # Fail loudly on a programming error upstream rather than print a misleading report.
    if data.audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}; got {data.audience!r}.")
    if data.generated_at.tzinfo is None or data.generated_at.utcoffset() is None:
        raise ValueError("generated_at must be an aware datetime (the footer shows its zone).")
    unknown = sorted({d.state for d in data.calendar} - set(CALENDAR_STATES))
    if unknown:
        raise ValueError(f"Unknown calendar state(s) {unknown}; expected {CALENDAR_STATES}.")


def build_report(data: ReportData) -> bytes:
    """The progress report as PDF bytes (A4), for `data.audience`."""
    _check(data)
    register_fonts()
    st = styles_for(data.audience == "patient")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Progress report: {data.patient_name}",
        author=data.clinic_name,
        subject=f"{format_date(data.period_start)} to {format_date(data.period_end)}",
        creator="retrowalk",
        lang="en",
        # No timestamp or random document id: the same data gives the same bytes.
        invariant=True,
    )
    doc.build(report_story(data, st, doc.width), canvasmaker=_numbered_canvas(data, st))
    return buffer.getvalue()
