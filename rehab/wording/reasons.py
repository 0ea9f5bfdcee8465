"""A progression decision's reasons in words: one wording for the pages, the portal and the PDF.

Pure Python, no Django. A stored reason is `{"code", "text", "outcome"}`: the clinician reads
its `text` (written with the session's figures when the decision was made), or the code's
sentence when an older row has none; a patient reads the "because ..." phrase of its code.
Nobody ever reads the code itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rehab.clinical.progression import REASON_CODES

__all__ = ("BECAUSE", "because", "join_words", "patient_reason", "reason_text")

# A decision's reasons are written for the clinician ("Worst pain during exercise reached 7/10
# ..."); the patient reads why in these words instead. An unknown code falls back to the
# clinician's text.
BECAUSE: dict[str, str] = {
    "criteria_met": "your pain stayed low and you managed the sessions",
    "worst_pain_high": "your pain during the walk went higher than it should",
    "pain_not_settled": "your pain the next morning was worse than before the walk",
    "effort_high": "the walking felt very hard",
    "fall": "you told us about a fall",
    "chest_pain": "you told us about chest pain",
    "severe_pain": "your pain was very strong",
    "near_fall": "you nearly fell",
    "dizziness": "you felt dizzy",
    "swelling_more": "your knee was more swollen than usual",
    "hold_progression": "your health check asks to keep your level steady for now",
    "lowest_level": "there is no easier level to go back to",
    "setting_not_allowed": (
        "you walked somewhere your plan does not list, so your clinic will check with you first"
    ),
    "beyond_limits": "you walked faster or steeper than your health check allows",
    "too_few_sessions": "there were not yet enough sessions to decide on a change",
    "low_adherence": "some planned sessions were missed",
    "min_days": "you need a few more days at this level before moving on",
    "top_level": "you have reached the last level of the programme",
    "next_level_capped": "the next level goes beyond what your health check allows",
    "step_limit": "you already moved up this week",
    "worst_pain_above_advance": "your pain during the walk was a little too high to move up yet",
    "next_morning_unknown": "we did not have your next-morning pain score",
    "median_effort_high": "the walking still felt quite hard",
    "minutes_short": "some sessions were shorter than planned",
}

# A clinician's own level change stores their note as the reason text under this code.
CLINICIAN_ADJUSTED = "clinician_adjusted"


def reason_text(reason: Mapping[str, str]) -> str:
    """One stored reason as the clinician reads it on every page and in the report."""
    text = (reason.get("text") or "").strip()
    if text:
        return text
    code = reason.get("code") or ""
    return REASON_CODES.get(code) or code.replace("_", " ")


def join_words(parts: Iterable[str]) -> str:
    """'a, b and c', each part once."""
    unique = list(dict.fromkeys(part for part in parts if part))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " and " + unique[-1]


def because(reasons: Iterable[Mapping[str, str]], outcome: str = "") -> str:
    """Why a decision went the way it did, for the patient: 'your pain stayed low and ...'.

    Only the reasons that argued for what happened count (a hold reason beside a regress is not
    why it happened), unless none is marked with that outcome."""
    listed = list(reasons)
    relevant = [r for r in listed if r.get("outcome") == outcome] or listed
    return join_words(
        BECAUSE.get(r.get("code") or "", "") or reason_text(r).rstrip(".") for r in relevant
    )


def patient_reason(reasons: Iterable[Mapping[str, str]], outcome: str = "") -> str:
    """A level change's reasons as one sentence for the patient's report."""
    listed = list(reasons)
    if any(r.get("code") == CLINICIAN_ADJUSTED for r in listed):
        note = next((reason_text(r) for r in listed if r.get("code") == CLINICIAN_ADJUSTED), "")
        return "Your physiotherapist changed your level." + (
            f" Their note: “{note}”" if note else ""
        )
    words = because(listed, outcome)
    if not words:
        return ""
    return f"Because {words}."
