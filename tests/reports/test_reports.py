"""rehab.reports: the PDF progress report, read back with pypdf."""

import io
import re
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from rehab.reports import (
    CalendarDay,
    LevelChange,
    OutcomeRow,
    Reference,
    ReportData,
    SafetyEvent,
    build_report,
)
from rehab.reports.charts import SessionPoint, minutes_speed_charts, pain_chart

START = date(2026, 3, 2)  # a Monday
GENERATED = datetime(2026, 3, 30, 14, 5, tzinfo=UTC)
CITATIONS = (
    "Hao WY, Chen Y. Backward walking training improves balance in school-aged boys. "
    "Sports Med Arthrosc Rehabil Ther Technol. 2011;3:24.",
    "Alghadir AH et al. Effect of 6-week retro or forward walking program on pain, "
    "functional disability, quadriceps muscle strength, and performance in individuals "
    "with knee osteoarthritis. BMC Musculoskelet Disord. 2019;20:159.",
)


def calendar(weeks: int, done_every: int = 1) -> tuple[CalendarDay, ...]:
    """Mon/Wed/Fri planned; three of every four planned days done, the rest missed."""
    days = []
    planned = 0
    for offset in range(weeks * 7):
        day = START + timedelta(days=offset)
        if day.weekday() in (0, 2, 4):
            planned += 1
            state = "missed" if planned % 4 == 0 else "done"
        else:
            state = "not_scheduled"
        days.append(CalendarDay(day, state))
    return tuple(days)


def session_points(count: int) -> tuple[SessionPoint, ...]:
    days = [d.day for d in calendar(12) if d.day.weekday() in (0, 2, 4)][:count]
    return tuple(
        SessionPoint(
            day=day,
            minutes=10 + i // 3,
            speed_kmh=None if i % 7 == 6 else round(2.0 + 0.05 * i, 2),
            pain_before=3 - i % 3 // 2,
            pain_worst=max(0, 5 - i // 8),
            pain_after=2,
            pain_next_morning=None if i % 5 == 4 else 2 + i % 2,
            effort=4 - i % 3,
        )
        for i, day in enumerate(days)
    )


def make_data(**changes) -> ReportData:
    data = ReportData(
        audience="clinician",
        clinic_name="Riverside Physio",
        patient_name="Anna Kowalczyk",
        condition="Knee osteoarthritis",
        clinician_name="Sam Okafor",
        period_start=START,
        period_end=START + timedelta(days=27),
        generated_at=GENERATED,
        protocol_name="Retro walking for knee OA",
        plan_status="active",
        current_level="Level 3: 15 min at 2.5 km/h",
        constraints=("No incline above 5 %", "Hold progression while swelling is reported"),
        override_reason="",
        level_changes=(
            LevelChange(START + timedelta(days=9), "Level 1", "Level 2", "criteria_met"),
            LevelChange(
                START + timedelta(days=20),
                "Level 2",
                "Level 3",
                "Pain settled within 24 h for two weeks",
            ),
        ),
        adherence_percent=75.0,
        calendar=calendar(4),
        sessions=session_points(9),
        outcomes=(
            OutcomeRow("koos", "pain", 45, 62, "15 points", meaningful=True, worsened=False),
            OutcomeRow("koos", "adl", 50, 53, "15.5 points", meaningful=False, worsened=False),
            OutcomeRow("nprs", "total", 6, None, "2 points or 30 %", False, False),
        ),
        safety_events=(
            SafetyEvent(START + timedelta(days=5), "near_fall", "Caught the rail, no injury."),
        ),
        citations=CITATIONS,
    )
    return replace(data, **changes)


def pdf_text(pdf: bytes) -> tuple[int, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), [page.extract_text() for page in reader.pages]


def flat(pages: list[str]) -> str:
    # Paragraphs wrap; compare on single spaces so a wrapped phrase still matches.
    return re.sub(r"\s+", " ", " ".join(pages))


def big_data(**changes) -> ReportData:
    return make_data(
        period_end=START + timedelta(weeks=12, days=-1),
        calendar=calendar(12),
        sessions=session_points(36),
        level_changes=tuple(
            LevelChange(
                START + timedelta(days=7 * i + 3),
                f"Level {i + 1}",
                f"Level {i + 2}",
                "criteria_met" if i % 2 else f"Reviewed in clinic, week {i + 1}: tolerating well",
            )
            for i in range(10)
        ),
        safety_events=tuple(
            SafetyEvent(
                START + timedelta(days=2 * i),
                ("near_fall", "dizziness", "swelling_more", "fall")[i % 4],
                f"Event note number {i}: " + "felt unsteady turning at the end of the lane. " * 3,
            )
            for i in range(40)
        ),
        **changes,
    )


def test_report_contains_the_header_adherence_charts_and_citations():
    data = make_data()
    text = flat(pdf_text(build_report(data))[1])
    for expected in (
        "Riverside Physio",
        "Anna Kowalczyk",
        "Knee osteoarthritis",
        "Sam Okafor",
        "2 Mar 2026 to 29 Mar 2026",
        "Adherence: 75 %",
        "9 of 12 planned sessions",
        "Retro walking for knee OA",
        "Level 3: 15 min at 2.5 km/h",
        "No incline above 5 %",
        "Page 1 of",
        "Generated 30 Mar 2026 14:05 UTC",
    ):
        assert expected in text, expected
    charts = [pain_chart(data.sessions), *minutes_speed_charts(data.sessions)]
    for chart in charts:
        assert chart.title in text
    for citation in CITATIONS:
        assert re.sub(r"\s+", " ", citation) in text


def test_every_level_change_reason_and_the_override_appear():
    data = make_data(override_reason="Cardiologist cleared exercise on 1 Mar 2026; monitor HR.")
    text = flat(pdf_text(build_report(data))[1])
    assert "Every advance criterion was met." in text
    assert "criteria_met" not in text
    assert "Pain settled within 24 h for two weeks" in text
    assert "Cardiologist cleared exercise on 1 Mar 2026; monitor HR." in text


def test_outcomes_show_threshold_and_meaningful_change_mark():
    text = flat(pdf_text(build_report(make_data()))[1])
    assert "15 points" in text
    assert "* Meaningful improvement" in text
    assert "No meaningful change" in text
    assert "Not comparable" in text
    assert "+17" in text


def test_user_text_with_markup_appears_literally():
    nasty = "<b>not bold</b> & <script>alert('x')</script> <br/> 5 < 6 > 4"
    data = make_data(
        patient_name="Zoë <b>O'Brien</b> & Co",
        override_reason=nasty,
        constraints=(nasty,),
        level_changes=(LevelChange(START, "Level <1>", "Level &2", nasty),),
        safety_events=(SafetyEvent(START, "other <i>", nasty + "\nsecond line"),),
        citations=(nasty,),
    )
    text = flat(pdf_text(build_report(data))[1])
    assert "Zoë <b>O'Brien</b> & Co" in text
    assert text.count(nasty) >= 4
    assert "Level <1>" in text
    assert "Level &2" in text
    assert "other <i>" in text


def test_control_characters_in_notes_do_not_break_the_pdf():
    data = make_data(safety_events=(SafetyEvent(START, "fall", "bad\x00byte\x1b here"),))
    assert "badbyte here" in flat(pdf_text(build_report(data))[1])


def test_twelve_week_report_spans_pages_with_consistent_numbering():
    started = time.perf_counter()
    pdf = build_report(big_data())
    elapsed = time.perf_counter() - started
    count, pages = pdf_text(pdf)
    assert count >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {count}" in page
        assert "Riverside Physio" in page
        assert "Generated 30 Mar 2026 14:05 UTC" in page
    text = flat(pages)
    # Long tables split across pages rather than being cut: every row is there.
    for i in range(40):
        assert f"Event note number {i}:" in text
    for i in range(10):
        assert f"Level {i + 1}" in text
    assert elapsed < 10


def test_patient_twelve_week_report_builds_with_larger_font():
    pdf = build_report(big_data(audience="patient"))
    count, pages = pdf_text(pdf)
    clinician_count, _ = pdf_text(build_report(big_data()))
    assert count >= clinician_count
    assert all(f"Page {n} of {count}" in page for n, page in enumerate(pages, start=1))


def test_a_very_long_note_splits_inside_its_row():
    note = "Long free-text note. " * 400  # taller than a page in the patient's large font
    data = make_data(audience="patient", safety_events=(SafetyEvent(START, "fall", note),))
    count, pages = pdf_text(build_report(data))
    assert count >= 2
    # Count single words: a phrase may be cut by the page break and the footer between.
    assert len(re.findall(r"\bLong\b", flat(pages))) == 400


def test_empty_report_still_builds():
    data = make_data(
        sessions=(),
        outcomes=(),
        level_changes=(),
        safety_events=(),
        calendar=(),
        citations=(),
        constraints=(),
        adherence_percent=None,
    )
    for audience in ("clinician", "patient"):
        count, pages = pdf_text(build_report(replace(data, audience=audience)))
        text = flat(pages)
        # pain, next-morning pain, effort, minutes and speed
        assert text.count("No sessions yet") == 5
        assert f"Page {count} of {count}" in pages[-1]


def test_patient_version_uses_plain_words_and_no_reason_codes():
    data = make_data(
        audience="patient",
        level_changes=(
            LevelChange(START, "Level 1", "Level 2", "criteria_met"),
            LevelChange(START + timedelta(days=3), "Level 2", "Level 2", "min_days; low_adherence"),
            LevelChange(START + timedelta(days=6), "Level 2", "Level 1", "held: worst_pain_high"),
        ),
        safety_events=(SafetyEvent(START, "near_fall", "Caught the rail."),),
        plan_status="discontinued",
    )
    text = flat(pdf_text(build_report(data))[1])
    assert "You did 9 of 12 planned sessions (75 %)" in text
    assert "Because your pain stayed low and you managed the sessions." in text
    assert "A near fall" in text
    assert "Stopped" in text
    assert "Knee injury and Osteoarthritis Outcome Score (KOOS)" in text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)
    for code in ("criteria_met", "min_days", "low_adherence", "near_fall", "worst_pain_high"):
        assert code not in text


def test_questionnaire_parts_are_named_as_the_portal_names_them_for_the_patient():
    # The patient's report used the clinician's names ("Daily living", "Total") while the portal
    # said "Everyday activities" and "Score": one wording now, per reader.
    patient = flat(pdf_text(build_report(make_data(audience="patient")))[1])
    clinician = flat(pdf_text(build_report(make_data()))[1])
    assert "Everyday activities" in patient
    assert "Daily living" not in patient
    assert "Daily living" in clinician
    assert "Everyday activities" not in clinician


def test_adherence_is_rounded_half_up():
    text = flat(pdf_text(build_report(make_data(adherence_percent=62.5)))[1])
    assert "Adherence: 63 %" in text


def test_calendar_legend_names_every_state_in_words():
    text = flat(pdf_text(build_report(make_data()))[1])
    for word in ("Done", "Missed", "Rest", "To come"):
        assert word in text
    assert "Week of" in text


def test_same_data_gives_the_same_bytes():
    assert build_report(make_data()) == build_report(make_data())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"audience": "family"}, "audience"),
        ({"generated_at": datetime(2026, 3, 30, 14, 5)}, "aware"),
        ({"calendar": (CalendarDay(START, "skipped"),)}, "calendar state"),
    ],
)
def test_invalid_data_is_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        build_report(make_data(**changes))


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed"
)
def test_first_page_renders_to_png(tmp_path: Path):
    source = tmp_path / "report.pdf"
    source.write_bytes(build_report(big_data()))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(source), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    pngs = list(tmp_path.glob("page*.png"))
    assert len(pngs) == 1
    assert pngs[0].stat().st_size > 0


# --- issue 11: the report a clinician would file --------------------------------------------------


def test_every_page_names_the_patient_by_record_number_and_date_of_birth():
    data = big_data(record_number="RW-0042", date_of_birth=date(1951, 5, 4))
    count, pages = pdf_text(build_report(data))
    assert count >= 3
    for page in pages:
        assert "Anna Kowalczyk · Record no. RW-0042 · Born 4 May 1951" in page
    assert "Record number RW-0042 Date of birth 4 May 1951" in flat(pages[:1])


def test_a_long_name_is_shortened_in_the_page_head_never_the_identifier():
    name = "Maximiliana " + "Wolfeschlegelsteinhausenbergerdorff" * 4
    data = big_data(patient_name=name, record_number="RW-0042", date_of_birth=date(1951, 5, 4))
    _, pages = pdf_text(build_report(data))
    for page in pages:
        assert "· Record no. RW-0042 · Born 4 May 1951" in page


def test_without_a_record_number_or_birth_date_the_report_says_so():
    _, pages = pdf_text(build_report(make_data()))
    assert "Record no. none recorded · Born not recorded" in pages[0]
    assert "Record number None recorded" in flat(pages)


def test_a_clinicians_report_never_shows_a_reason_code():
    data = make_data(
        level_changes=(
            LevelChange(START, "Level 1", "Level 2", "criteria_met"),
            LevelChange(START + timedelta(days=3), "Level 2", "Level 1", "worst_pain_high"),
        )
    )
    text = flat(pdf_text(build_report(data))[1])
    assert "Worst pain during exercise was above the regress threshold." in text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)


def test_next_morning_pain_and_effort_are_charted_beside_pain_and_minutes():
    text = flat(pdf_text(build_report(make_data()))[1])
    for title in (
        "Pain (0-10)",
        "Next-morning pain (0-10)",
        "Effort (0-10)",
        "Minutes walked backwards",
    ):
        assert title in text
    # The text alternatives give the values: next morning 2, 3, 2, 3, (none), 3, ...
    assert "Next morning: from 2 to 2, lowest 2, highest 3; 1 day without a value." in text
    assert "Effort (Borg CR10): from 4 to 2, lowest 2, highest 4." in text


def test_references_are_full_and_say_what_they_support():
    reference = Reference(
        "Alghadir AH et al. 2019, BMC Musculoskelet Disord 20:159",
        "In knee osteoarthritis, backward walking lowered pain more than usual care alone.",
    )
    for audience, lead in (("clinician", "Supports:"), ("patient", "What it tells us:")):
        text = flat(pdf_text(build_report(make_data(audience=audience, citations=(reference,))))[1])
        assert (
            "1. Alghadir AH et al. 2019, BMC Musculoskelet Disord 20:159. "
            f"{lead} In knee osteoarthritis, backward walking lowered pain more than usual "
            "care alone." in text
        )
