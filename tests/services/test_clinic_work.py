"""The clinic's own work on a record: a supervised session (session_log with supervised=True),
a clinical note (clinical_note_add), and the notes in the clinician's PDF report only."""

from __future__ import annotations

import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.errors import RehabError
from rehab.models import AuditEvent, ClinicalNote, Report
from tests.factories import TODAY, ClinicianFactory, PatientFactory, UserFactory, good_session
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


# --- Supervised sessions ------------------------------------------------------------------------


def test_a_clinicians_supervised_session_is_recorded_as_theirs_and_audited(plan, actor):
    log = services.session_log(
        plan=plan, actor=actor, date=TODAY, today=TODAY, supervised=True, **good_session()
    )
    log.refresh_from_db()
    assert (log.supervised, log.logged_by) == (True, actor)
    event = AuditEvent.objects.get(action="session.log", object_id=str(log.pk))
    assert event.actor == actor
    assert event.detail == {"adverse_events": [], "supervised": True}


def test_a_session_is_not_supervised_unless_said(plan, actor):
    log = services.session_log(plan=plan, actor=actor, date=TODAY, today=TODAY, **good_session())
    assert log.supervised is False


@pytest.mark.parametrize("who", ["patient", "api_key", "other_clinic", "system"])
def test_only_a_clinician_of_the_clinic_can_record_a_supervised_session(plan, who):
    patient = plan.patient
    if who == "patient":
        patient.user = UserFactory()
        patient.save()
        actor = patient.user
    elif who == "api_key":
        actor, _ = services.api_key_create(clinic=patient.clinic, name="EHR", actor=None)
    elif who == "other_clinic":
        actor = ClinicianFactory().user
    else:
        actor = None
    with pytest.raises(RehabError) as caught:
        services.session_log(
            plan=plan, actor=actor, date=TODAY, today=TODAY, supervised=True, **good_session()
        )
    assert caught.value.code == "supervisor_not_clinician"
    assert not plan.sessions.exists()


def test_a_supervised_fall_pauses_the_plan_like_any_other(plan, actor):
    services.session_log(
        plan=plan,
        actor=actor,
        date=TODAY,
        today=TODAY,
        supervised=True,
        **good_session(fall=True),
    )
    plan.refresh_from_db()
    assert plan.status == "paused"


# --- Clinical notes ------------------------------------------------------------------------------


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


def test_notes_are_read_by_the_clinics_staff_only(patient, actor):
    services.clinical_note_add(patient=patient, actor=actor, noted_on=TODAY, text="Ours")
    other = PatientFactory()
    services.clinical_note_add(patient=other, actor=None, noted_on=TODAY, text="Theirs")
    staff = principal_for_user(actor)
    assert [n.text for n in selectors.clinical_notes_for(staff)] == ["Ours"]
    patient.user = UserFactory()
    patient.save()
    assert not selectors.clinical_notes_for(principal_for_user(patient.user)).exists()


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
