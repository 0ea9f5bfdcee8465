"""rehab.wording: one wording of a decision's reasons for the pages, the portal and the PDF."""

from rehab import wording
from rehab.clinical.progression import REASON_CODES


def test_the_clinician_reads_the_stored_text_or_the_codes_sentence_never_the_code():
    assert wording.reason_text({"code": "min_days", "text": "Day 3 of 7 at this level."}) == (
        "Day 3 of 7 at this level."
    )
    assert wording.reason_text({"code": "min_days", "text": ""}) == REASON_CODES["min_days"]
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


def test_every_reason_code_has_words_for_the_patient():
    assert set(REASON_CODES) <= set(wording.BECAUSE)


def test_a_clinicians_own_change_is_told_with_their_note():
    reasons = [{"code": "clinician_adjusted", "text": "Walks well.", "outcome": "advance"}]
    assert wording.patient_reason(reasons, "advance") == (
        "Your physiotherapist changed your level. Their note: “Walks well.”"
    )
