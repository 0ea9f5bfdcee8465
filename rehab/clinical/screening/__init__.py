"""Contraindication screening: answers in, a verdict out (docs/clinical.md §3).

This package is the one place the screening rules live. `screen()` (rules.py) validates the
answers, applies every rule whose answer is given and combines the outcomes: the most restrictive
status, the most urgent referral, and every fired rule's constraints merged (even under a block,
so the record shows everything a clinician would have to respect after an override). answers.py
holds the questions and how an answer is checked, settings.py the thresholds, reasons.py the
words for each reason.

Pure Python, no Django. Every threshold comes from `ScreeningSettings`, because the clinical
reference requires each [I] figure to be a setting a clinic can change.
"""

from rehab.clinical.screening.answers import (
    EFFUSION_GRADES,
    ITEM_GROUPS,
    ITEM_KINDS,
    ITEMS,
    InvalidAnswers,
    Item,
)
from rehab.clinical.screening.reasons import REASON_TEXT
from rehab.clinical.screening.rules import (
    BLOCKED,
    CLEARED,
    EMERGENCY,
    INCOMPLETE,
    LOW_BACK_RED_FLAGS,
    MODIFIED,
    NO_REFERRAL,
    POST_OP_MILESTONES,
    REFERRALS,
    ROUTINE,
    STATUSES,
    URGENT,
    URGENT_REFERRAL_CODES,
    Verdict,
    fall_risk_constraints,
    negative_answers,
    required_items,
    screen,
    valid_until,
)
from rehab.clinical.screening.settings import ScreeningSettings

__all__ = [
    "BLOCKED",
    "CLEARED",
    "EFFUSION_GRADES",
    "EMERGENCY",
    "INCOMPLETE",
    "ITEMS",
    "ITEM_GROUPS",
    "ITEM_KINDS",
    "LOW_BACK_RED_FLAGS",
    "MODIFIED",
    "NO_REFERRAL",
    "POST_OP_MILESTONES",
    "REASON_TEXT",
    "REFERRALS",
    "ROUTINE",
    "STATUSES",
    "URGENT",
    "URGENT_REFERRAL_CODES",
    "InvalidAnswers",
    "Item",
    "ScreeningSettings",
    "Verdict",
    "fall_risk_constraints",
    "negative_answers",
    "required_items",
    "screen",
    "valid_until",
]
