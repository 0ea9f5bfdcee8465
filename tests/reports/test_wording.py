"""rehab.wording: one wording of codes for the pages, the portal and the PDF, for both readers."""

import re

import pytest

from rehab import wording
from rehab.clinical.adherence import DayState
from rehab.clinical.outcomes import KOOS_SUBSCALES, MEASURES
from rehab.clinical.progression import ADVERSE_EVENTS, OUTCOMES, REASON_CODES
from rehab.reports.words import reason_words

BARE_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def test_the_clinician_reads_the_stored_text_or_the_codes_sentence_never_the_code():
    assert wording.reason_text({"code": "min_days", "text": "Day 3 of 7 at this level."}) == (
        "Day 3 of 7 at this level."
    )
    assert wording.reason_text({"code": "min_days", "text": ""}) == (
        "The minimum number of days at this level has not been reached."
    )
    assert wording.reason_text({"code": "some_new_code"}) == "some new code"


def test_the_patient_reads_why_from_the_reasons_that_argued_for_the_outcome():
    reasons = [
        {"code": "worst_pain_high", "outcome": "regress"},
        {"code": "min_days", "outcome": "hold"},
    ]
    assert wording.because(reasons, "regress") == (
        "your pain during the walk went higher than it should"
    )
    assert wording.patient_reason(reasons, "regress") == (
        "Because your pain during the walk went higher than it should."
    )


def test_the_engine_gives_no_reason_the_wording_does_not_know_and_the_wording_no_other():
    assert set(wording.REASONS) == set(REASON_CODES)


@pytest.mark.parametrize("code", REASON_CODES)
def test_every_reason_the_engine_can_give_has_words_for_both_readers_and_neither_sees_the_code(
    code,
):
    clinician = wording.reason_text({"code": code, "text": ""})
    patient = wording.because([{"code": code, "outcome": ""}])
    assert clinician.strip()
    assert patient.strip()
    assert clinician != patient
    for outcome in OUTCOMES:
        said = [
            clinician,
            patient,
            wording.patient_reason([{"code": code, "outcome": outcome}], outcome),
            # The PDF's level changes, stored as bare codes or as text that quotes one.
            reason_words(code, patient=True),
            reason_words(code, patient=False),
            reason_words(f"held: {code}", patient=True),
        ]
        for words in said:
            assert not BARE_CODE.search(words), (code, words)


def test_a_clinicians_own_change_is_told_with_their_note():
    reasons = [{"code": "clinician_adjusted", "text": "Walks well.", "outcome": "advance"}]
    assert wording.patient_reason(reasons, "advance") == (
        "Your physiotherapist changed your level. Their note: “Walks well.”"
    )


@pytest.mark.parametrize("event", ADVERSE_EVENTS)
def test_every_adverse_event_a_session_can_report_is_worded_for_each_reader(event):
    said = [
        wording.adverse_event(event, wording.CLINICIAN),
        wording.adverse_event(event, wording.PATIENT),
        wording.adverse_event_told(event),
    ]
    assert all(words.strip() and not BARE_CODE.search(words) for words in said)
    assert wording.adverse_event_told(event).startswith("I ")


def test_every_questionnaire_part_is_worded_for_each_reader():
    parts = {part for measure in MEASURES.values() for part in measure.subscales}
    assert parts == {"total", *KOOS_SUBSCALES} <= set(wording.SUBSCALES)
    assert wording.subscale("adl", wording.CLINICIAN) == "Daily living"
    assert wording.subscale("adl", wording.PATIENT) == "Everyday activities"


def test_every_day_of_the_portal_calendar_is_worded_for_each_reader():
    # The states the calendar shows: the adherence rule's, its days outside the plan as one.
    outside = {DayState.BEFORE, DayState.AFTER}
    states = {state.value for state in DayState if state not in outside} | {"outside"}
    assert set(wording.CALENDAR_DAYS) == states
    for state in states:
        for audience in wording.AUDIENCES:
            assert not BARE_CODE.search(wording.calendar_day(state, audience))
    assert wording.calendar_day("done") == "walked"
    assert wording.calendar_day("paused") == "plan paused"


def test_a_code_nobody_has_worded_yet_is_shown_in_words_not_as_a_code():
    assert wording.adverse_event("ankle_gave_way", wording.PATIENT) == "ankle gave way"
    assert wording.reason_sentence("new_rule") == "new rule"
    assert wording.reason_because("new_rule") == ""


def test_walking_days_are_listed_in_week_order_with_and():
    assert wording.days_words([4, 0, 2]) == "Monday, Wednesday and Friday"
    assert wording.days_words([6]) == "Sunday"
    assert wording.days_words([]) == ""


def test_words_are_translated_when_read_not_when_the_module_was_imported():
    previous = wording.install_translator(lambda message: f"«{message}»")
    try:
        assert wording.adverse_event("fall", wording.PATIENT) == "«A fall»"
        assert wording.reason_because("fall") == "«you told us about a fall»"
        assert wording.days_words([0]) == "«Monday»"
    finally:
        wording.install_translator(previous)
    assert wording.adverse_event("fall", wording.PATIENT) == "A fall"
