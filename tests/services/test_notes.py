"""A clinical note (clinical_note_add): saved with its author and date, audited without its
text, and printed in the clinician's PDF report only."""

from __future__ import annotations

import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from rehab import services
from rehab.errors import RehabError
from rehab.models import AuditEvent, ClinicalNote, Report
from tests.factories import TODAY
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def test_a_note_is_saved_with_its_author_and_date_and_audited_without_its_text(patient, actor):
    note = services.clinical_note_add(
        patient=patient, actor=actor, noted_on=day(-1), text="  Phoned: knee calmer.  ", today=TODAY
    )
    note.refresh_from_db()
    assert (note.patient, note.author, note.noted_on, note.text) == (
        patient,
        actor,
        day(-1),
        "Phoned: knee calmer.",
    )
    event = AuditEvent.objects.get(action="note.add")
    assert (event.actor, event.patient, event.object_id) == (actor, patient, str(note.pk))
    assert "calmer" not in str(event.detail)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "bell \x07"}, "text"),
        ({"noted_on": day(1)}, "noted_on"),
    ],
)
def test_a_bad_note_is_refused_on_its_field_and_nothing_is_saved(patient, actor, changes, field):
    values = {"noted_on": TODAY, "text": "Fine.", **changes}
    with pytest.raises(RehabError) as caught:
        services.clinical_note_add(patient=patient, actor=actor, today=TODAY, **values)
    assert caught.value.status == 400
    assert field in caught.value.fields
    assert not ClinicalNote.objects.exists()


def test_an_archived_patients_record_takes_no_note(patient, actor):
    services.patient_archive(patient=patient, actor=actor)
    with pytest.raises(RehabError) as caught:
        services.clinical_note_add(patient=patient, actor=actor, noted_on=TODAY, text="Late note")
    assert (caught.value.code, caught.value.status) == ("patient_archived", 409)


# --- In the PDF report ---------------------------------------------------------------------------


def _report_text(report: Report) -> str:
    report.refresh_from_db()
    assert report.status == "ready", report.error
    reader = PdfReader(io.BytesIO(services.report_path(report).read_bytes()))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_the_clinicians_report_has_the_periods_notes_and_the_patients_has_none(
    plan, actor, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    patient = plan.patient
    today = timezone.localdate()
    services.clinical_note_add(
        patient=patient, actor=actor, noted_on=today, text="Knee <b>calmer</b> & steadier"
    )
    texts = {}
    for audience in ("clinician", "patient"):
        report = services.report_request(patient=patient, audience=audience, actor=actor)
        services.report_render(report_id=report.pk)
        texts[audience] = _report_text(report)
    assert "Clinical notes" in texts["clinician"]
    # Printed as typed: the markup is escaped, not interpreted.
    assert "Knee <b>calmer</b> & steadier" in texts["clinician"]
    assert actor.get_full_name() in texts["clinician"]
    assert "Clinical notes" not in texts["patient"]
    assert "calmer" not in texts["patient"]


def test_a_note_outside_the_period_is_left_out(plan, actor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    patient = plan.patient
    today = timezone.localdate()
    services.clinical_note_add(patient=patient, actor=actor, noted_on=today, text="In the period")
    services.clinical_note_add(
        patient=patient, actor=actor, noted_on=today.replace(year=today.year - 1), text="Old one"
    )
    report = services.report_request(
        patient=patient, audience="clinician", actor=actor, period_start=today, period_end=today
    )
    services.report_render(report_id=report.pk)
    text = _report_text(report)
    assert "In the period" in text
    assert "Old one" not in text
