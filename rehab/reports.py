"""The PDF progress report, built with reportlab platypus from plain dataclasses.

Pure: no ORM access, so a Celery task gathers `ReportData` and calls `build_report`. Two audiences
share one layout: the clinician version is dense; the patient version uses plain, kinder words
and a larger font. Neither shows a reason code: reasons come in the words the pages use
(rehab.wording). Every page names the patient with their record number and date of birth.

Every piece of user text passes through `_text` (xml escape) before it reaches Paragraph markup:
a note such as "<b>pain & swelling</b>" must print literally and never break the document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from rehab.charts import (
    FONT,
    FONT_BOLD,
    Chart,
    SessionPoint,
    chart_drawing,
    chart_text_alternative,
    effort_chart,
    format_date,
    minutes_speed_charts,
    next_morning_pain_chart,
    pain_chart,
    register_fonts,
)
from rehab.clinical.outcomes import MEASURES
from rehab.clinical.progression import REASON_CODES
from rehab.wording import patient_reason

__all__ = (
    "AUDIENCES",
    "CALENDAR_STATES",
    "CalendarDay",
    "LevelChange",
    "OutcomeRow",
    "Reference",
    "ReportData",
    "ReportNote",
    "SafetyEvent",
    "build_report",
)

AUDIENCES = ("clinician", "patient")
CALENDAR_STATES = ("done", "missed", "not_scheduled", "paused", "future")


# --- data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelChange:
    day: date
    from_level: str
    to_level: str
    # In words (rehab.wording, as the pages say it); a string of bare reason codes
    # ("min_days; low_adherence") is put in words here too.
    reason: str


@dataclass(frozen=True)
class OutcomeRow:
    measure: str  # a measure code ("koos") or a display name
    subscale: str
    baseline: float | None
    current: float | None
    threshold: str  # the meaningful-change threshold in words
    meaningful: bool  # improved by at least the threshold
    worsened: bool  # worsened by at least the threshold


@dataclass(frozen=True)
class SafetyEvent:
    day: date
    event: str  # a code ("near_fall") or words
    note: str


@dataclass(frozen=True)
class CalendarDay:
    day: date
    state: str  # "done" | "missed" | "not_scheduled" | "paused" | "future"


@dataclass(frozen=True)
class ReportNote:
    day: date
    author: str  # "" when the author's account is gone
    text: str  # the clinician's words, as written


@dataclass(frozen=True)
class Reference:
    text: str  # the full reference
    supports: str = ""  # the claim of the protocol it supports


@dataclass(frozen=True)
class ReportData:
    audience: str  # "clinician" | "patient"
    clinic_name: str
    patient_name: str
    condition: str
    clinician_name: str
    period_start: date
    period_end: date
    generated_at: datetime  # aware
    protocol_name: str
    plan_status: str
    current_level: str
    constraints: tuple[str, ...]  # the screening's constraints in words
    override_reason: str  # "" when none
    level_changes: tuple[LevelChange, ...]
    adherence_percent: float | None
    calendar: tuple[CalendarDay, ...]
    sessions: tuple[SessionPoint, ...]
    outcomes: tuple[OutcomeRow, ...]
    safety_events: tuple[SafetyEvent, ...]
    citations: tuple[Reference | str, ...]  # the patient's protocol's only
    # Who the patient is on every page, beside the name: two people can share a name.
    record_number: str = ""  # the clinic's own record number ("" when it has none)
    date_of_birth: date | None = None
    # The clinician's version only (services leave it empty for the patient's).
    clinical_notes: tuple[ReportNote, ...] = ()
    # The adherence rule's counts (rehab.clinical.adherence): planned sessions done and due, and
    # the walks on rest days, which are done but not planned. None: counted from the calendar.
    planned_done: int | None = None
    planned_due: int | None = None
    rest_day_walks: int = 0


# --- words ---------------------------------------------------------------------------------------

_EVENTS: dict[str, tuple[str, str]] = {  # code -> (clinician, patient)
    "fall": ("Fall", "A fall"),
    "near_fall": ("Near fall", "A near fall"),
    "dizziness": ("Dizziness", "Feeling dizzy"),
    "chest_pain": ("Chest pain", "Chest pain"),
    "severe_pain": ("Severe pain", "Severe pain"),
    "swelling_more": ("Swelling more than usual", "More swelling than usual"),
}

_PLAN_STATUS: dict[str, tuple[str, str]] = {
    "active": ("Active", "Going ahead"),
    "paused": ("Paused", "Paused for now"),
    "completed": ("Completed", "Finished"),
    "discontinued": ("Discontinued", "Stopped"),
}

_SUBSCALES: dict[str, str] = {
    "total": "Total",
    "pain": "Pain",
    "symptoms": "Symptoms",
    "adl": "Daily living",
    "sport_rec": "Sport and recreation",
    "qol": "Quality of life",
}

# Colour is a second cue only: every cell also carries the state in words.
_CALENDAR_STYLE: dict[str, tuple[str, str, colors.Color]] = {  # state -> (clinician, patient, bg)
    "done": ("Done", "Done", colors.HexColor("#CCEBE3")),
    "missed": ("Missed", "Missed", colors.HexColor("#F6D5BF")),
    "not_scheduled": ("Rest", "Rest", colors.HexColor("#EEEEEE")),
    "paused": ("Paused", "Paused", colors.HexColor("#DCE6F2")),
    "future": ("To come", "To come", colors.white),
}

_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_SEPARATORS = re.compile(r"[\s,;|/]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _text(value: str) -> str:
    """User text made safe for Paragraph markup: escaped, line breaks kept, controls dropped."""
    # Control characters are not valid XML and would make the paragraph parser fail.
    cleaned = _CONTROL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    return escape(cleaned).replace("\n", "<br/>")


def _codes_only(reason: str) -> list[str] | None:
    """The reason's codes when it is nothing but known codes ("min_days; low_adherence")."""
    parts = [part for part in _SEPARATORS.split(reason.strip()) if part]
    if parts and all(part in REASON_CODES for part in parts):
        return parts
    return None


def _reason_words(reason: str, *, patient: bool) -> str:
    """A level change's reason in words, as escaped markup."""
    codes = _codes_only(reason)
    if codes is not None:
        # Bare codes are put in the pages' words (rehab.wording); no reader sees a code.
        if patient:
            return _text(patient_reason([{"code": c} for c in codes]))
        return " ".join(_text(REASON_CODES[c]) for c in codes)
    if not patient:
        return _text(reason)

    def plain(match: re.Match[str]) -> str:
        code = match.group(0)
        if code in REASON_CODES:
            return patient_reason([{"code": code}]).removeprefix("Because ").rstrip(".")
        return code.replace("_", " ")

    # Free text that quotes a code ("held: min_days") still must not show the code to a patient.
    return _text(_CODE.sub(plain, reason))


def _event_words(event: str, *, patient: bool) -> str:
    known = _EVENTS.get(event.strip())
    if known:
        return known[1] if patient else known[0]
    return _CODE.sub(lambda m: m.group(0).replace("_", " "), event) if patient else event


def _status_words(status: str, *, patient: bool) -> str:
    known = _PLAN_STATUS.get(status.strip().lower())
    if known:
        return known[1] if patient else known[0]
    return status.replace("_", " ") if patient else status


def _measure_words(measure: str, *, patient: bool) -> str:
    known = MEASURES.get(measure.strip().lower())
    if known is None:
        return measure
    return known.name if patient else known.code.upper()


def _number(value: float | None, missing: str) -> str:
    if value is None:
        return missing
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _percent(value: float) -> str:
    # Half-up, as people round: 62.5 % is "63 %", not banker's "62 %".
    whole = Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{whole} %"


def _record_number(data: ReportData) -> str:
    return data.record_number.strip() or "none recorded"


def _birth_date(data: ReportData) -> str:
    return format_date(data.date_of_birth) if data.date_of_birth else "not recorded"


def _first_upper(text: str) -> str:
    # str.capitalize would lower the rest: "RW-0042" must stay as the clinic wrote it.
    return text[:1].upper() + text[1:]


def _identity(data: ReportData) -> str:
    """The patient as a filed page names them: name, record number and date of birth."""
    return f"{data.patient_name} · Record no. {_record_number(data)} · Born {_birth_date(data)}"


def _generated(moment: datetime) -> str:
    zone = moment.tzname() or ""
    return f"{format_date(moment.date())} {moment:%H:%M} {zone}".rstrip()


# --- styles --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Styles:
    patient: bool
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    note: ParagraphStyle
    calendar: ParagraphStyle
    footer_size: float


def _styles(patient: bool) -> _Styles:
    # The patient version is larger: many readers are older and read it on paper.
    size = 12 if patient else 9
    leading = size * 1.35
    cell_size = 11 if patient else 8
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=size, leading=leading, spaceAfter=size * 0.4
    )
    return _Styles(
        patient=patient,
        body=body,
        small=ParagraphStyle(
            "small", parent=body, fontSize=size - 1.5, leading=(size - 1.5) * 1.3, spaceAfter=2
        ),
        cell=ParagraphStyle(
            "cell", parent=body, fontSize=cell_size, leading=cell_size * 1.25, spaceAfter=0
        ),
        cell_head=ParagraphStyle(
            "cell_head",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=cell_size,
            leading=cell_size * 1.25,
            spaceAfter=0,
        ),
        h1=ParagraphStyle(
            "h1", parent=body, fontName=FONT_BOLD, fontSize=size + 8, leading=(size + 8) * 1.2
        ),
        h2=ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=size + 3,
            leading=(size + 3) * 1.25,
            spaceBefore=size,
            spaceAfter=size * 0.4,
            keepWithNext=1,
            alignment=TA_LEFT,
        ),
        note=ParagraphStyle(
            "note",
            parent=body,
            backColor=colors.HexColor("#FFF4E5"),
            borderColor=colors.HexColor("#E69F00"),
            borderWidth=0.6,
            borderPadding=5,
            spaceBefore=10,  # clears the border padding, which is drawn outside the text box
            spaceAfter=8,
        ),
        # One size down in the week grid so "18 Missed" fits its cell at the patient's size.
        calendar=ParagraphStyle(
            "calendar",
            parent=body,
            fontSize=cell_size - 1 if patient else cell_size,
            leading=(cell_size - 1) * 1.25 if patient else cell_size * 1.25,
            spaceAfter=0,
        ),
        footer_size=9 if patient else 7.5,
    )


_TABLE_STYLE = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#BBBBBB")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF4")),
    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
]


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    st: _Styles,
    cell: ParagraphStyle | None = None,
) -> Table:
    """A table of markup strings that splits across pages and repeats its header row.

    Header and cells are already-escaped markup. splitInRow lets one very long note break inside
    its row instead of failing the whole build with a LayoutError.
    """
    data = [[Paragraph(cell, st.cell_head) for cell in header]]
    data += [[Paragraph(text, cell or st.cell) for text in row] for row in rows]
    return Table(
        data,
        colWidths=list(widths),
        repeatRows=1,
        splitInRow=1,
        style=TableStyle(_TABLE_STYLE),
        hAlign="LEFT",
    )


# Marks use ASCII on purpose: the bundled fallback font (Vera) has no star, arrow or triangle.

# --- page furniture ------------------------------------------------------------------------------


def _numbered_canvas(data: ReportData, st: _Styles) -> type[Canvas]:
    """A canvas that holds its pages until the end so each footer can say "Page N of M"."""
    footer_centre = f"Generated {_generated(data.generated_at)}"
    # Every page carries who it is about: a page separated from the others is still filed
    # against the right patient.
    head_start = f"{'Your progress report' if st.patient else 'Progress report'} · "
    head_end = _identity(data).removeprefix(data.patient_name)

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


# --- sections ------------------------------------------------------------------------------------


def _header(data: ReportData, st: _Styles) -> list[Flowable]:
    title = "Your progress report" if st.patient else "Progress report"
    period = f"{format_date(data.period_start)} to {format_date(data.period_end)}"
    facts = [
        ("Clinic", data.clinic_name),
        ("Patient" if not st.patient else "Name", data.patient_name),
        ("Record number", _first_upper(_record_number(data))),
        ("Date of birth", _first_upper(_birth_date(data))),
        ("Condition", data.condition),
        ("Clinician" if not st.patient else "Your physiotherapist", data.clinician_name),
        ("Period", period),
    ]
    rows = [
        [Paragraph(f"<b>{_text(label)}</b>", st.cell), Paragraph(_text(value), st.cell)]
        for label, value in facts
    ]
    table = Table(
        rows,
        colWidths=[48 * mm if st.patient else 30 * mm, None],
        hAlign="LEFT",
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LINEBELOW", (0, -1), (-1, -1), 0.6, colors.HexColor("#0072B2")),
            ]
        ),
    )
    return [Paragraph(title, st.h1), Spacer(1, 4), table, Spacer(1, 6)]


def _plan(data: ReportData, st: _Styles, width: float) -> list[Flowable]:
    patient = st.patient
    out: list[Flowable] = [Paragraph("Your plan" if patient else "Plan", st.h2)]
    status = _text(_status_words(data.plan_status, patient=patient))
    if patient:
        out.append(
            Paragraph(
                f"Your programme is <b>{_text(data.protocol_name)}</b>. "
                f"It is: <b>{status}</b>. You are now at <b>{_text(data.current_level)}</b>.",
                st.body,
            )
        )
    else:
        out.append(
            Paragraph(
                f"<b>Protocol:</b> {_text(data.protocol_name)} &nbsp; <b>Status:</b> {status} "
                f"&nbsp; <b>Current level:</b> {_text(data.current_level)}",
                st.body,
            )
        )
    out.append(Paragraph("Changes to your level" if patient else "Level changes", st.h2))
    if not data.level_changes:
        out.append(
            Paragraph(
                "Your level did not change in this period."
                if patient
                else "No level changes in this period.",
                st.body,
            )
        )
        return out
    changes = sorted(data.level_changes, key=lambda c: c.day)
    rows = [
        [
            _text(format_date(c.day)),
            f"{_text(c.from_level)} to {_text(c.to_level)}",
            _reason_words(c.reason, patient=patient),
        ]
        for c in changes
    ]
    header = ["Date", "Change", "Why"] if patient else ["Date", "From / to", "Reason"]
    widths = [0.17 * width, 0.28 * width, 0.55 * width]
    out.append(_table(header, rows, widths, st))
    return out


def _calendar_grid(calendar: Sequence[CalendarDay], st: _Styles, width: float) -> Table:
    by_day = {entry.day: entry.state for entry in calendar}
    first = min(by_day)
    last = max(by_day)
    monday = first - timedelta(days=first.weekday())
    rows: list[list[str]] = []
    backgrounds: list[tuple[int, int, colors.Color]] = []
    while monday <= last:
        row = [format_date(monday, year=False)]
        for offset in range(7):
            day = monday + timedelta(days=offset)
            state = by_day.get(day)
            if state is None:
                row.append("")  # outside the period
                continue
            clinician, patient, background = _CALENDAR_STYLE[state]
            label = patient if st.patient else clinician
            weight = "<b>" if state == "missed" else ""
            close = "</b>" if state == "missed" else ""
            row.append(f"{day.day} {weight}{label}{close}")
            backgrounds.append((offset + 1, len(rows) + 1, background))
        rows.append(row)
        monday += timedelta(days=7)
    first_col = 0.13 * width
    widths = [first_col] + [(width - first_col) / 7] * 7
    table = _table(["Week of", *_WEEKDAYS], rows, widths, st, cell=st.calendar)
    table.setStyle(TableStyle([("BACKGROUND", (c, r), (c, r), bg) for c, r, bg in backgrounds]))
    return table


def _adherence(data: ReportData, st: _Styles, width: float) -> list[Flowable]:
    patient = st.patient
    out: list[Flowable] = [
        Paragraph("How many sessions you did" if patient else "Adherence", st.h2)
    ]
    if data.planned_due is None or data.planned_done is None:
        done = sum(1 for d in data.calendar if d.state == "done")
        planned = done + sum(1 for d in data.calendar if d.state == "missed")
    else:
        done, planned = data.planned_done, data.planned_due
    missed = planned - done
    percent = None if data.adherence_percent is None else _percent(data.adherence_percent)
    if patient:
        if planned and percent:
            text = f"You did <b>{done} of {planned}</b> planned sessions (<b>{percent}</b>)."
        elif planned:
            text = f"You did <b>{done} of {planned}</b> planned sessions."
        elif percent:
            text = f"You did <b>{percent}</b> of your planned sessions."
        else:
            text = "No sessions were planned in this period yet."
        if data.rest_day_walks:
            text += (
                f" You also walked on {data.rest_day_walks} rest "
                f"day{'s' if data.rest_day_walks != 1 else ''}."
            )
    else:
        figure = percent if percent else "not available"
        text = f"<b>Adherence: {figure}</b>"
        if planned:
            text += f" ({done} of {planned} planned sessions done, {missed} missed)"
        text += "."
        if data.rest_day_walks:
            text += f" Sessions on rest days, not counted: {data.rest_day_walks}."
    out.append(Paragraph(text, st.body))
    if data.calendar:
        out.append(_calendar_grid(data.calendar, st, width))
        if patient:
            legend = (
                "<b>Done</b>: you did the session. <b>Missed</b>: a session was planned but not "
                "done. <b>Rest</b>: no session was planned. <b>Paused</b>: your plan was paused, "
                "nothing was expected. <b>To come</b>: not over yet. "
                "An empty box is a day outside your plan."
            )
        else:
            legend = (
                "Legend: <b>Done</b> = session logged; <b>Missed</b> = scheduled, not logged; "
                "<b>Rest</b> = not scheduled; <b>Paused</b> = plan paused, not counted; "
                "<b>To come</b> = today (not logged yet) or later. Blank = outside "
                "the period, before the plan started or after it ended."
            )
        out.append(Spacer(1, 3))
        out.append(Paragraph(legend, st.small))
    return out


def _charts(data: ReportData, st: _Styles, width: float) -> list[Flowable]:
    heading = Paragraph("Your sessions over time" if st.patient else "Sessions over time", st.h2)
    # Next-morning pain and effort drive progression as much as pain during the session does.
    charts: list[Chart] = [
        pain_chart(data.sessions),
        next_morning_pain_chart(data.sessions),
        effort_chart(data.sessions),
        *minutes_speed_charts(data.sessions),
    ]
    # The patient's charts are drawn smaller and scaled up, which enlarges their lettering too.
    scale = 1.2 if st.patient else 1.0
    out: list[Flowable] = []
    for index, chart in enumerate(charts):
        # Without sessions each chart only says so: a short frame wastes less paper.
        height = 165 if data.sessions else 80
        drawing = chart_drawing(chart, width=width / scale, height=height)
        drawing.renderScale = scale
        # The caption repeats the chart in words: the PDF is not tagged, so this is what a
        # screen reader (and a reader of a greyscale copy) can rely on.
        block: list[Flowable] = [
            drawing,
            Paragraph(_text(chart_text_alternative(chart)), st.small),
            Spacer(1, 6),
        ]
        # The heading travels with the first chart so it is never stranded at a page foot.
        out.append(KeepTogether([heading, *block] if index == 0 else block))
    return out


def _outcomes(data: ReportData, st: _Styles, width: float) -> list[Flowable]:
    patient = st.patient
    out: list[Flowable] = [
        Paragraph("Your questionnaires" if patient else "Outcome measures", st.h2)
    ]
    if not data.outcomes:
        out.append(
            Paragraph(
                "No questionnaires were filled in yet."
                if patient
                else "No outcome measures recorded.",
                st.body,
            )
        )
        return out
    missing = "not done" if patient else "—"
    rows = []
    for row in data.outcomes:
        if row.meaningful:
            result = "<b>* A real improvement</b>" if patient else "<b>* Meaningful improvement</b>"
        elif row.worsened:
            result = (
                "<b>! Worse: please talk to your physiotherapist</b>"
                if patient
                else "<b>! Meaningful worsening</b>"
            )
        elif row.baseline is None or row.current is None:
            result = "Cannot compare yet" if patient else "Not comparable"
        else:
            result = "About the same" if patient else "No meaningful change"
        change = ""
        if row.baseline is not None and row.current is not None:
            delta = row.current - row.baseline
            change = ("+" if delta > 0 else "") + _number(delta, "")
        cells = [
            _text(_measure_words(row.measure, patient=patient)),
            _text(_SUBSCALES.get(row.subscale, row.subscale)),
            _number(row.baseline, missing),
            _number(row.current, missing),
        ]
        if not patient:
            cells.append(change)
        cells += [_text(row.threshold), result]
        rows.append(cells)
    if patient:
        header = ["Questionnaire", "Part", "At the start", "Now", "Change that matters", "Result"]
        fractions = (0.22, 0.14, 0.11, 0.09, 0.18, 0.26)
    else:
        header = ["Measure", "Subscale", "Baseline", "Current", "Change", "MCID", "Result"]
        fractions = (0.1, 0.17, 0.1, 0.1, 0.09, 0.2, 0.24)
    out.append(_table(header, rows, [f * width for f in fractions], st))
    legend = (
        "* marks a change big enough to matter to you; ! marks a change for the worse of that size."
        if patient
        else "* = improvement at or above the meaningful-change threshold (MCID); "
        "! = worsening of at least that size."
    )
    out.append(Spacer(1, 3))
    out.append(Paragraph(legend, st.small))
    return out


def _safety(data: ReportData, st: _Styles, width: float) -> list[Flowable]:
    patient = st.patient
    out: list[Flowable] = [
        Paragraph("Things you told us about" if patient else "Safety events", st.h2)
    ]
    if not data.safety_events:
        out.append(
            Paragraph(
                "You did not report any falls, dizziness or other problems."
                if patient
                else "No safety events recorded in this period.",
                st.body,
            )
        )
        return out
    events = sorted(data.safety_events, key=lambda e: e.day)
    rows = [
        [format_date(e.day), _text(_event_words(e.event, patient=patient)), _text(e.note)]
        for e in events
    ]
    header = ["Date", "What happened", "Note"] if patient else ["Date", "Event", "Note"]
    out.append(_table(header, rows, [0.17 * width, 0.23 * width, 0.6 * width], st))
    return out


def _screening(data: ReportData, st: _Styles) -> list[Flowable]:
    patient = st.patient
    out: list[Flowable] = [
        Paragraph("Your health check" if patient else "Screening constraints", st.h2)
    ]
    if data.constraints:
        if patient:
            out.append(Paragraph("Your plan keeps to these limits:", st.body))
        out.append(_bullets([_text(c) for c in data.constraints], st))
    else:
        out.append(
            Paragraph(
                "Your health check set no special limits."
                if patient
                else "No constraints from the screening.",
                st.body,
            )
        )
    if data.override_reason.strip():
        lead = (
            "Your physiotherapist looked at your health check and decided the plan could go "
            "ahead, noting:"
            if patient
            else "<b>Screening override.</b> The plan was started despite the screening's "
            "block, with this reason:"
        )
        out.append(Paragraph(f"{lead} {_text(data.override_reason)}", st.note))
    elif not patient:
        out.append(Paragraph("No override.", st.body))
    return out


def _clinical_notes(data: ReportData, st: _Styles, width: float) -> list[Flowable]:
    """The period's clinical notes, oldest first; never in the patient's version."""
    if st.patient:
        return []
    out: list[Flowable] = [Paragraph("Clinical notes", st.h2)]
    if not data.clinical_notes:
        out.append(Paragraph("No clinical notes written in this period.", st.body))
        return out
    rows = [
        [format_date(n.day), _text(n.author or "Unknown"), _text(n.text)]
        for n in sorted(data.clinical_notes, key=lambda n: n.day)
    ]
    out.append(_table(["Date", "By", "Note"], rows, [0.17 * width, 0.2 * width, 0.63 * width], st))
    return out


def _bullets(items: Sequence[str], st: _Styles) -> ListFlowable:
    return ListFlowable(
        [ListItem(Paragraph(item, st.body), leftIndent=12) for item in items],
        bulletType="bullet",
        start="•",
        bulletFontName=FONT,
        bulletFontSize=st.body.fontSize,
        leftIndent=12,
    )


def _citations(data: ReportData, st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [
        Paragraph("Where this programme comes from" if st.patient else "References", st.h2)
    ]
    if not data.citations:
        out.append(Paragraph("No references listed for this protocol.", st.body))
        return out
    for number, citation in enumerate(data.citations, start=1):
        if isinstance(citation, str):
            citation = Reference(citation)
        text = f"{number}. {_text(citation.text.strip().rstrip('.'))}."
        if citation.supports.strip():
            lead = "What it tells us" if st.patient else "Supports"
            text += f" <i>{lead}:</i> {_text(citation.supports.strip())}"
        out.append(Paragraph(text, st.small))
    return out


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
    st = _styles(data.audience == "patient")
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
    width = doc.width
    sections: list[Callable[[], list[Flowable]]] = [
        lambda: _header(data, st),
        lambda: _plan(data, st, width),
        lambda: _adherence(data, st, width),
        lambda: _charts(data, st, width),
        lambda: _outcomes(data, st, width),
        lambda: _safety(data, st, width),
        lambda: _screening(data, st),
        lambda: _clinical_notes(data, st, width),
        lambda: _citations(data, st),
    ]
    story: list[Flowable] = [flowable for section in sections for flowable in section()]
    doc.build(story, canvasmaker=_numbered_canvas(data, st))
    return buffer.getvalue()
