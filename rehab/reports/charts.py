"""Progress charts: one builder whose `Drawing` goes into the PDF report and, as SVG, into pages.

Pure: it takes plain dataclasses (no ORM), so a Celery task or a view can feed it. The chart is
drawn with reportlab shapes rather than `LinePlot` because we need gaps (a day without a value
breaks the line), a lone point that is still visible, and date ticks we choose ourselves.

Colour is never the only cue: each series also has its own marker shape and dash pattern, and the
legend names it, so the chart reads in greyscale and for colour-blind readers.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import (
    FILL_NON_ZERO,
    Drawing,
    Group,
    Line,
    Path,
    PolyLine,
    Rect,
    String,
)
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.pdfgeom import bezierArc

from rehab.reports.fonts import FONT, FONT_BOLD, register_fonts

__all__ = (
    "FONT",
    "FONT_BOLD",
    "PALETTE",
    "Chart",
    "Series",
    "SessionPoint",
    "chart_drawing",
    "chart_svg",
    "chart_text_alternative",
    "effort_chart",
    "format_date",
    "minutes_speed_charts",
    "next_morning_pain_chart",
    "pain_chart",
    "register_fonts",
)

# --- fonts ---------------------------------------------------------------------------------------

# The report's fonts live in rehab.reports.fonts; FONT, FONT_BOLD and register_fonts are exported
# from here too, where the report's modules and the pages found them first.

# SVG text is drawn by the browser, which knows nothing of the embedded TTF: name real families.
_SVG_FONT_HACKS = {
    FONT: {"family": "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, Arial, sans-serif"},
    FONT_BOLD: {
        "family": "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, Arial, sans-serif",
        "weight": "bold",
    },
}


# --- data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[date, float | None], ...]  # None = no value that day (a gap in the line)


@dataclass(frozen=True)
class Chart:
    title: str
    y_label: str
    series: tuple[Series, ...]
    y_min: float = 0
    y_max: float | None = None  # None: from the data


@dataclass(frozen=True)
class SessionPoint:
    day: date
    minutes: int
    speed_kmh: float | None
    pain_before: int
    pain_worst: int
    pain_after: int
    pain_next_morning: int | None = None  # None until the patient gives it (a gap)
    effort: int | None = None  # Borg CR10, 0-10


# Okabe-Ito: distinguishable with the common colour-vision deficiencies. Yellow is left out
# because it is unreadable on white paper.
PALETTE = (
    colors.HexColor("#0072B2"),  # blue
    colors.HexColor("#D55E00"),  # vermillion
    colors.HexColor("#009E73"),  # bluish green
    colors.HexColor("#CC79A7"),  # reddish purple
    colors.HexColor("#E69F00"),  # orange
    colors.HexColor("#56B4E9"),  # sky blue
    colors.HexColor("#000000"),  # black
)
_MARKERS = ("circle", "triangle", "square", "diamond")
_DASHES: tuple[tuple[float, ...] | None, ...] = (None, (4, 2), (1, 2), (6, 2, 1, 2))

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_GRID = colors.HexColor("#D9D9D9")
_INK = colors.HexColor("#222222")
_MUTED = colors.HexColor("#555555")


def format_date(day: date, *, year: bool = True) -> str:
    """'2 Mar 2026': built by hand because strftime's month names follow the process locale."""
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def _format_value(value: float) -> str:
    # Scores are whole numbers and speeds have one decimal; "5.0" would look like false precision.
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _valued(series: Series) -> list[tuple[date, float]]:
    return [(day, value) for day, value in series.points if value is not None]


def _all_days(chart: Chart) -> list[date]:
    return sorted({day for s in chart.series for day, _ in s.points})


# --- text alternative ----------------------------------------------------------------------------


def _date_range(first: date, last: date) -> str:
    if first == last:
        return f"on {format_date(first)}"
    if first.year == last.year:
        return f"from {format_date(first, year=False)} to {format_date(last)}"
    return f"from {format_date(first)} to {format_date(last)}"


def _heading(chart: Chart) -> str:
    # "Pain (0-10)" already says its unit; repeating it as "Pain (0-10) (Pain (0-10))" reads badly.
    if not chart.y_label or chart.y_label.lower() in chart.title.lower():
        return chart.title
    return f"{chart.title} ({chart.y_label})"


def chart_text_alternative(chart: Chart) -> str:
    """The chart in plain words for screen readers: date range, then each series' course."""
    days = _all_days(chart)
    if not days:
        return f"{_heading(chart)}: no sessions yet."
    parts = [f"{_heading(chart)} {_date_range(days[0], days[-1])}."]
    for series in chart.series:
        values = _valued(series)
        gaps = len(series.points) - len(values)
        if not values:
            parts.append(f"{series.name}: no values recorded.")
            continue
        first, last = values[0][1], values[-1][1]
        low = min(v for _, v in values)
        high = max(v for _, v in values)
        if len(values) == 1:
            text = f"{series.name}: one value, {_format_value(first)}"
        else:
            text = (
                f"{series.name}: from {_format_value(first)} to {_format_value(last)}, "
                f"lowest {_format_value(low)}, highest {_format_value(high)}"
            )
        if gaps:
            text += f"; {gaps} day{'s' if gaps != 1 else ''} without a value"
        parts.append(text + ".")
    return " ".join(parts)


# --- scales --------------------------------------------------------------------------------------


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / max(target_ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _y_scale(chart: Chart) -> tuple[float, float, float]:
    """(low, high, step). The range is widened to the data so no value is ever drawn off-chart."""
    values = [v for s in chart.series for _, v in _valued(s)]
    low = min([chart.y_min, *values])
    data_high = max(values, default=low)
    if chart.y_max is not None and chart.y_max >= data_high and chart.y_max > low:
        # A fixed scale (pain 0-10) keeps charts of different patients comparable.
        return low, chart.y_max, _nice_step(chart.y_max - low)
    high = max(data_high, low + 1)  # all values on the floor (e.g. all zero): keep an axis
    step = _nice_step(high - low)
    return low, math.ceil((high - low) / step) * step + low, step


def _x_ticks(first: date, last: date, slots: int) -> list[date]:
    span = (last - first).days
    if span <= 0:
        return [first]
    step = max(1, math.ceil(span / max(slots - 1, 1)))
    # Whole weeks read better on a weekly plan once the labels cannot be daily; but not when a
    # narrow chart (the portal's, on a phone) has room for two labels only: rounding 39 days up
    # to 42 left it a single date under the axis.
    if step > 3 and math.ceil(step / 7) * 7 <= span:
        step = math.ceil(step / 7) * 7
    ticks = [first + timedelta(days=d) for d in range(0, span + 1, step)]
    return ticks


# --- drawing -------------------------------------------------------------------------------------


# The four curves reportlab draws a Circle of radius 1 with, worked out once.
_UNIT_CIRCLE = tuple(bezierArc(-1.0, -1.0, 1.0, 1.0, 0, 360))


def _markers(
    kind: str, centres: Sequence[tuple[float, float]], colour: colors.Color, size: float = 3.2
) -> Path:
    """All of a series' markers as one path: one shape to draw instead of two per point (a
    12-week report has about 300), which was most of the time spent drawing its charts."""
    path = Path(
        fillColor=colour,
        strokeColor=colors.white,
        strokeWidth=0.6,
        # Every outline runs anticlockwise, so markers that touch fill as one (even-odd would
        # punch a hole where two overlap).
        fillMode=FILL_NON_ZERO,
    )
    for x, y in centres:
        if kind == "circle":
            path.moveTo(x + size, y)
            for _, _, x1, y1, x2, y2, x3, y3 in _UNIT_CIRCLE:
                path.curveTo(
                    x + size * x1,
                    y + size * y1,
                    x + size * x2,
                    y + size * y2,
                    x + size * x3,
                    y + size * y3,
                )
        else:
            if kind == "square":
                corners = [x - size, y - size, x + size, y - size, x + size, y + size]
                corners += [x - size, y + size]
            elif kind == "triangle":
                corners = [x - size, y - size, x + size, y - size, x, y + size * 1.2]
            else:
                corners = [x, y - size * 1.3, x + size, y, x, y + size * 1.3, x - size, y]
            path.moveTo(corners[0], corners[1])
            for i in range(2, len(corners), 2):
                path.lineTo(corners[i], corners[i + 1])
        path.closePath()
    return path


def _segments(lines: Sequence[tuple[float, float, float, float]], **style) -> Path:
    """Straight lines of one style as one path (grid lines, ticks): one shape to draw."""
    path = Path(fillColor=None, **style)
    for x1, y1, x2, y2 in lines:
        path.moveTo(x1, y1)
        path.lineTo(x2, y2)
    return path


def _style(index: int) -> tuple[colors.Color, str, tuple[float, ...] | None]:
    return (
        PALETTE[index % len(PALETTE)],
        _MARKERS[index % len(_MARKERS)],
        _DASHES[index % len(_DASHES)],
    )


def _legend(chart: Chart, x0: float, y: float, right: float, size: float) -> tuple[Group, float]:
    """Lay the legend out in rows from (x0, y); return the y below the last row."""
    items: list[tuple[float, Group]] = []
    for index, series in enumerate(chart.series):
        colour, marker, dash = _style(index)
        group = Group()
        group.add(Line(0, 3, 20, 3, strokeColor=colour, strokeWidth=1.6, strokeDashArray=dash))
        group.add(_markers(marker, [(10, 3)], colour))
        group.add(String(24, 0, series.name, fontName=FONT, fontSize=size, fillColor=_INK))
        items.append((24 + pdfmetrics.stringWidth(series.name, FONT, size) + 14, group))
    x = x0
    rows = Group()
    for item_width, group in items:
        if x > x0 and x + item_width > right:
            x, y = x0, y - (size + 6)
        group.translate(x, y)
        rows.add(group)
        x += item_width
    return rows, y


# The labels' size in drawing units; the PDF and the dashboard draw at about one unit a point.
TEXT_SIZE = 7.5


def chart_drawing(
    chart: Chart, width: float = 480, height: float = 200, *, text_size: float = TEXT_SIZE
) -> Drawing:
    """The chart as a reportlab Drawing: a flowable in the PDF and the source of `chart_svg`.

    `text_size` sets the labels' size; the margins, the legend's rows and the spacing of the
    date ticks grow with it, so larger text (the portal's, readable on a phone where a narrow
    drawing is scaled to the screen) never overlaps.
    """
    register_fonts()
    drawing = Drawing(width, height)
    k = text_size / TEXT_SIZE
    title_size = 10 * k
    drawing.add(
        String(4, height - title_size - 2, chart.title, fontName=FONT_BOLD, fontSize=title_size)
    )

    days = _all_days(chart)
    has_values = any(_valued(s) for s in chart.series)
    left, right, bottom = 44.0 * k, width - 12, 30.0 * k
    if not days or not has_values:
        top = height - title_size - 12
        drawing.add(
            Rect(left, bottom, right - left, top - bottom, fillColor=None, strokeColor=_GRID)
        )
        message = "No sessions yet" if not days else "No values recorded yet"
        drawing.add(
            String(
                (left + right) / 2,
                (top + bottom) / 2 - 4,
                message,
                fontName=FONT,
                fontSize=11 * k,
                fillColor=_MUTED,
                textAnchor="middle",
            )
        )
        return drawing

    legend, legend_y = _legend(chart, left, height - title_size - 18 * k, right, text_size)
    drawing.add(legend)
    top = legend_y - 10 * k

    # x: a single day is padded a day each side so its point sits mid-chart, not on the axis.
    first, last = days[0], days[-1]
    x_first, x_last = first, last
    if first == last:
        x_first, x_last = first - timedelta(days=1), last + timedelta(days=1)
    span = (x_last - x_first).days
    inner_left, inner_right = left + 8, right - 8  # keep edge markers off the axis line

    def x_of(day: date) -> float:
        return inner_left + (day - x_first).days / span * (inner_right - inner_left)

    low, high, step = _y_scale(chart)

    def y_of(value: float) -> float:
        return bottom + (value - low) / (high - low) * (top - bottom)

    # Grid and y ticks.
    tick = low
    grid: list[tuple[float, float, float, float]] = []
    while tick <= high + step / 1000:
        y = y_of(tick)
        grid.append((left, y, right, y))
        drawing.add(
            String(
                left - 4,
                y - text_size / 3,
                _format_value(round(tick, 6)),
                fontName=FONT,
                fontSize=text_size,
                fillColor=_MUTED,
                textAnchor="end",
            )
        )
        tick += step
    drawing.add(_segments(grid, strokeColor=_GRID, strokeWidth=0.5))
    y_label = String(0, 0, chart.y_label, fontName=FONT, fontSize=text_size, fillColor=_MUTED)
    y_label.textAnchor = "middle"
    label_group = Group(y_label)
    label_group.rotate(90)
    label_group.translate((bottom + top) / 2, -10 * k)  # rotated frame: x is up, y is leftwards
    drawing.add(label_group)

    # x axis with date ticks; the year is shown on the first tick and whenever it changes.
    drawing.add(Line(left, bottom, right, bottom, strokeColor=_MUTED, strokeWidth=0.8))
    drawing.add(Line(left, bottom, left, top, strokeColor=_MUTED, strokeWidth=0.8))
    slots = max(2, int((inner_right - inner_left) // (58 * k)) + 1)
    previous_year = None
    ticks: list[tuple[float, float, float, float]] = []
    for day in _x_ticks(first, last, slots):
        x = x_of(day)
        ticks.append((x, bottom, x, bottom - 3))
        label = format_date(day, year=day.year != previous_year)
        previous_year = day.year
        drawing.add(
            String(
                x,
                bottom - 12 * k,
                label,
                fontName=FONT,
                fontSize=text_size,
                fillColor=_MUTED,
                textAnchor="middle",
            )
        )
    drawing.add(_segments(ticks, strokeColor=_MUTED, strokeWidth=0.6))

    # Series: a None value ends the current segment, so gaps stay visible as breaks.
    for index, series in enumerate(chart.series):
        colour, marker, dash = _style(index)
        segments: list[list[float]] = [[]]
        for day, value in sorted(series.points, key=lambda point: point[0]):
            if value is None:
                segments.append([])
            else:
                segments[-1].extend((x_of(day), y_of(value)))
        for segment in segments:
            if len(segment) >= 4:
                drawing.add(
                    PolyLine(segment, strokeColor=colour, strokeWidth=1.6, strokeDashArray=dash)
                )
        centres = [(x_of(day), y_of(value)) for day, value in _valued(series)]
        if centres:
            drawing.add(_markers(marker, centres, colour))
    return drawing


def chart_svg(
    chart: Chart, width: float = 480, height: float = 200, *, text_size: float = TEXT_SIZE
) -> str:
    """An accessible inline SVG: role="img", <title> and <desc> (the text alternative), no script.

    Returned without XML declaration or DOCTYPE so it can be dropped straight into an HTML page.
    """
    drawing = chart_drawing(chart, width, height, text_size=text_size)
    description = chart_text_alternative(chart)
    # Ids must be unique within an HTML page that shows several charts; derive them from the
    # content so the output stays deterministic (cache- and snapshot-friendly).
    uid = (
        "chart-"
        + hashlib.sha1(
            f"{chart!r}|{width}|{height}{_size_key(text_size)}".encode(), usedforsecurity=False
        ).hexdigest()[:10]
    )
    canvas = renderSVG.SVGCanvas(
        (drawing.width, drawing.height),
        # A clip attribute instead of a <clipPath id="clip"> def: that id would clash between
        # charts on the same page.
        useClip=True,
        fontHacks=_SVG_FONT_HACKS,
        svgAttrs={
            "role": "img",
            "aria-labelledby": f"{uid}-title {uid}-desc",
            "focusable": "false",
        },
    )
    renderSVG.draw(drawing, canvas, 0, 0, showBoundary=False)
    # SVGCanvas always starts the document with placeholder <title> and <desc> ("..."); fill them.
    # minidom text nodes escape &, < and > on output, so user text cannot inject markup.
    svg = canvas.svg
    for tag, text in (("title", chart.title), ("desc", description)):
        element = svg.getElementsByTagName(tag)[0]
        element.setAttribute("id", f"{uid}-{tag}")
        element.firstChild.data = text
    for group in svg.getElementsByTagName("g"):
        if group.getAttribute("id") == "group":
            group.setAttribute("id", f"{uid}-plot")
            # `clip` is not an SVG attribute on <g>; everything is drawn inside the viewBox anyway.
            group.removeAttribute("clip")
    _styles_to_attributes(svg)
    out = io.StringIO()
    svg.writexml(out, addindent="", newl="\n")
    return out.getvalue()


def _size_key(text_size: float) -> str:
    # The default size adds nothing, so the dashboard's chart ids stay what they were.
    return "" if text_size == TEXT_SIZE else f"|{text_size}"


def _styles_to_attributes(svg) -> None:
    """renderSVG writes each shape's paint as style="stroke: ...; fill: ...". The pages'
    Content-Security-Policy allows no inline style, so a browser would drop all of it and draw
    black shapes; the same declarations as SVG presentation attributes are markup, not style,
    and draw the same chart."""
    for element in [svg, *svg.getElementsByTagName("*")]:
        if not element.hasAttribute("style"):
            continue
        for declaration in element.getAttribute("style").split(";"):
            name, _, value = declaration.partition(":")
            if name.strip() and value.strip():
                element.setAttribute(name.strip(), value.strip().replace("None", "none"))
        element.removeAttribute("style")


# --- convenience builders ------------------------------------------------------------------------


def _sorted(sessions: Sequence[SessionPoint]) -> list[SessionPoint]:
    return sorted(sessions, key=lambda s: s.day)


def pain_chart(sessions: Sequence[SessionPoint]) -> Chart:
    """Pain before, worst during and after each session, on the fixed 0-10 scale."""
    ordered = _sorted(sessions)
    return Chart(
        title="Pain (0-10)",
        y_label="Pain (0-10)",
        series=(
            Series("Before", tuple((s.day, float(s.pain_before)) for s in ordered)),
            Series("Worst during", tuple((s.day, float(s.pain_worst)) for s in ordered)),
            Series("After", tuple((s.day, float(s.pain_after)) for s in ordered)),
        ),
        y_min=0,
        y_max=10,
    )


def minutes_speed_charts(sessions: Sequence[SessionPoint]) -> tuple[Chart, Chart]:
    """Minutes walked and treadmill speed per session; a session without speed leaves a gap."""
    ordered = _sorted(sessions)
    minutes = Chart(
        title="Minutes walked backwards",
        y_label="Minutes",
        series=(Series("Minutes", tuple((s.day, float(s.minutes)) for s in ordered)),),
    )
    speed = Chart(
        title="Speed (km/h)",
        y_label="km/h",
        series=(
            Series(
                "Speed",
                tuple(
                    (s.day, None if s.speed_kmh is None else float(s.speed_kmh)) for s in ordered
                ),
            ),
        ),
    )
    return minutes, speed


def next_morning_pain_chart(sessions: Sequence[SessionPoint]) -> Chart:
    """Pain the morning after each session beside the pain before it, on the fixed 0-10 scale:
    progression steps back when the morning is above the session's start (not settled)."""
    ordered = _sorted(sessions)
    return Chart(
        title="Next-morning pain (0-10)",
        y_label="Pain (0-10)",
        series=(
            Series("Before the session", tuple((s.day, float(s.pain_before)) for s in ordered)),
            Series(
                "Next morning",
                tuple(
                    (s.day, None if s.pain_next_morning is None else float(s.pain_next_morning))
                    for s in ordered
                ),
            ),
        ),
        y_min=0,
        y_max=10,
    )


def effort_chart(sessions: Sequence[SessionPoint]) -> Chart:
    """Effort (Borg CR10) of each session on the fixed 0-10 scale: progression holds or steps
    back on high effort."""
    ordered = _sorted(sessions)
    return Chart(
        title="Effort (0-10)",
        y_label="Effort (0-10)",
        series=(
            Series(
                "Effort (Borg CR10)",
                tuple((s.day, None if s.effort is None else float(s.effort)) for s in ordered),
            ),
        ),
        y_min=0,
        y_max=10,
    )
