"""What makes the report fast (issue 13) changes nothing it shows: what it keeps between builds
never carries one report's content into another, its shortcut past the markup parser prints plain
words as the parser would, and its charts drawn straight on the canvas look as reportlab's
renderer draws them."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops
from reportlab.graphics.shapes import Circle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus.paragraph import cleanBlockQuotedText
from reportlab.platypus.paraparser import ParaParser

from rehab.reports import LevelChange, ReportNote, SafetyEvent, build_report, register_fonts
from rehab.reports.charts import chart_drawing, minutes_speed_charts, pain_chart
from rehab.reports.layout import Paragraph, styles_for
from rehab.reports.pdfcharts import ChartFlowable
from tests.reports.test_reports import START, big_data, flat, make_data, pdf_text


def test_two_reports_in_one_process_each_show_their_own_patient():
    first = big_data(
        patient_name="Anna Kowalczyk",
        clinical_notes=(ReportNote(START, "Sam Okafor", "Knee calmer after the first week"),),
    )
    second = replace(
        make_data(),
        audience="patient",
        patient_name="Łucja Čapek",
        clinic_name="Hillside Rehab",
        level_changes=(LevelChange(START, "Level 1", "Level 2", "Steady on the lane"),),
        safety_events=(SafetyEvent(START + timedelta(days=1), "dizziness", "Sat down, fine"),),
    )
    first_pdf = build_report(first)
    second_pdf = build_report(second)
    # Built again after the other: the same bytes as when it was built first.
    assert build_report(first) == first_pdf

    first_text = flat(pdf_text(first_pdf)[1])
    second_text = flat(pdf_text(second_pdf)[1])
    assert "Anna Kowalczyk" in first_text
    assert "Knee calmer after the first week" in first_text
    assert "Event note number 39:" in first_text
    assert "Łucja Čapek" in second_text
    assert "Hillside Rehab" in second_text
    assert "Steady on the lane" in second_text
    assert "Sat down, fine" in second_text
    for theirs in ("Anna Kowalczyk", "Riverside Physio", "Knee calmer", "Event note number"):
        assert theirs not in second_text
    for theirs in ("Łucja", "Hillside Rehab", "Steady on the lane", "Sat down, fine"):
        assert theirs not in first_text
    # The patient's larger type is not the clinician's: one set of styles per audience.
    assert styles_for(True).body.fontSize > styles_for(False).body.fontSize


def _parsed(text: str, style) -> list[dict]:
    register_fonts()  # as build_report does before any paragraph
    _, frags, _ = ParaParser().parse(cleanBlockQuotedText(text), style)
    return [dict(frag.__dict__) for frag in frags]


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="<>&\x00"), max_size=60
    )
)
def test_plain_words_become_the_fragment_the_parser_would_make(text):
    style = styles_for(False).cell
    expected = _parsed(text, style)
    paragraph = Paragraph(text, style)
    assert [dict(frag.__dict__) for frag in paragraph.frags] == expected


def test_markup_still_goes_through_the_parser():
    register_fonts()
    style = styles_for(True).body
    paragraph = Paragraph("You did <b>9 of 12</b> sessions &amp; more", style)
    bold = [frag for frag in paragraph.frags if frag.bold]
    assert [frag.text for frag in bold] == ["9 of 12"]
    assert "".join(frag.text for frag in paragraph.frags) == "You did 9 of 12 sessions & more"


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed"
)
def test_charts_drawn_straight_on_the_canvas_look_as_reportlab_draws_them(tmp_path: Path):
    data = make_data()
    charts = [pain_chart(data.sessions), *minutes_speed_charts(data.sessions), pain_chart([])]

    def page(name: str, flowable) -> Image.Image:
        source = tmp_path / f"{name}.pdf"
        canvas = Canvas(str(source), pagesize=(500, 200 * len(charts)))
        for index, chart in enumerate(charts):
            drawing = chart_drawing(chart, width=480, height=180)
            drawing.renderScale = 1.2 if index % 2 else 1.0  # the patient's charts are scaled
            flowable(drawing).drawOn(canvas, 10, 200 * index)
        canvas.showPage()
        canvas.save()
        subprocess.run(
            ["pdftoppm", "-png", "-r", "100", str(source), str(tmp_path / name)],
            check=True,
            timeout=60,
        )
        return Image.open(next(tmp_path.glob(f"{name}*.png"))).convert("RGB")

    expected = page("renderpdf", lambda drawing: drawing)  # a Drawing is a flowable too
    assert ImageChops.difference(expected, page("direct", ChartFlowable)).getbbox() is None


def test_a_shape_the_chart_flowable_cannot_draw_fails_loudly(tmp_path: Path):
    drawing = chart_drawing(pain_chart([]))
    drawing.add(Circle(10, 10, 3))
    canvas = Canvas(str(tmp_path / "chart.pdf"))
    with pytest.raises(TypeError, match="Circle"):
        ChartFlowable(drawing).drawOn(canvas, 0, 0)
