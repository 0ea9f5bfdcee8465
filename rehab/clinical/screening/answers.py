"""The screening's questions: every answer code, what it takes, and how an answer is checked."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rehab.clinical.levels import CONDITIONS

EFFUSION_GRADES: tuple[str, ...] = ("none", "trace", "1+", "2+", "3+")


# --- The answer vocabulary --------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One answer code: what it asks, what kind of value it takes and where a form shows it."""

    code: str
    label: str
    kind: str  # "bool" | "count" | "number" | "grade" | "condition"
    group: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


ITEM_KINDS: tuple[str, ...] = ("bool", "count", "number", "grade", "condition")
ITEM_GROUPS: tuple[str, ...] = (
    "red_flags",
    "cardiovascular",
    "general",
    "falls",
    "knee",
    "low_back",
    "post_op",
    "measurements",
    "other",
)


def _bool(code: str, label: str, group: str) -> Item:
    return Item(code=code, label=label, kind="bool", group=group)


def _number(code: str, label: str, group: str, unit: str, low: float, high: float) -> Item:
    return Item(
        code=code, label=label, kind="number", group=group, unit=unit, minimum=low, maximum=high
    )


_ITEM_LIST: tuple[Item, ...] = (
    # Red flags: the answers that call for an emergency or urgent referral.
    _bool(
        "saddle_anaesthesia",
        "New numbness in the saddle area (between the legs, buttocks or inner thighs)?",
        "red_flags",
    ),
    _bool(
        "new_bladder_bowel_dysfunction",
        "New difficulty controlling or passing urine or stools?",
        "red_flags",
    ),
    _bool(
        "progressive_neurological_deficit",
        "Leg weakness, numbness or tingling that is getting worse?",
        "red_flags",
    ),
    _bool(
        "unstable_cardiac_symptoms",
        "Unstable heart symptoms: chest pain at rest, an uncontrolled arrhythmia or "
        "decompensated heart failure?",
        "red_flags",
    ),
    _bool(
        "suspected_dvt",
        "New one-sided calf pain or swelling that has not been assessed (possible DVT)?",
        "red_flags",
    ),
    # Cardiovascular.
    _number(
        "resting_bp_systolic",
        "What is the resting systolic blood pressure?",
        "cardiovascular",
        "mmHg",
        50,
        300,
    ),
    _number(
        "resting_bp_diastolic",
        "What is the resting diastolic blood pressure?",
        "cardiovascular",
        "mmHg",
        20,
        200,
    ),
    _bool("anticoagulated", "Taking anticoagulant (blood-thinning) medication?", "cardiovascular"),
    _bool("beta_blockers", "Taking a beta-blocker?", "cardiovascular"),
    # General health.
    _bool("fever_or_systemic_infection", "A fever or a systemic infection at present?", "general"),
    _bool("acute_vertigo", "New, acute vertigo (a spinning sensation)?", "general"),
    _bool("unexplained_syncope", "Fainting or blackouts with no known cause?", "general"),
    _bool(
        "weight_bearing_restriction",
        "Under a weight-bearing restriction (non, toe-touch or partial weight bearing)?",
        "general",
    ),
    _bool("chronic_dizziness", "Long-standing dizziness or imbalance?", "general"),
    _bool("poor_vision", "Poor eyesight, even with glasses?", "general"),
    _bool(
        "peripheral_neuropathy", "Peripheral neuropathy (reduced feeling in the feet)?", "general"
    ),
    _bool("osteoporosis", "Osteoporosis?", "general"),
    _bool(
        "cognitive_impairment",
        "Memory or thinking problems that make following safety instructions hard?",
        "general",
    ),
    # Falls (CDC STEADI key questions).
    Item(
        code="falls_past_12_months",
        label="How many times has the patient fallen in the past 12 months?",
        kind="count",
        group="falls",
        unit="falls",
        minimum=0,
    ),
    _bool("feels_unsteady", "Feels unsteady when standing or walking?", "falls"),
    _bool("worries_about_falling", "Worries about falling?", "falls"),
    # Knee.
    Item(
        code="knee_effusion",
        label="How much knee swelling on the stroke test?",
        kind="grade",
        group="knee",
        choices=EFFUSION_GRADES,
    ),
    _bool(
        "acute_injury_or_hot_joint",
        "A new knee injury, or a hot, red, acutely inflamed joint?",
        "knee",
    ),
    _bool("locked_brace", "Wearing a brace locked in extension?", "knee"),
    # Low-back red flags (AHCPR): malignancy, infection, fracture.
    _bool("cancer_history", "A history of cancer?", "low_back"),
    _bool("unexplained_weight_loss", "Weight loss with no known cause?", "low_back"),
    _bool("iv_drug_use", "Intravenous drug use?", "low_back"),
    _bool("immunosuppression", "Immunosuppressed, by illness or medication?", "low_back"),
    _bool("severe_night_pain", "Severe back pain at night or at rest?", "low_back"),
    _bool(
        "recent_major_trauma",
        "Recent major trauma (such as a road accident or a fall from a height)?",
        "low_back",
    ),
    _bool(
        "minor_trauma_with_osteoporosis",
        "Minor trauma (such as a strain or a minor fall) in someone with osteoporosis?",
        "low_back",
    ),
    _bool("long_term_steroids", "Long-term steroid tablets or injections?", "low_back"),
    # Post-op milestones.
    _number(
        "weeks_since_surgery",
        "How many weeks since the operation?",
        "post_op",
        "weeks",
        0,
        520,
    ),
    _bool("full_weight_bearing", "Walks with full weight bearing, without crutches?", "post_op"),
    _bool("full_knee_extension", "Can the knee straighten fully?", "post_op"),
    _bool(
        "extensor_lag",
        "Extensor lag on a straight-leg raise (the knee bends as the leg lifts)?",
        "post_op",
    ),
    _bool("walks_forward_normally", "Walks forward with a normal gait?", "post_op"),
    # Optional measurements.
    _number("tug_seconds", "Timed Up and Go (TUG) time?", "measurements", "s", 0, 300),
    _number("berg_score", "Berg Balance Scale score (0-56)?", "measurements", "points", 0, 56),
    _number(
        "backward_walk_3m_seconds",
        "3-metre backward walk test time?",
        "measurements",
        "s",
        0,
        300,
    ),
    # The condition itself.
    Item(
        code="condition",
        label="Which condition is backward walking prescribed for?",
        kind="condition",
        group="other",
        choices=tuple(CONDITIONS),
    ),
)

ITEMS: dict[str, Item] = {item.code: item for item in _ITEM_LIST}

# The Berg scale is scored in whole points; a fractional score means a data-entry mistake.
_WHOLE_NUMBER_ITEMS = frozenset({"berg_score"})


# --- Validation -------------------------------------------------------------------------------


class InvalidAnswers(ValueError):
    """The answers could not be screened; `errors` maps each bad answer code to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        # args holds the errors so the exception survives pickling (e.g. across a task queue).
        super().__init__(self.errors)

    def __str__(self) -> str:
        details = "; ".join(f"{code}: {message}" for code, message in self.errors.items())
        return f"invalid screening answers: {details}"


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    return f"{type(value).__name__} {value!r}"


def _check_value(item: Item, value: Any) -> str | None:
    """An error message for a given (non-None) value, or None when it is acceptable."""
    if item.kind == "bool":
        # 0/1 and "yes"/"no" are refused: a form that sends them has a bug we want to see.
        if not isinstance(value, bool):
            return f"must be true or false, not {type_name(value)}"
        return None
    if item.kind == "count":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, not {type_name(value)}"
        if value < 0:
            return f"must not be negative, not {value!r}"
        return None
    if item.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, not {type_name(value)}"
        if item.code in _WHOLE_NUMBER_ITEMS and not isinstance(value, int):
            return f"must be a whole number, not {value!r}"
        # NaN compares false with everything and would slip through every threshold unseen.
        if not math.isfinite(value):
            return f"must be a finite number, not {value!r}"
        low = -math.inf if item.minimum is None else item.minimum
        high = math.inf if item.maximum is None else item.maximum
        if not low <= value <= high:
            unit = f" {item.unit}" if item.unit else ""
            return f"must be from {low:g} to {high:g}{unit}, not {value!r}"
        return None
    # "grade" and "condition": one of the listed choices.
    if not isinstance(value, str) or value not in item.choices:
        return f"must be one of {', '.join(item.choices)}; got {type_name(value)}"
    return None


def validate_answers(answers: Any) -> None:
    if not isinstance(answers, Mapping):
        raise InvalidAnswers(
            {"answers": f"must be a mapping of answer code to value, not {type_name(answers)}"}
        )
    errors: dict[str, str] = {}
    for key, value in answers.items():
        item = ITEMS.get(key) if isinstance(key, str) else None
        if item is None:
            # An unknown code is never ignored: a misspelt red flag read as "absent" could clear
            # a patient who should have been referred.
            message = "is not a screening answer code"
            close = difflib.get_close_matches(str(key), ITEMS, n=1) if isinstance(key, str) else []
            if close:
                message += f" (did you mean {close[0]!r}?)"
            errors[str(key)] = message
            continue
        if value is None:
            continue
        problem = _check_value(item, value)
        if problem is not None:
            errors[key] = problem
    if errors:
        raise InvalidAnswers(errors)
