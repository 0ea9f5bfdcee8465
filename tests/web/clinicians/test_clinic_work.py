"""Clinicians record clinic work in the dashboard: a supervised session, any outcome measure
(the licensed ODI and WOMAC as totals), a dated clinical note. The same services as the portal
and the API, so the same rules; refusals on the form in words, everything typed kept."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils.html import escape
from freezegun import freeze_time

from rehab import services
from rehab.models import AuditEvent, ClinicalNote, OutcomeScore, Plan, SessionLog
from tests.factories import (
    TODAY,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_frozen")]


@pytest.fixture
def _frozen():
    with freeze_time("2026-03-02 12:00:00"):  # TODAY, noon in London
        yield


def plan_for(clinic, *, start: dt.date = TODAY - dt.timedelta(days=10), **patient_kw) -> Plan:
    patient = PatientFactory(clinic=clinic, **patient_kw)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=start
    )
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=start,
        today=start,
    )


def session_url(patient) -> str:
    return reverse("clinicians:session_new", args=[patient.pk])


def outcome_url(patient, measure: str) -> str:
    return reverse("clinicians:outcome_new", args=[patient.pk, measure])


def note_url(patient) -> str:
    return reverse("clinicians:note_add", args=[patient.pk])


def page_url(patient) -> str:
    return reverse("clinicians:patient", args=[patient.pk])


def session_post(**overrides) -> dict:
    data = {
        "date": TODAY.isoformat(),
        "minutes_done": "10",
        "setting": "treadmill_both_handrails",
        "speed_kmh": "1.5",
        "incline_pct": "",
        "pain_before": "2",
        "pain_worst": "3",
        "pain_after": "2",
        "effort": "3",
        "swelling": "none",
        "notes": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_error(html: str, field: str) -> str:
    """The error text tied to a field (the div its input is described by)."""
    match = re.search(rf'<div class="error" id="id_{field}_error">(.*?)</div>', html, re.S)
    assert match, f"no error on {field}"
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip()


def value_of(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{re.escape(name)}".*?</select>', html, re.S)
    assert select, f"no select {name}"
    option = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return option.group(1) if option else None


# --- Who may use them ---------------------------------------------------------------------------

ROUTES = [
    ("get", session_url),
    ("post", session_url),
    ("get", lambda p: outcome_url(p, "odi")),
    ("post", lambda p: outcome_url(p, "odi")),
    ("post", note_url),
]


@pytest.mark.parametrize(("method", "make_url"), ROUTES)
def test_another_clinics_patient_is_not_found_and_nothing_is_saved(
    dashboard, stranger, method, make_url
):
    response = getattr(dashboard, method)(make_url(stranger), {"total": "30", "text": "x"})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(patient=stranger).exists()
    assert not OutcomeScore.objects.exists()
    assert not ClinicalNote.objects.exists()


@pytest.mark.parametrize(("method", "make_url"), ROUTES)
def test_a_patient_is_sent_to_the_portal(client, clinic, method, make_url):
    patient = PatientFactory(clinic=clinic, user=UserFactory())
    client.force_login(patient.user)
    response = getattr(client, method)(make_url(patient), {"total": "30", "text": "x"})
    assert (response.status_code, response["Location"]) == (302, reverse("patients:today"))
    assert not OutcomeScore.objects.exists()
    assert not ClinicalNote.objects.exists()


@pytest.mark.parametrize(("method", "make_url"), ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(client, clinic, method, make_url):
    patient = PatientFactory(clinic=clinic)
    response = getattr(client, method)(make_url(patient), {"total": "30", "text": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("clinicians:login"))


def test_the_patient_page_links_to_each_kind_of_work(dashboard, clinic):
    plan = plan_for(clinic)
    html = dashboard.get(page_url(plan.patient)).content.decode()
    assert f'href="{session_url(plan.patient)}"' in html
    for measure in ("nprs", "koos", "rmdq", "psfs", "odi", "womac"):
        assert f'href="{outcome_url(plan.patient, measure)}"' in html
    assert f'action="{note_url(plan.patient)}#notes"' in html


# --- Supervised session -------------------------------------------------------------------------


def test_a_supervised_session_is_logged_by_the_clinician_and_shown_as_such(
    dashboard, clinic, clinician
):
    plan = plan_for(clinic)
    form = dashboard.get(session_url(plan.patient))
    assert form.status_code == 200
    # Prefilled with the plan's prescription.
    assert value_of(form.content.decode(), "minutes_done") == "10"
    response = dashboard.post(session_url(plan.patient), session_post())
    assert response.status_code == 302
    assert response["Location"] == page_url(plan.patient) + "#sessions"
    log = SessionLog.objects.get()
    assert (log.plan, log.date, log.supervised, log.logged_by) == (
        plan,
        TODAY,
        True,
        clinician.user,
    )
    event = AuditEvent.objects.get(action="session.log")
    assert (event.actor, event.detail["supervised"]) == (clinician.user, True)
    page = dashboard.get(response["Location"]).content.decode()
    assert "The supervised session of 2 March 2026 is logged." in page
    # No safety signal: its progression decision is the worker's, moments later.
    assert "The decision after this session follows in a moment; reload to see it." in page
    sessions = re.search(r'<section[^>]*id="sessions".*?</section>', page, re.S).group(0)
    assert "Supervised" in sessions
    assert "Priya Patel" in sessions


def test_bad_input_is_a_400_with_errors_on_the_fields_and_everything_kept(dashboard, clinic):
    plan = plan_for(clinic)
    response = dashboard.post(
        session_url(plan.patient),
        session_post(minutes_done="0", pain_worst=None, notes="Walked well, <kept>"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "minutes_done") == "Enter at least 1 minute."
    assert field_error(html, "pain_worst") == "Choose a score from 0 to 10."
    assert 'aria-invalid="true"' in html
    assert value_of(html, "minutes_done") == "0"
    assert selected(html, "pain_before") == "2"
    assert escape("Walked well, <kept>") in html
    assert not SessionLog.objects.exists()


@pytest.mark.parametrize(
    ("field", "typed", "words"),
    [
        ("speed_kmh", "100", "Enter a speed from 0 to 10 km/h."),
        ("speed_kmh", "-1", "Enter a speed from 0 to 10 km/h."),
        ("incline_pct", "100", "Enter an incline from 0 to 20 %."),
        ("incline_pct", "20.5", "Enter an incline from 0 to 20 %."),
    ],
)
def test_a_speed_or_incline_out_of_range_is_one_sentence_with_the_value_kept(
    dashboard, clinic, field, typed, words
):
    # As on the portal's log (rehab.web_forms.Amount): 100 was two of Django's sentences, one
    # about the maximum and one about "2 digits before the decimal point".
    plan = plan_for(clinic)
    response = dashboard.post(session_url(plan.patient), session_post(**{field: typed}))

    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, field) == words
    assert value_of(html, field) == typed
    assert not SessionLog.objects.exists()


def test_the_services_field_refusal_lands_on_its_field(dashboard, clinic):
    plan = plan_for(clinic)
    before_start = (plan.start_date - dt.timedelta(days=1)).isoformat()
    response = dashboard.post(session_url(plan.patient), session_post(date=before_start))
    assert response.status_code == 400
    assert "this date is before it" in field_error(response.content.decode(), "date")


def test_a_second_session_on_the_same_day_is_a_409_on_the_date(dashboard, clinic):
    plan = plan_for(clinic)
    services.session_log(plan=plan, actor=None, date=TODAY, today=TODAY, **good_session())
    response = dashboard.post(session_url(plan.patient), session_post())
    assert response.status_code == 409
    html = response.content.decode()
    assert field_error(html, "date") == "A session is already logged for this day."
    assert "A session is already logged for 02 Mar 2026." in html
    assert SessionLog.objects.count() == 1


def test_a_paused_plan_is_refused_with_a_409_in_words(dashboard, clinic):
    plan = plan_for(clinic)
    services.plan_pause(plan=plan, actor=None, reason="Flare-up")
    page = dashboard.get(session_url(plan.patient)).content.decode()
    assert "The plan is paused" in page
    assert "Flare-up" in page
    response = dashboard.post(session_url(plan.patient), session_post())
    assert response.status_code == 409
    html = response.content.decode()
    assert "The plan is paused (Flare-up); sessions cannot be logged" in html
    assert value_of(html, "minutes_done") == "10"
    assert not SessionLog.objects.exists()


def test_without_an_open_plan_there_is_nothing_to_log(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    page = dashboard.get(session_url(patient))
    assert page.status_code == 200
    assert "has no open plan" in page.content.decode()
    assert dashboard.post(session_url(patient), session_post()).status_code == 409


def test_a_fall_in_a_supervised_session_pauses_the_plan_and_says_so(dashboard, clinic):
    plan = plan_for(clinic)
    response = dashboard.post(session_url(plan.patient), session_post(fall="on"), follow=True)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    assert "The plan is now paused" in response.content.decode()


# --- Outcome measures ---------------------------------------------------------------------------


def test_an_odi_total_is_recorded_as_entered_by_the_clinician(dashboard, clinic, clinician):
    patient = PatientFactory(clinic=clinic, condition="chronic_low_back_pain")
    assert dashboard.get(outcome_url(patient, "odi")).status_code == 200
    response = dashboard.post(
        outcome_url(patient, "odi"), {"taken_on": TODAY.isoformat(), "total": "34"}
    )
    assert response.status_code == 302
    assert response["Location"] == page_url(patient) + "#outcome-odi"
    score = OutcomeScore.objects.get()
    assert (score.measure, score.scores, score.recorded_by, score.taken_on) == (
        "odi",
        {"total": 34.0},
        clinician.user,
        TODAY,
    )
    assert AuditEvent.objects.get(action="outcome.record").actor == clinician.user
    page = dashboard.get(response["Location"]).content.decode()
    outcomes = re.search(r'<section[^>]*id="outcomes".*?</section>', page, re.S).group(0)
    assert "Oswestry Disability Index (ODI)" in outcomes
    assert ">34<" in outcomes


def test_a_womac_total_out_of_range_is_a_field_error_with_the_value_kept(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(
        outcome_url(patient, "womac"), {"taken_on": TODAY.isoformat(), "total": "97"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "total") == "Enter 96 or less."
    assert value_of(html, "total") == "97"
    assert not OutcomeScore.objects.exists()


def test_a_future_date_is_refused_on_the_date(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(
        outcome_url(patient, "nprs"),
        {"taken_on": (TODAY + dt.timedelta(days=1)).isoformat(), "score": "4"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "taken_on") == "An outcome cannot be dated in the future."
    assert selected(html, "score") == "4"


def test_an_nprs_score_is_recorded(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(
        outcome_url(patient, "nprs"), {"taken_on": TODAY.isoformat(), "score": "6"}
    )
    assert response.status_code == 302
    assert OutcomeScore.objects.get().scores == {"total": 6.0}


def test_a_complete_koos_is_scored_per_subscale(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    form = dashboard.get(outcome_url(patient, "koos")).content.decode()
    assert "How often do you experience knee pain?" in form  # the published wording
    assert "KOOS, English version LK1.0" in form
    items = re.findall(r'<select name="((?:P|S|A|SP|Q)\d+)"', form)
    assert len(items) == 42
    data = {"taken_on": TODAY.isoformat(), **dict.fromkeys(items, "1")}
    assert dashboard.post(outcome_url(patient, "koos"), data).status_code == 302
    assert OutcomeScore.objects.get().scores == dict.fromkeys(
        ("pain", "symptoms", "adl", "sport_rec", "qol"), 75.0
    )


def test_a_koos_with_too_few_answers_says_which_parts_and_keeps_them(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(
        outcome_url(patient, "koos"), {"taken_on": TODAY.isoformat(), "P1": "2"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Pain: only 1 of 9 items answered; at least half are needed." in html
    assert selected(html, "P1") == "2"


def test_an_rmdq_counts_the_ticked_sentences(dashboard, clinic):
    patient = PatientFactory(clinic=clinic, condition="chronic_low_back_pain")
    data = {"taken_on": TODAY.isoformat(), "R1": "on", "R5": "on", "R24": "on"}
    assert dashboard.post(outcome_url(patient, "rmdq"), data).status_code == 302
    assert OutcomeScore.objects.get().scores == {"total": 3.0}


def test_a_psfs_needs_three_activities_each_scored(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    data = {
        "taken_on": TODAY.isoformat(),
        "activity_1": "Stairs",
        "score_1": "4",
        "activity_2": "Getting out of a car",
        "score_2": "",
    }
    response = dashboard.post(outcome_url(patient, "psfs"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Name 3 to 5 activities and score each one." in html
    assert field_error(html, "score_2") == "Score this activity from 0 to 10."
    assert value_of(html, "activity_2") == "Getting out of a car"
    data.update(score_2="6", activity_3="Kneeling", score_3="2")
    assert dashboard.post(outcome_url(patient, "psfs"), data).status_code == 302
    assert OutcomeScore.objects.get().scores == {"total": 4.0}


def test_an_unknown_measure_is_not_found(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    assert dashboard.get(outcome_url(patient, "sf36")).status_code == 404


def test_an_archived_patient_takes_no_score_409_in_words(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    services.patient_archive(patient=patient, actor=None)
    response = dashboard.post(
        outcome_url(patient, "nprs"), {"taken_on": TODAY.isoformat(), "score": "3"}
    )
    assert response.status_code == 409
    assert "is archived; restore the record first" in response.content.decode()


# --- Clinical notes -----------------------------------------------------------------------------


def notes_section(html: str) -> str:
    return re.search(r'<section[^>]*id="notes".*?</section>', html, re.S).group(0)


def test_a_note_is_added_and_shown_newest_first_with_its_author(dashboard, clinic, clinician):
    patient = PatientFactory(clinic=clinic)
    services.clinical_note_add(
        patient=patient, actor=None, noted_on=TODAY - dt.timedelta(days=3), text="Older note"
    )
    response = dashboard.post(
        note_url(patient), {"noted_on": TODAY.isoformat(), "text": "Phoned <b>today</b>"}
    )
    assert response.status_code == 302
    assert response["Location"] == page_url(patient) + "#notes"
    note = ClinicalNote.objects.get(noted_on=TODAY)
    assert (note.author, note.text) == (clinician.user, "Phoned <b>today</b>")
    assert AuditEvent.objects.get(action="note.add", object_id=str(note.pk)).actor == clinician.user
    notes = notes_section(dashboard.get(response["Location"]).content.decode())
    assert notes.index("Phoned") < notes.index("Older note")
    assert escape("Phoned <b>today</b>") in notes
    assert "<b>today</b>" not in notes
    assert "Mon 2 Mar 2026 · Priya Patel" in notes


def test_an_empty_note_is_a_400_on_the_page_with_the_date_kept(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(note_url(patient), {"noted_on": "2026-02-27", "text": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "text") == "Write the note."
    assert value_of(html, "noted_on") == "2026-02-27"
    assert not ClinicalNote.objects.exists()


def test_a_future_note_is_refused_on_its_date_with_the_text_kept(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(note_url(patient), {"noted_on": "2026-03-03", "text": "Plan B"})
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "noted_on") == "A note cannot be dated in the future."
    assert "Plan B</textarea>" in html


def test_a_note_on_an_archived_record_is_a_409_in_words(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    services.patient_archive(patient=patient, actor=None)
    response = dashboard.post(note_url(patient), {"noted_on": "2026-03-02", "text": "Late"})
    assert response.status_code == 409
    assert "is archived; restore the record first" in response.content.decode()


def test_only_this_patients_notes_are_shown(dashboard, clinic):
    patient, other = PatientFactory(clinic=clinic), PatientFactory(clinic=clinic)
    services.clinical_note_add(patient=other, actor=None, noted_on=TODAY, text="Someone else")
    notes = notes_section(dashboard.get(page_url(patient)).content.decode())
    assert "Someone else" not in notes
    assert "No clinical notes yet." in notes


# --- Hostile input: a 400 beside the field, never a 500, nothing saved ------------------------


def test_a_control_character_in_a_note_is_refused_beside_it(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(note_url(patient), {"noted_on": "2026-03-02", "text": "a\x07b"})
    assert response.status_code == 400
    assert "control character" in field_error(response.content.decode(), "text")
    assert not ClinicalNote.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30"])
def test_dates_out_of_range_are_400s_on_every_form(dashboard, clinic, day):
    plan = plan_for(clinic)
    patient = plan.patient
    responses = {
        "date": dashboard.post(session_url(patient), session_post(date=day)),
        "taken_on": dashboard.post(outcome_url(patient, "odi"), {"taken_on": day, "total": "3"}),
        "noted_on": dashboard.post(note_url(patient), {"noted_on": day, "text": "x"}),
    }
    for field, response in responses.items():
        assert response.status_code == 400, field
        assert field_error(response.content.decode(), field)
    assert not SessionLog.objects.exists()
    assert not OutcomeScore.objects.exists()
    assert not ClinicalNote.objects.exists()


def test_an_answer_that_is_not_one_of_the_choices_is_refused(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    response = dashboard.post(
        outcome_url(patient, "koos"), {"taken_on": TODAY.isoformat(), "P1": "7"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in field_error(response.content.decode(), "P1")
    assert not OutcomeScore.objects.exists()


# --- Query counts --------------------------------------------------------------------------------


def count_queries(client, method: str, url: str, data=None) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data)
    return response.status_code, len(queries)


def test_the_forms_cost_a_fixed_number_of_queries(dashboard, clinic):
    plan = plan_for(clinic)
    patient = plan.patient
    for day in range(3):  # history that must not add queries
        services.session_log(
            plan=plan,
            actor=None,
            date=TODAY - dt.timedelta(days=2 * day + 1),
            today=TODAY,
            **good_session(),
        )
        services.clinical_note_add(patient=patient, actor=None, noted_on=TODAY, text="x")
    dashboard.get(page_url(patient))  # the session's first request refreshes its expiry
    assert {
        # session, user, clinician + clinic, patient, then the open plan and the read's audit.
        "session form": count_queries(dashboard, "get", session_url(patient)),
        # session, user, clinician + clinic, patient, the read's audit.
        "KOOS form": count_queries(dashboard, "get", outcome_url(patient, "koos")),
        # session, user, clinician + clinic, patient; the service: savepoint, insert, audit
        # (the patient's clinic id is on the patient: no look-up of the clinic), release.
        "note": count_queries(
            dashboard, "post", note_url(patient), {"noted_on": "2026-03-02", "text": "y"}
        ),
        # session, user, clinician + clinic, patient, then the service's: savepoint, the open
        # plan, insert, audit, release.
        "ODI": count_queries(
            dashboard, "post", outcome_url(patient, "odi"), {"taken_on": "2026-03-02", "total": "9"}
        ),
    } == {
        "session form": (200, 6),
        "KOOS form": (200, 5),
        "note": (302, 8),
        "ODI": (302, 9),
    }


def test_the_timeline_says_who_recorded_each_session(dashboard, clinic, clinician):
    plan = plan_for(clinic, user=UserFactory())
    patient = plan.patient
    services.session_log(
        plan=plan, actor=patient.user, date=TODAY - dt.timedelta(days=4), **good_session()
    )
    services.session_log(
        plan=plan, actor=None, date=TODAY - dt.timedelta(days=2), today=TODAY, **good_session()
    )
    dashboard.post(session_url(patient), session_post())
    page = dashboard.get(page_url(patient)).content.decode()
    rows = re.findall(
        r"<tr>.*?</tr>", re.search(r'<section[^>]*id="sessions".*?</section>', page, re.S)[0], re.S
    )
    recorded_by = [re.sub(r"<[^>]+>", "", row.split("<td>")[-1]).strip() for row in rows[1:]]
    assert recorded_by == ["Supervised Priya Patel", "Clinic system", "The patient"]


def test_the_page_shows_the_latest_notes_only_and_says_so(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    for n in range(25):
        services.clinical_note_add(
            patient=patient, actor=None, noted_on=TODAY - dt.timedelta(days=n), text=f"Note {n}."
        )
    notes = notes_section(dashboard.get(page_url(patient)).content.decode())
    assert len(re.findall(r"<article", notes)) == 20
    assert "Note 19." in notes
    assert "Note 20." not in notes
    assert "The latest 20 notes" in notes
