"""Progression and regression rules (docs/clinical.md §4): one pure function, `evaluate`.

Given the plan's levels, its screening constraints and the sessions logged at the current level,
`evaluate` suggests pause, regress, hold or advance, with every reason that fired in plain words;
the session whose report prompted it is judged for its safety signals whatever its day.
Pure Python, no Django: the plan service decides whether a decision applies itself or waits for a
clinician. Every [I] figure is a field of `ProgressionSettings` so a protocol can change it.
rules.py holds `evaluate` and its rules, records.py the vocabulary (outcomes, reason codes) and
what goes in and comes out, settings.py the thresholds, immediate.py which sessions are evaluated
before their log returns.
"""

from rehab.clinical.progression.immediate import evaluate_at_once
from rehab.clinical.progression.records import (
    ADVANCE,
    ADVERSE_EVENTS,
    HOLD,
    HOLD_ALERT_EVENTS,
    OUTCOMES,
    OUTSIDE_PLAN_CODES,
    PAUSE,
    REASON_CODES,
    REGRESS,
    SWELLING,
    Decision,
    Reason,
    SessionRecord,
)
from rehab.clinical.progression.rules import evaluate, outside_plan
from rehab.clinical.progression.settings import ProgressionSettings

__all__ = [
    "ADVANCE",
    "ADVERSE_EVENTS",
    "HOLD",
    "HOLD_ALERT_EVENTS",
    "OUTCOMES",
    "OUTSIDE_PLAN_CODES",
    "PAUSE",
    "REASON_CODES",
    "REGRESS",
    "SWELLING",
    "Decision",
    "ProgressionSettings",
    "Reason",
    "SessionRecord",
    "evaluate",
    "evaluate_at_once",
    "outside_plan",
]
