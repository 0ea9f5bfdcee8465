"""The report's sections (plan, adherence, charts, outcomes, safety...) as platypus flowables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from rehab.reports.charts import (
    Chart,
    chart_drawing,
    chart_text_alternative,
    effort_chart,
    format_date,
    minutes_speed_charts,
    next_morning_pain_chart,
    pain_chart,
)
from rehab.reports.data import CalendarDay, Reference, ReportData
from rehab.reports.layout import Paragraph, Styles, bullets, grid_table
from rehab.reports.pdfcharts import ChartFlowable
from rehab.reports.words import (
    birth_date_words,
    day_state_words,
    event_words,
    first_upper,
    format_number,
    format_percent,
    markup,
    measure_words,
    reason_words,
    record_number_words,
    status_words,
    subscale_words,
)
from rehab.wording import weekday_short

# Colour is a second cue only: every cell also carries the state in words.
_CALENDAR_COLOURS: dict[str, colors.Color] = {  # state -> background; its words: rehab.wording
    "done": colors.HexColor("#CCEBE3"),
    "missed": colors.HexColor("#F6D5BF"),
    "not_scheduled": colors.HexColor("#EEEEEE"),
    "paused": colors.HexColor("#DCE6F2"),
    "future": colors.white,
}


# Marks use ASCII on purpose: the bundled fallback font (Vera) has no star, arrow or triangle.


# --- sections ------------------------------------------------------------------------------------


def _header(data: ReportData, st: Styles) -> list[Flowable]:
    title = "Your progress report" if st.patient else "Progress report"
    period = f"{format_date(data.period_start)} to {format_date(data.period_end)}"
    facts = [
        ("Clinic", data.clinic_name),
        ("Patient" if not st.patient else "Name", data.patient_name),
        ("Record number", first_upper(record_number_words(data))),
        ("Date of birth", first_upper(birth_date_words(data))),
        ("Condition", data.condition),
        ("Clinician" if not st.patient else "Your physiotherapist", data.clinician_name),
        ("Period", period),
    ]
    rows = [
        [Paragraph(f"<b>{markup(label)}</b>", st.cell), Paragraph(markup(value), st.cell)]
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


def _plan(data: ReportData, st: Styles, width: float) -> list[Flowable]:
    patient = st.patient
    out: list[Flowable] = [Paragraph("Your plan" if patient else "Plan", st.h2)]
    status = markup(status_words(data.plan_status, patient=patient))
    if patient:
        out.append(
            Paragraph(
                f"Your programme is <b>{markup(data.protocol_name)}</b>. "
                f"It is: <b>{status}</b>. You are now at <b>{markup(data.current_level)}</b>.",
                st.body,
            )
        )
    else:
        out.append(
            Paragraph(
                f"<b>Protocol:</b> {markup(data.protocol_name)} &nbsp; <b>Status:</b> {status} "
                f"&nbsp; <b>Current level:</b> {markup(data.current_level)}",
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
            markup(format_date(c.day)),
            f"{markup(c.from_level)} to {markup(c.to_level)}",
            reason_words(c.reason, patient=patient),
        ]
        for c in changes
    ]
    header = ["Date", "Change", "Why"] if patient else ["Date", "From / to", "Reason"]
    widths = [0.17 * width, 0.28 * width, 0.55 * width]
    out.append(grid_table(header, rows, widths, st))
    return out


def _calendar_grid(calendar: Sequence[CalendarDay], st: Styles, width: float) -> Table:
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
            background = _CALENDAR_COLOURS[state]
            label = day_state_words(state, patient=st.patient)
            weight = "<b>" if state == "missed" else ""
            close = "</b>" if state == "missed" else ""
            row.append(f"{day.day} {weight}{label}{close}")
            backgrounds.append((offset + 1, len(rows) + 1, background))
        rows.append(row)
        monday += timedelta(days=7)
    first_col = 0.13 * width
    widths = [first_col] + [(width - first_col) / 7] * 7
    table = grid_table(
        ["Week of", *(weekday_short(d) for d in range(7))], rows, widths, st, cell=st.calendar
    )
    table.setStyle(TableStyle([("BACKGROUND", (c, r), (c, r), bg) for c, r, bg in backgrounds]))
    return table


def _adherence(data: ReportData, st: Styles, width: float) -> list[Flowable]:
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
    percent = None if data.adherence_percent is None else format_percent(data.adherence_percent)
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


def _charts(data: ReportData, st: Styles, width: float) -> list[Flowable]:
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
            ChartFlowable(drawing),
            Paragraph(markup(chart_text_alternative(chart)), st.small),
            Spacer(1, 6),
        ]
        # The heading travels with the first chart so it is never stranded at a page foot.
        out.append(KeepTogether([heading, *block] if index == 0 else block))
    return out


def _outcomes(data: ReportData, st: Styles, width: float) -> list[Flowable]:
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
            change = ("+" if delta > 0 else "") + format_number(delta, "")
        cells = [
            markup(measure_words(row.measure, patient=patient)),
            markup(subscale_words(row.subscale, patient=patient)),
            format_number(row.baseline, missing),
            format_number(row.current, missing),
        ]
        if not patient:
            cells.append(change)
        cells += [markup(row.threshold), result]
        rows.append(cells)
    if patient:
        header = ["Questionnaire", "Part", "At the start", "Now", "Change that matters", "Result"]
        fractions = (0.22, 0.14, 0.11, 0.09, 0.18, 0.26)
    else:
        header = ["Measure", "Subscale", "Baseline", "Current", "Change", "MCID", "Result"]
        fractions = (0.1, 0.17, 0.1, 0.1, 0.09, 0.2, 0.24)
    out.append(grid_table(header, rows, [f * width for f in fractions], st))
    legend = (
        "* marks a change big enough to matter to you; ! marks a change for the worse of that size."
        if patient
        else "* = improvement at or above the meaningful-change threshold (MCID); "
        "! = worsening of at least that size."
    )
    out.append(Spacer(1, 3))
    out.append(Paragraph(legend, st.small))
    return out


def _safety(data: ReportData, st: Styles, width: float) -> list[Flowable]:
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
        [format_date(e.day), markup(event_words(e.event, patient=patient)), markup(e.note)]
        for e in events
    ]
    header = ["Date", "What happened", "Note"] if patient else ["Date", "Event", "Note"]
    out.append(grid_table(header, rows, [0.17 * width, 0.23 * width, 0.6 * width], st))
    return out


def _screening(data: ReportData, st: Styles) -> list[Flowable]:
    patient = st.patient
    out: list[Flowable] = [
        Paragraph("Your health check" if patient else "Screening constraints", st.h2)
    ]
    if data.constraints:
        if patient:
            out.append(Paragraph("Your plan keeps to these limits:", st.body))
        out.append(bullets([markup(c) for c in data.constraints], st))
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
        out.append(Paragraph(f"{lead} {markup(data.override_reason)}", st.note))
    elif not patient:
        out.append(Paragraph("No override.", st.body))
    return out


def _clinical_notes(data: ReportData, st: Styles, width: float) -> list[Flowable]:
    """The period's clinical notes, oldest first; never in the patient's version."""
    if st.patient:
        return []
    out: list[Flowable] = [Paragraph("Clinical notes", st.h2)]
    if not data.clinical_notes:
        out.append(Paragraph("No clinical notes written in this period.", st.body))
        return out
    rows = [
        [format_date(n.day), markup(n.author or "Unknown"), markup(n.text)]
        for n in sorted(data.clinical_notes, key=lambda n: n.day)
    ]
    out.append(
        grid_table(["Date", "By", "Note"], rows, [0.17 * width, 0.2 * width, 0.63 * width], st)
    )
    return out


def _citations(data: ReportData, st: Styles) -> list[Flowable]:
    out: list[Flowable] = [
        Paragraph("Where this programme comes from" if st.patient else "References", st.h2)
    ]
    if not data.citations:
        out.append(Paragraph("No references listed for this protocol.", st.body))
        return out
    for number, citation in enumerate(data.citations, start=1):
        if isinstance(citation, str):
            citation = Reference(citation)
        text = f"{number}. {markup(citation.text.strip().rstrip('.'))}."
        if citation.supports.strip():
            lead = "What it tells us" if st.patient else "Supports"
            text += f" <i>{lead}:</i> {markup(citation.supports.strip())}"
        out.append(Paragraph(text, st.small))
    return out


def report_story(data: ReportData, st: Styles, width: float) -> list[Flowable]:
    """The report's sections in reading order, as flowables for a frame `width` wide."""
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
    return [flowable for section in sections for flowable in section()]
