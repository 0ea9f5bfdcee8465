"""A progression decision's reasons in words, for the clinician and for the patient: one wording
for the pages, the portal and the PDF.

Pure Python, no Django. A stored reason is `{"code", "text", "outcome"}`: the clinician reads
its `text` (written with the session's figures when the decision was made), or the code's
sentence when an older row has none; a patient reads the "because ..." phrase of its code.
Nobody ever reads the code itself. Every code the engine can give
(rehab.clinical.progression.REASON_CODES) is worded here for both readers; a test holds to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rehab.wording.i18n import gettext as _
from rehab.wording.i18n import gettext_noop
from rehab.wording.lists import join_words
from rehab.wording.vocabulary import CLINICIAN, PATIENT, Words

__all__ = (
    "CLINICIAN_ADJUSTED",
    "REASONS",
    "because",
    "patient_reason",
    "reason_because",
    "reason_sentence",
    "reason_text",
)

# code -> (the clinician's sentence, the patient's "because ..." phrase). A decision's stored
# reasons are written for the clinician ("Worst pain during exercise reached 7/10 ..."); the
# patient reads why in the second words instead.
REASONS: dict[str, Words] = {
    # pause
    "fall": Words(
        gettext_noop("A fall was reported: pause and alert the clinician."),
        gettext_noop("you told us about a fall"),
    ),
    "chest_pain": Words(
        gettext_noop("Chest pain was reported: pause and alert the clinician."),
        gettext_noop("you told us about chest pain"),
    ),
    "severe_pain": Words(
        gettext_noop("A pain score reached the pause threshold: pause and alert the clinician."),
        gettext_noop("your pain was very strong"),
    ),
    # regress
    "worst_pain_high": Words(
        gettext_noop("Worst pain during exercise was above the regress threshold."),
        gettext_noop("your pain during the walk went higher than it should"),
    ),
    "pain_not_settled": Words(
        gettext_noop("Next-morning pain was above the pain before that session."),
        gettext_noop("your pain the next morning was worse than before the walk"),
    ),
    "effort_high": Words(
        gettext_noop("Effort (Borg CR10) reached the regress threshold."),
        gettext_noop("the walking felt very hard"),
    ),
    # hold
    "near_fall": Words(
        gettext_noop("A near fall was reported: hold and alert the clinician."),
        gettext_noop("you nearly fell"),
    ),
    "dizziness": Words(
        gettext_noop("Dizziness was reported: hold and alert the clinician."),
        gettext_noop("you felt dizzy"),
    ),
    "setting_not_allowed": Words(
        gettext_noop(
            "A session was logged on a setting the plan does not allow: hold and "
            "alert the clinician."
        ),
        gettext_noop(
            "you walked somewhere your plan does not list, so your clinic will check with you first"
        ),
    ),
    "beyond_limits": Words(
        gettext_noop(
            "A session was logged faster or steeper than the screening's limits: hold "
            "and alert the clinician."
        ),
        gettext_noop("you walked faster or steeper than your health check allows"),
    ),
    "lowest_level": Words(
        gettext_noop("Regression was indicated at the first level: hold, the clinician reviews."),
        gettext_noop("there is no easier level to go back to"),
    ),
    "too_few_sessions": Words(
        gettext_noop("Fewer sessions in the window than the minimum needed to judge progress."),
        gettext_noop("there were not yet enough sessions to decide on a change"),
    ),
    "low_adherence": Words(
        gettext_noop("Fewer than the required share of prescribed sessions were logged."),
        gettext_noop("some planned sessions were missed"),
    ),
    "swelling_more": Words(
        gettext_noop("Knee swelling was more than usual."),
        gettext_noop("your knee was more swollen than usual"),
    ),
    "hold_progression": Words(
        gettext_noop("The screening constraints hold progression."),
        gettext_noop("your health check asks to keep your level steady for now"),
    ),
    "min_days": Words(
        gettext_noop("The minimum number of days at this level has not been reached."),
        gettext_noop("you need a few more days at this level before moving on"),
    ),
    "top_level": Words(
        gettext_noop("This is the last level: the protocol is finished."),
        gettext_noop("you have reached the last level of the programme"),
    ),
    "next_level_capped": Words(
        gettext_noop("The next level would go beyond the screening constraints."),
        gettext_noop("the next level goes beyond what your health check allows"),
    ),
    "step_limit": Words(
        gettext_noop("The maximum number of advances in 7 days has been reached."),
        gettext_noop("you already moved up this week"),
    ),
    "worst_pain_above_advance": Words(
        gettext_noop("Worst pain was above the advance limit (not the regress one)."),
        gettext_noop("your pain during the walk was a little too high to move up yet"),
    ),
    "next_morning_unknown": Words(
        gettext_noop("Next-morning pain was not recorded, so settling cannot be confirmed."),
        gettext_noop("we did not have your next-morning pain score"),
    ),
    "median_effort_high": Words(
        gettext_noop("Median effort was above the advance threshold."),
        gettext_noop("the walking still felt quite hard"),
    ),
    "minutes_short": Words(
        gettext_noop(
            "A session's minutes fell short of the share of the target needed to advance."
        ),
        gettext_noop("some sessions were shorter than planned"),
    ),
    # advance
    "criteria_met": Words(
        gettext_noop("Every advance criterion was met."),
        gettext_noop("your pain stayed low and you managed the sessions"),
    ),
}

# A clinician's own level change stores their note as the reason text under this code.
CLINICIAN_ADJUSTED = "clinician_adjusted"


def reason_sentence(code: str) -> str:
    """The code's sentence for a clinician; a code nobody has worded yet, with spaces."""
    known = REASONS.get(code)
    return known.read_by(CLINICIAN) if known else code.replace("_", " ")


def reason_because(code: str) -> str:
    """The code's "because ..." phrase for a patient ('you nearly fell'); "" when unknown."""
    known = REASONS.get(code)
    return known.read_by(PATIENT) if known else ""


def reason_text(reason: Mapping[str, str]) -> str:
    """One stored reason as the clinician reads it on every page and in the report."""
    text = (reason.get("text") or "").strip()
    if text:
        return text
    return reason_sentence(reason.get("code") or "")


def because(reasons: Iterable[Mapping[str, str]], outcome: str = "") -> str:
    """Why a decision went the way it did, for the patient: 'your pain stayed low and ...'.

    Only the reasons that argued for what happened count (a hold reason beside a regress is not
    why it happened), unless none is marked with that outcome. An unknown code falls back to
    the clinician's text."""
    listed = list(reasons)
    relevant = [r for r in listed if r.get("outcome") == outcome] or listed
    return join_words(
        reason_because(r.get("code") or "") or reason_text(r).rstrip(".") for r in relevant
    )


def patient_reason(reasons: Iterable[Mapping[str, str]], outcome: str = "") -> str:
    """A level change's reasons as one sentence for the patient's report."""
    listed = list(reasons)
    if any(r.get("code") == CLINICIAN_ADJUSTED for r in listed):
        note = next((reason_text(r) for r in listed if r.get("code") == CLINICIAN_ADJUSTED), "")
        changed = _("Your physiotherapist changed your level.")
        return changed + (" " + _("Their note: “%(note)s”") % {"note": note} if note else "")
    words = because(listed, outcome)
    if not words:
        return ""
    return _("Because %(reasons)s.") % {"reasons": words}
