"""rehab.reports.charts: one chart builder drawn to the PDF and to accessible SVG."""

import itertools
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from reportlab.graphics.shapes import Drawing, PolyLine, String

from rehab.reports.charts import (
    PALETTE,
    Chart,
    Series,
    SessionPoint,
    chart_drawing,
    chart_svg,
    chart_text_alternative,
    minutes_speed_charts,
    pain_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
START = date(2026, 3, 2)


def sessions(count: int = 12) -> list[SessionPoint]:
    return [
        SessionPoint(
            day=START + timedelta(days=2 * i + i // 3),
            minutes=10 + i,
            speed_kmh=None if i % 5 == 3 else round(2.0 + 0.1 * i, 1),
            pain_before=3 - i % 3,
            pain_worst=5 - i % 4,
            pain_after=2,
        )
        for i in range(count)
    ]


def strings(drawing: Drawing) -> list[str]:
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, String):
            found.append(node.text)
        for child in getattr(node, "contents", []):
            walk(child)

    walk(drawing)
    return found


def test_svg_is_well_formed_accessible_and_script_free():
    svg = chart_svg(pain_chart(sessions()))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert title.text == "Pain (0-10)"
    assert desc is not None
    assert desc.text == chart_text_alternative(pain_chart(sessions()))
    # The accessible name points at the title and description by id.
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert root.find(f".//{SVG}script") is None
    assert "<script" not in svg.lower()
    assert not any(name.lower().startswith("on") for el in root.iter() for name in el.attrib)


def test_svg_paints_with_attributes_that_the_pages_policy_allows():
    """The pages' Content-Security-Policy drops every style="" attribute: the lines' colours
    and dashes must be SVG attributes, or the chart draws as black lines a browser cannot tell
    apart."""
    root = ET.fromstring(chart_svg(pain_chart(sessions())))
    assert not [el.tag for el in root.iter() if "style" in el.attrib]
    lines = [el for el in root.iter(f"{SVG}polyline") if el.get("stroke-width") == "1.6"]
    assert len({line.get("stroke") for line in lines}) == 3
    assert {line.get("fill") for line in lines} == {"none"}
    assert any(line.get("stroke-dasharray") for line in lines)
    labels = list(root.iter(f"{SVG}text"))
    assert labels
    assert all("DejaVu Sans" in label.get("font-family") for label in labels)


def test_svg_can_be_inlined_in_html_without_prolog_or_clashing_ids():
    svg = chart_svg(pain_chart(sessions()))
    other = chart_svg(minutes_speed_charts(sessions())[0])
    assert svg.startswith("<svg")
    ids = [el.get("id") for el in ET.fromstring(svg).iter() if el.get("id")]
    other_ids = [el.get("id") for el in ET.fromstring(other).iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert not set(ids) & set(other_ids)


def test_svg_escapes_user_text_in_title_desc_and_labels():
    chart = Chart(
        title="<script>alert(1)</script> & <b>pain</b>",
        y_label="a & b",
        series=(Series("<b>Before</b> & after", ((START, 2.0), (START + timedelta(1), 3.0))),),
    )
    svg = chart_svg(chart)
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == chart.title
    assert "<script" not in svg
    assert root.find(f".//{SVG}script") is None
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert "<b>Before</b> & after" in texts


def test_text_alternative_mentions_each_series_and_the_date_range():
    data = sessions()
    text = chart_text_alternative(pain_chart(data))
    assert text.startswith("Pain (0-10) from 2 Mar to ")
    assert "2026" in text
    for name in ("Before", "Worst during", "After"):
        assert f"{name}: from " in text
    last = max(s.day for s in data)
    assert f"{last.day} {['Mar', 'Apr'][last.month - 3]} 2026" in text


def test_text_alternative_summarises_first_last_lowest_and_highest():
    chart = Chart(
        title="Pain",
        y_label="0-10",
        series=(
            Series(
                "Worst during",
                ((START, 5.0), (START + timedelta(3), 7.0), (START + timedelta(9), 2.0)),
            ),
        ),
    )
    assert chart_text_alternative(chart) == (
        "Pain (0-10) from 2 Mar to 11 Mar 2026. Worst during: from 5 to 2, lowest 2, highest 7."
    )


def test_text_alternative_counts_gaps_and_spans_years():
    chart = Chart(
        title="Speed",
        y_label="km/h",
        series=(Series("Speed", ((date(2025, 12, 30), 2.5), (date(2026, 1, 2), None))),),
    )
    assert chart_text_alternative(chart) == (
        "Speed (km/h) from 30 Dec 2025 to 2 Jan 2026. Speed: one value, 2.5; 1 day without a value."
    )


def test_empty_chart_says_no_sessions_yet():
    chart = pain_chart([])
    drawing = chart_drawing(chart)
    assert "No sessions yet" in strings(drawing)
    assert chart_text_alternative(chart) == "Pain (0-10): no sessions yet."
    root = ET.fromstring(chart_svg(chart))
    assert root.get("role") == "img"
    assert "No sessions yet" in [el.text for el in root.iter(f"{SVG}text")]


def test_chart_with_sessions_but_no_values_says_so():
    _, speed = minutes_speed_charts(
        [
            SessionPoint(START, 10, None, 1, 2, 1),
            SessionPoint(START + timedelta(2), 12, None, 1, 2, 1),
        ]
    )
    assert "No values recorded yet" in strings(chart_drawing(speed))
    assert "Speed: no values recorded." in chart_text_alternative(speed)


def test_single_point_chart_renders_with_its_date():
    chart = pain_chart(sessions(1))
    drawing = chart_drawing(chart)
    labels = strings(drawing)
    assert "2 Mar 2026" in labels
    assert "Before" in labels
    assert chart_text_alternative(chart) == (
        "Pain (0-10) on 2 Mar 2026. Before: one value, 3. Worst during: one value, 5. "
        "After: one value, 2."
    )
    ET.fromstring(chart_svg(chart))


def test_gap_breaks_the_line_but_keeps_the_points():
    chart = Chart(
        title="Speed",
        y_label="km/h",
        series=(
            Series(
                "Speed",
                tuple((START + timedelta(d), None if d == 2 else 2.0 + d) for d in range(5)),
            ),
        ),
    )
    drawing = chart_drawing(chart)
    found: dict[str, int] = {"lines": 0}

    def walk(node) -> None:
        if isinstance(node, PolyLine):
            found["lines"] += 1
        for child in getattr(node, "contents", []):
            walk(child)

    walk(drawing)
    # Two segments: days 0-1 and days 3-4; the None on day 2 is not bridged.
    assert found["lines"] == 2
    assert "Speed: from 2 to 6, lowest 2, highest 6; 1 day without a value." in (
        chart_text_alternative(chart)
    )


def test_each_series_has_its_own_colour_and_a_legend_entry():
    drawing = chart_drawing(pain_chart(sessions()))
    labels = strings(drawing)
    for name in ("Before", "Worst during", "After"):
        assert name in labels
    assert len(set(PALETTE[:3])) == 3


def test_dates_appear_on_the_x_axis():
    labels = strings(chart_drawing(pain_chart(sessions())))
    assert "2 Mar 2026" in labels  # the first tick carries the year
    assert any(label.endswith("Mar") and label != "2 Mar" for label in labels)


def test_minutes_and_speed_charts_leave_a_gap_for_missing_speed():
    data = sessions()
    minutes, speed = minutes_speed_charts(data)
    assert [v for _, v in minutes.series[0].points] == [float(s.minutes) for s in data]
    assert [v for _, v in speed.series[0].points].count(None) == sum(
        1 for s in data if s.speed_kmh is None
    )
    assert minutes.title != speed.title


def test_explicit_y_max_is_widened_to_fit_the_data():
    chart = Chart(title="T", y_label="u", series=(Series("S", ((START, 14.0),)),), y_max=10)
    labels = strings(chart_drawing(chart))
    assert any(label in {"14", "15", "16"} for label in labels)


@pytest.mark.parametrize(("width", "height"), [(480, 200), (300, 140), (700, 260)])
def test_drawing_takes_the_requested_size(width, height):
    drawing = chart_drawing(pain_chart(sessions()), width, height)
    assert (drawing.width, drawing.height) == (width, height)
    root = ET.fromstring(chart_svg(pain_chart(sessions()), width, height))
    assert root.get("viewBox") == f"0 0 {width} {height}"


def string_nodes(drawing: Drawing) -> list[String]:
    found: list[String] = []

    def walk(node) -> None:
        if isinstance(node, String):
            found.append(node)
        for child in getattr(node, "contents", []):
            walk(child)

    walk(drawing)
    return found


def test_a_narrow_chart_still_shows_the_first_and_the_last_date():
    """Rounding the tick step up to whole weeks (39 days -> 42) left one date under the axis."""
    six_weeks = [
        SessionPoint(
            day=START + timedelta(days=d),
            minutes=10,
            speed_kmh=2.0,
            pain_before=1,
            pain_worst=2,
            pain_after=1,
        )
        for d in (0, 13, 26, 39)
    ]
    labels = strings(chart_drawing(pain_chart(six_weeks), 180, 200))
    assert "2 Mar 2026" in labels
    assert "10 Apr" in labels


def test_larger_text_keeps_the_dashboards_default_and_never_overlaps_dates():
    default = chart_svg(pain_chart(sessions()))
    assert chart_svg(pain_chart(sessions()), text_size=7.5) == default

    drawing = chart_drawing(pain_chart(sessions()), 300, 240, text_size=13)
    nodes = string_nodes(drawing)
    assert min(node.fontSize for node in nodes) >= 13
    dates = sorted(
        (node for node in nodes if any(m in node.text for m in ("Mar", "Apr"))),
        key=lambda node: node.x,
    )
    assert len(dates) >= 2
    for left, right in itertools.pairwise(dates):
        # Centred labels: half of each one's width must fit between their centres.
        half = (len(left.text) + len(right.text)) * 13 * 0.6 / 2
        assert right.x - left.x > half
