"""Which sessions the plan's evaluation must follow at once (CLINICAL.md §4.1).

A session that reports a safety signal is evaluated before its log returns, so that the pause
and the stop message, or the hold's alert, are immediate. Every other session's evaluation may
follow shortly after (the services run it as deferred work): nothing in it can pause the plan or
send an alert that the session alone would not have shown here. (A hold at the lowest level for
high pain or effort is flagged `alert` on the decision, for the dashboard; it sends nothing, and
its flag may follow with the deferred decision.)
"""

from __future__ import annotations

from rehab.clinical.levels import Constraints, Level
from rehab.clinical.progression.records import HOLD_ALERT_EVENTS, SessionRecord
from rehab.clinical.progression.rules import outside_plan
from rehab.clinical.progression.settings import ProgressionSettings


def evaluate_at_once(
    session: SessionRecord, level: Level, constraints: Constraints, settings: ProgressionSettings
) -> bool:
    """True for a fall, chest pain, any pain at the pause threshold, any next-morning pain (a
    regress or a pause can follow from it), a near fall or dizziness (hold and alert), and a
    session done outside what the plan allows at `level` (hold and alert)."""
    if session.fall or session.chest_pain or session.pain_next_morning is not None:
        return True
    if any(getattr(session, event) for event in HOLD_ALERT_EVENTS):
        return True
    scores = (session.pain_before, session.pain_worst, session.pain_after)
    if any(score >= settings.pause_pain for score in scores):
        return True
    return outside_plan(session, level, constraints)
