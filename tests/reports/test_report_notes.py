"""The clinical notes section of the PDF report: the clinician's version only, user text printed
literally (escaped in the Paragraph markup), every note of a long period on some page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from rehab.reports import ReportNote, build_report
from tests.reports.test_reports import START, flat, make_data, pdf_text

NOTES = (
    ReportNote(START + timedelta(days=3), "Sam Okafor", "Knee <b>calmer</b> & less stiff"),
    ReportNote(START + timedelta(days=1), "", "Phoned:\nwill come on Friday"),
)


def test_the_clinicians_version_prints_the_notes_oldest_first_as_typed():
    _, pages = pdf_text(build_report(make_data(clinical_notes=NOTES)))
    text = flat(pages)
    section = text[text.index("Clinical notes") :]
    assert section.index("will come on Friday") < section.index("Knee <b>calmer</b> & less stiff")
    assert "Sam Okafor" in section
    assert "Unknown" in section  # a note whose author's account is gone


def test_the_patients_version_has_no_notes():
    data = make_data(clinical_notes=NOTES)
    text = flat(pdf_text(build_report(replace(data, audience="patient")))[1])
    assert "Clinical notes" not in text
    assert "calmer" not in text


def test_without_notes_the_clinicians_version_says_so():
    text = flat(pdf_text(build_report(make_data()))[1])
    assert "No clinical notes written in this period." in text


def test_many_long_notes_split_across_pages():
    notes = tuple(
        ReportNote(START + timedelta(days=n % 28), "Sam Okafor", f"Note {n}: " + "word " * 300)
        for n in range(40)
    )
    count, pages = pdf_text(build_report(make_data(clinical_notes=notes)))
    text = flat(pages)
    assert count > 5
    assert all(f"Note {n}:" in text for n in range(40))
