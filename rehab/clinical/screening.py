"""Contraindication screening: answers in, a verdict out (docs/clinical.md §3).

This module is the one place the screening rules live. `screen()` validates the answers, applies
every rule whose answer is given and combines the outcomes: the most restrictive status, the most
urgent referral, and every fired rule's constraints merged (even under a block, so the record
shows everything a clinician would have to respect after an override).

Pure Python, no Django. Every threshold comes from `ScreeningSettings`, because the clinical
reference requires each [I] figure to be a setting a clinic can change.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from rehab.clinical.levels import (
    ACL_RECONSTRUCTION,
    CONDITIONS,
    KNEE_CONDITIONS,
    LOW_BACK_CONDITIONS,
    PARALLEL_BARS,
    POST_OP_CONDITIONS,
    TOTAL_KNEE_ARTHROPLASTY,
    TREADMILL_BOTH_HANDRAILS,
    Constraints,
)

__all__ = [
    "ITEMS",
    "REASON_TEXT",
    "REFERRALS",
    "STATUSES",
    "URGENT_REFERRAL_CODES",
    "InvalidAnswers",
    "Item",
    "ScreeningSettings",
    "Verdict",
    "fall_risk_constraints",
    "required_items",
    "screen",
    "valid_until",
]

STATUSES: tuple[str, ...] = ("cleared", "modified", "incomplete", "blocked")
REFERRALS: tuple[str, ...] = ("none", "routine", "urgent", "emergency")

CLEARED, MODIFIED, INCOMPLETE, BLOCKED = STATUSES
NO_REFERRAL, ROUTINE, URGENT, EMERGENCY = REFERRALS

EFFUSION_GRADES: tuple[str, ...] = ("none", "trace", "1+", "2+", "3+")


# --- Settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningSettings:
    """The clinic-changeable figures of the screening rules.

    Comparisons: "block"/"modify"/"fall_risk" thresholds trigger at or above the figure, the
    `*_below` Berg figures and the minimum weeks trigger strictly below it.
    """

    validity_days: int = 90
    bp_block_systolic: int = 180
    bp_block_diastolic: int = 110
    bp_modify_systolic: int = 160
    bp_modify_diastolic: int = 100
    tug_fall_risk_seconds: float = 12.0
    berg_block_below: int = 40
    berg_fall_risk_below: int = 46
    backward_walk_3m_fall_risk_seconds: float = 5.5
    fall_risk_max_speed_kmh: float = 1.5
    fall_risk_max_incline_pct: float = 0.0
    acl_min_weeks_since_surgery: int = 4
    tka_min_weeks_since_surgery: int = 6

    def __post_init__(self) -> None:
        errors = _settings_errors(self)
        if errors:
            raise ValueError(_settings_message(errors))
        # Normalise float fields so a settings object built from JSON ints (12) and one built
        # from floats (12.0) serialise identically.
        for name, spec in _SETTING_SPECS.items():
            if spec.kind is float:
                object.__setattr__(self, name, float(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ScreeningSettings:
        """Partial overrides on the defaults; an unknown key or a bad value is a ValueError."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(
                f"screening settings must be a mapping of name to value, not {type_name(data)}"
            )
        unknown = [str(key) for key in data if key not in _SETTING_SPECS]
        if unknown:
            known = ", ".join(_SETTING_SPECS)
            raise ValueError(
                f"unknown screening setting(s): {', '.join(sorted(unknown))} (known: {known})"
            )
        return cls(**dict(data))


@dataclass(frozen=True)
class _SettingSpec:
    kind: type
    minimum: float
    maximum: float
    # Zero is a meaningful "never" for some figures (e.g. no minimum weeks) but a speed cap of
    # zero would forbid walking altogether, so those ranges exclude their minimum.
    exclusive_minimum: bool = False


_SETTING_SPECS: dict[str, _SettingSpec] = {
    "validity_days": _SettingSpec(int, 1, 3650),
    "bp_block_systolic": _SettingSpec(int, 50, 300),
    "bp_block_diastolic": _SettingSpec(int, 20, 200),
    "bp_modify_systolic": _SettingSpec(int, 50, 300),
    "bp_modify_diastolic": _SettingSpec(int, 20, 200),
    "tug_fall_risk_seconds": _SettingSpec(float, 0, 300, exclusive_minimum=True),
    "berg_block_below": _SettingSpec(int, 0, 57),
    "berg_fall_risk_below": _SettingSpec(int, 0, 57),
    "backward_walk_3m_fall_risk_seconds": _SettingSpec(float, 0, 300, exclusive_minimum=True),
    "fall_risk_max_speed_kmh": _SettingSpec(float, 0, 20, exclusive_minimum=True),
    "fall_risk_max_incline_pct": _SettingSpec(float, 0, 40),
    "acl_min_weeks_since_surgery": _SettingSpec(int, 0, 520),
    "tka_min_weeks_since_surgery": _SettingSpec(int, 0, 520),
}


def _settings_errors(settings: ScreeningSettings) -> dict[str, str]:
    errors: dict[str, str] = {}
    for f in fields(settings):
        spec = _SETTING_SPECS[f.name]
        value = getattr(settings, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            wanted = "a whole number" if spec.kind is int else "a number"
            errors[f.name] = f"must be {wanted}, not {type_name(value)}"
            continue
        if spec.kind is int and not isinstance(value, int):
            errors[f.name] = f"must be a whole number, not {value!r}"
            continue
        if not math.isfinite(value):
            errors[f.name] = f"must be a finite number, not {value!r}"
            continue
        low_ok = value > spec.minimum if spec.exclusive_minimum else value >= spec.minimum
        if not low_ok or value > spec.maximum:
            low = "above" if spec.exclusive_minimum else "from"
            errors[f.name] = f"must be {low} {spec.minimum:g} to {spec.maximum:g}, not {value!r}"
    # A modify band above its block threshold, or a Berg block line above the fall-risk line, is
    # almost certainly a typo and would make the rules read backwards.
    pairs = (
        ("bp_modify_systolic", "bp_block_systolic"),
        ("bp_modify_diastolic", "bp_block_diastolic"),
        ("berg_block_below", "berg_fall_risk_below"),
    )
    for lower, upper in pairs:
        if lower in errors or upper in errors:
            continue
        if getattr(settings, lower) > getattr(settings, upper):
            errors[lower] = f"must not be greater than {upper} ({getattr(settings, upper)!r})"
    return errors


def _settings_message(errors: Mapping[str, str]) -> str:
    details = "; ".join(f"{name} {message}" for name, message in errors.items())
    return f"invalid screening settings: {details}"


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

_ALL_CONDITIONS_REQUIRED = (
    "unstable_cardiac_symptoms",
    "suspected_dvt",
    "fever_or_systemic_infection",
    "acute_vertigo",
    "unexplained_syncope",
    "weight_bearing_restriction",
    "falls_past_12_months",
    "feels_unsteady",
    "worries_about_falling",
)
_KNEE_REQUIRED = ("knee_effusion", "acute_injury_or_hot_joint", "locked_brace")
_CAUDA_EQUINA = (
    "saddle_anaesthesia",
    "new_bladder_bowel_dysfunction",
    "progressive_neurological_deficit",
)
# The yes/no answers that refer urgently or as an emergency, whatever a clinic's settings: the
# rules below read them from here, and the dashboard's referral banner names the reasons among a
# verdict's that caused its referral (a blocked verdict may carry lesser reasons as well).
URGENT_REFERRAL_CODES: dict[str, str] = {
    **dict.fromkeys(_CAUDA_EQUINA, EMERGENCY),
    "unstable_cardiac_symptoms": URGENT,
    "suspected_dvt": URGENT,
}
LOW_BACK_RED_FLAGS: tuple[str, ...] = (
    "cancer_history",
    "unexplained_weight_loss",
    "iv_drug_use",
    "immunosuppression",
    "severe_night_pain",
    "recent_major_trauma",
    "minor_trauma_with_osteoporosis",
    "long_term_steroids",
)
POST_OP_MILESTONES: tuple[str, ...] = (
    "weeks_since_surgery",
    "full_weight_bearing",
    "full_knee_extension",
    "extensor_lag",
    "walks_forward_normally",
)


def _in_item_order(codes: set[str] | frozenset[str]) -> tuple[str, ...]:
    return tuple(code for code in ITEMS if code in codes)


def _required_for(condition: str | None) -> tuple[str, ...]:
    codes = set(_ALL_CONDITIONS_REQUIRED)
    if condition in KNEE_CONDITIONS:
        codes.update(_KNEE_REQUIRED)
    if condition in LOW_BACK_CONDITIONS:
        codes.update(_CAUDA_EQUINA, LOW_BACK_RED_FLAGS)
    if condition in POST_OP_CONDITIONS:
        codes.update(POST_OP_MILESTONES)
    return _in_item_order(codes)


def required_items(condition: str) -> tuple[str, ...]:
    """The answer codes that must be given for this condition, in ITEMS order.

    "condition" itself is not listed: it is the argument, and always required.
    """
    if condition not in CONDITIONS:
        raise ValueError(
            f"unknown condition {condition!r}; expected one of {', '.join(CONDITIONS)}"
        )
    return _required_for(condition)


def negative_answers(condition: str) -> dict[str, Any]:
    """A complete answer set with no finding at all: every required item answered "no" (or
    none, 0), post-op milestones met. For demo data, tests and benchmarks only: a form must
    never start from it, because a red flag must be asked, not assumed absent."""
    answers: dict[str, Any] = {"condition": condition}
    for code in required_items(condition):
        kind = ITEMS[code].kind
        answers[code] = {"bool": False, "count": 0, "grade": "none"}.get(kind)
    if condition in POST_OP_CONDITIONS:
        answers.update(
            weeks_since_surgery=12,
            full_weight_bearing=True,
            full_knee_extension=True,
            extensor_lag=False,
            walks_forward_normally=True,
        )
    return answers


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


# --- Rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    status: str  # MODIFIED or BLOCKED
    referral: str
    constraints: Constraints = field(default_factory=Constraints)


_Rule = Callable[[Any, ScreeningSettings], _Outcome | None]


def fall_risk_constraints(settings: ScreeningSettings | None = None) -> Constraints:
    """The fall-risk constraints of §3: supervised, both handrails or bars, slow, level."""
    settings = settings or ScreeningSettings()
    return Constraints(
        supervised_only=True,
        handrails_required=True,
        allowed_settings=frozenset({PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS}),
        max_speed_kmh=settings.fall_risk_max_speed_kmh,
        max_incline_pct=settings.fall_risk_max_incline_pct,
    )


_SUPERVISED_HANDRAILS = Constraints(supervised_only=True, handrails_required=True)
_BP_CONSTRAINTS = Constraints(supervised_only=True, bp_check_each_session=True)


def _when_true(status: str, referral: str, constraints: Constraints | None = None) -> _Rule:
    outcome = _Outcome(status, referral, constraints or Constraints())

    def rule(value: Any, settings: ScreeningSettings) -> _Outcome | None:
        return outcome if value is True else None

    return rule


def _when_false(status: str, referral: str) -> _Rule:
    outcome = _Outcome(status, referral)

    def rule(value: Any, settings: ScreeningSettings) -> _Outcome | None:
        return outcome if value is False else None

    return rule


def _fall_risk_when(predicate: Callable[[Any, ScreeningSettings], bool]) -> _Rule:
    def rule(value: Any, settings: ScreeningSettings) -> _Outcome | None:
        if predicate(value, settings):
            return _Outcome(MODIFIED, NO_REFERRAL, fall_risk_constraints(settings))
        return None

    return rule


def _blood_pressure(block_field: str, modify_field: str) -> _Rule:
    def rule(value: Any, settings: ScreeningSettings) -> _Outcome | None:
        # The blocking band keeps the modify band's constraints so that a higher reading never
        # leaves a record (or an overridden plan) with fewer precautions than a lower one.
        if value >= getattr(settings, block_field):
            return _Outcome(BLOCKED, ROUTINE, _BP_CONSTRAINTS)
        if value >= getattr(settings, modify_field):
            return _Outcome(MODIFIED, NO_REFERRAL, _BP_CONSTRAINTS)
        return None

    return rule


def _knee_effusion(value: Any, settings: ScreeningSettings) -> _Outcome | None:
    # The stroke-test grade is a swelling to treat, not a medical matter: no referral. A block
    # keeps the 1+ grade's hold so a worse grade never carries fewer precautions.
    hold = Constraints(hold_progression=True)
    if value in ("2+", "3+"):
        return _Outcome(BLOCKED, NO_REFERRAL, hold)
    if value == "1+":
        return _Outcome(MODIFIED, NO_REFERRAL, hold)
    return None


def _berg(value: Any, settings: ScreeningSettings) -> _Outcome | None:
    if value < settings.berg_block_below:
        # Backward walking is blocked but parallel-bars work may go on: if a clinician overrides,
        # the fall-risk constraints still hold and only the bars remain.
        constraints = fall_risk_constraints(settings).merge(
            Constraints(allowed_settings=frozenset({PARALLEL_BARS}))
        )
        return _Outcome(BLOCKED, NO_REFERRAL, constraints)
    if value < settings.berg_fall_risk_below:
        return _Outcome(MODIFIED, NO_REFERRAL, fall_risk_constraints(settings))
    return None


_MIN_WEEKS_FIELD = {
    ACL_RECONSTRUCTION: "acl_min_weeks_since_surgery",
    TOTAL_KNEE_ARTHROPLASTY: "tka_min_weeks_since_surgery",
}


def _rules() -> dict[str, _Rule]:
    rules: dict[str, _Rule] = {}
    for code, referral in URGENT_REFERRAL_CODES.items():
        rules[code] = _when_true(BLOCKED, referral)
    rules["resting_bp_systolic"] = _blood_pressure("bp_block_systolic", "bp_modify_systolic")
    rules["resting_bp_diastolic"] = _blood_pressure("bp_block_diastolic", "bp_modify_diastolic")
    rules["anticoagulated"] = _when_true(
        MODIFIED, NO_REFERRAL, Constraints(handrails_required=True)
    )
    rules["beta_blockers"] = _when_true(MODIFIED, NO_REFERRAL, Constraints(intensity_by_rpe=True))
    rules["fever_or_systemic_infection"] = _when_true(BLOCKED, ROUTINE)
    rules["acute_vertigo"] = _when_true(BLOCKED, ROUTINE)
    rules["unexplained_syncope"] = _when_true(BLOCKED, ROUTINE)
    # Blocked until the surgeon lifts the restriction: nobody else needs to see the patient.
    rules["weight_bearing_restriction"] = _when_true(BLOCKED, NO_REFERRAL)
    for code in (
        "chronic_dizziness",
        "poor_vision",
        "peripheral_neuropathy",
        "osteoporosis",
        "cognitive_impairment",
    ):
        rules[code] = _when_true(MODIFIED, NO_REFERRAL, _SUPERVISED_HANDRAILS)
    rules["falls_past_12_months"] = _fall_risk_when(lambda value, _: value >= 1)
    rules["feels_unsteady"] = _fall_risk_when(lambda value, _: value is True)
    rules["worries_about_falling"] = _fall_risk_when(lambda value, _: value is True)
    rules["knee_effusion"] = _knee_effusion
    # The table names no referral for a hot joint or a new injury, but either needs a medical
    # look (infection, crystal arthritis, structural damage) before exercise, so: routine.
    rules["acute_injury_or_hot_joint"] = _when_true(BLOCKED, ROUTINE)
    rules["locked_brace"] = _when_true(BLOCKED, NO_REFERRAL)
    for code in LOW_BACK_RED_FLAGS:
        rules[code] = _when_true(BLOCKED, ROUTINE)
    # weeks_since_surgery depends on the condition; screen() handles it.
    rules["full_weight_bearing"] = _when_false(BLOCKED, NO_REFERRAL)
    rules["full_knee_extension"] = _when_false(BLOCKED, NO_REFERRAL)
    rules["extensor_lag"] = _when_true(BLOCKED, NO_REFERRAL)
    rules["walks_forward_normally"] = _when_false(BLOCKED, NO_REFERRAL)
    rules["tug_seconds"] = _fall_risk_when(lambda value, s: value >= s.tug_fall_risk_seconds)
    rules["berg_score"] = _berg
    rules["backward_walk_3m_seconds"] = _fall_risk_when(
        lambda value, s: value >= s.backward_walk_3m_fall_risk_seconds
    )
    return rules


_RULES = _rules()

# Items whose rule applies only to some conditions; every other rule fires for any condition.
_RULE_SCOPE: dict[str, frozenset[str]] = {
    **dict.fromkeys(LOW_BACK_RED_FLAGS, LOW_BACK_CONDITIONS),
    **dict.fromkeys(POST_OP_MILESTONES, POST_OP_CONDITIONS),
}


REASON_TEXT: dict[str, str] = {
    "saddle_anaesthesia": (
        "New saddle numbness can mean cauda equina syndrome: send the patient for emergency "
        "assessment today."
    ),
    "new_bladder_bowel_dysfunction": (
        "New bladder or bowel dysfunction can mean cauda equina syndrome: send the patient for "
        "emergency assessment today."
    ),
    "progressive_neurological_deficit": (
        "Worsening leg weakness or numbness can mean cauda equina syndrome or nerve compression: "
        "send the patient for emergency assessment today."
    ),
    "unstable_cardiac_symptoms": (
        "Unstable heart symptoms rule out exercise until a doctor has assessed the patient "
        "urgently."
    ),
    "suspected_dvt": (
        "A possible deep-vein thrombosis must be assessed urgently by a doctor before any "
        "walking exercise."
    ),
    "resting_bp_systolic": (
        "Resting systolic blood pressure is raised: in the blocking range exercise waits for a "
        "medical review; below it, sessions are supervised with a blood-pressure check each time."
    ),
    "resting_bp_diastolic": (
        "Resting diastolic blood pressure is raised: in the blocking range exercise waits for a "
        "medical review; below it, sessions are supervised with a blood-pressure check each time."
    ),
    "anticoagulated": (
        "Anticoagulants make a fall more dangerous (bleeding), so the patient must hold the "
        "handrails."
    ),
    "beta_blockers": (
        "Beta-blockers blunt the heart rate, so set intensity by perceived effort (RPE), not by "
        "heart rate."
    ),
    "fever_or_systemic_infection": (
        "A fever or systemic infection rules out exercise for now; refer to the doctor and "
        "rescreen when it has settled."
    ),
    "acute_vertigo": (
        "Acute vertigo needs a medical assessment before backward walking, which relies on balance."
    ),
    "unexplained_syncope": (
        "Unexplained fainting needs a medical assessment before any walking exercise."
    ),
    "weight_bearing_restriction": (
        "The patient is under a weight-bearing restriction; backward walking waits until the "
        "surgeon lifts it."
    ),
    "chronic_dizziness": (
        "Long-standing dizziness raises the risk of falling: supervised sessions holding the "
        "handrails only."
    ),
    "poor_vision": (
        "Poor eyesight raises the risk of falling: supervised sessions holding the handrails only."
    ),
    "peripheral_neuropathy": (
        "Reduced feeling in the feet raises the risk of falling: supervised sessions holding the "
        "handrails only."
    ),
    "osteoporosis": (
        "Osteoporosis makes a fall more likely to break a bone: supervised sessions holding the "
        "handrails only."
    ),
    "cognitive_impairment": (
        "Memory or thinking problems make safety instructions harder to follow: supervised "
        "sessions holding the handrails only."
    ),
    "falls_past_12_months": (
        "A fall in the past year means a raised fall risk: supervised, both handrails or "
        "parallel bars, slow and level."
    ),
    "feels_unsteady": (
        "Feeling unsteady means a raised fall risk: supervised, both handrails or parallel "
        "bars, slow and level."
    ),
    "worries_about_falling": (
        "Worry about falling means a raised fall risk: supervised, both handrails or parallel "
        "bars, slow and level."
    ),
    "knee_effusion": (
        "The knee is swollen: a large effusion (2+ or more) must be treated before backward "
        "walking starts; at 1+ the plan holds at its level until the swelling settles."
    ),
    "acute_injury_or_hot_joint": (
        "A new injury or a hot, inflamed joint needs a medical look before exercise."
    ),
    "locked_brace": ("The brace is locked; backward walking waits until the surgeon unlocks it."),
    "cancer_history": (
        "With back pain, a history of cancer is a red flag for spinal malignancy: refer to rule "
        "it out before exercise."
    ),
    "unexplained_weight_loss": (
        "With back pain, unexplained weight loss is a red flag for malignancy or infection: "
        "refer to rule them out before exercise."
    ),
    "iv_drug_use": (
        "With back pain, intravenous drug use is a red flag for spinal infection: refer to rule "
        "it out before exercise."
    ),
    "immunosuppression": (
        "With back pain, immunosuppression is a red flag for spinal infection: refer to rule it "
        "out before exercise."
    ),
    "severe_night_pain": (
        "Severe back pain at night or at rest is a red flag for malignancy or infection: refer "
        "to rule them out before exercise."
    ),
    "recent_major_trauma": (
        "With back pain after major trauma a fracture must be ruled out before exercise: refer."
    ),
    "minor_trauma_with_osteoporosis": (
        "With back pain after minor trauma and osteoporosis a fracture must be ruled out before "
        "exercise: refer."
    ),
    "long_term_steroids": (
        "With back pain, long-term steroid use is a red flag for fracture or infection: refer "
        "to rule them out before exercise."
    ),
    "weeks_since_surgery": (
        "Not ready yet: too few weeks have passed since surgery for backward walking."
    ),
    "full_weight_bearing": (
        "Not ready yet: the patient does not yet walk with full weight and without crutches."
    ),
    "full_knee_extension": "Not ready yet: the knee does not yet straighten fully.",
    "extensor_lag": ("Not ready yet: there is still an extensor lag on the straight-leg raise."),
    "walks_forward_normally": "Not ready yet: forward walking is not yet normal.",
    "tug_seconds": (
        "A slow Timed Up and Go means a raised fall risk: supervised, both handrails or "
        "parallel bars, slow and level."
    ),
    "berg_score": (
        "The Berg balance score shows a raised fall risk: if it is very low, work in the "
        "parallel bars only and no backward walking yet; otherwise supervised, both handrails "
        "or parallel bars, slow and level."
    ),
    "backward_walk_3m_seconds": (
        "A slow 3-metre backward walk means a raised fall risk: supervised, both handrails or "
        "parallel bars, slow and level."
    ),
}


# --- Verdict ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    status: str
    referral: str
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    constraints: Constraints = field(default_factory=Constraints)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {STATUSES}")
        if self.referral not in REFERRALS:
            raise ValueError(f"unknown referral {self.referral!r}; expected one of {REFERRALS}")
        object.__setattr__(self, "reasons", tuple(self.reasons))
        object.__setattr__(self, "missing", tuple(self.missing))

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "referral": self.referral,
            "reasons": list(self.reasons),
            "missing": list(self.missing),
            "constraints": self.constraints.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        if not isinstance(data, Mapping):
            raise ValueError(f"a verdict must be a mapping, not {type_name(data)}")
        absent = [key for key in ("status", "referral") if key not in data]
        if absent:
            raise ValueError(f"a verdict needs {' and '.join(absent)}")
        return cls(
            status=data["status"],
            referral=data["referral"],
            reasons=tuple(data.get("reasons") or ()),
            missing=tuple(data.get("missing") or ()),
            constraints=Constraints.from_dict(data.get("constraints")),
        )

    @property
    def allows_plan(self) -> bool:
        return self.status in (CLEARED, MODIFIED)

    @property
    def can_override(self) -> bool:
        """A clinician may override a block with a written reason, except an urgent or
        emergency referral; an incomplete screening is completed, not overridden."""
        return self.status == BLOCKED and self.referral in (NO_REFERRAL, ROUTINE)

    def explanations(self) -> list[tuple[str, str]]:
        out = [(code, REASON_TEXT.get(code, code)) for code in self.reasons]
        for code in self.missing:
            item = ITEMS.get(code)
            question = item.label if item else code
            out.append((code, f'The question "{question}" was not answered.'))
        return out


# --- Screening --------------------------------------------------------------------------------


def _weeks_rule(condition: str) -> _Rule:
    def rule(value: Any, settings: ScreeningSettings) -> _Outcome | None:
        if value < getattr(settings, _MIN_WEEKS_FIELD[condition]):
            return _Outcome(BLOCKED, NO_REFERRAL)
        return None

    return rule


def _max_by(order: tuple[str, ...], values: list[str], default: str) -> str:
    return max(values, key=order.index, default=default)


def screen(answers: Mapping[str, Any], settings: ScreeningSettings | None = None) -> Verdict:
    """Screen one set of answers. Raises InvalidAnswers, naming every bad field, before any rule
    is applied; a None value means "not answered"."""
    settings = settings or ScreeningSettings()
    validate_answers(answers)
    condition = answers.get("condition")

    missing_codes = {code for code in _required_for(condition) if answers.get(code) is None}
    if condition is None:
        missing_codes.add("condition")

    fired: dict[str, _Outcome] = {}
    for code, value in answers.items():
        if value is None or code == "condition":
            continue
        scope = _RULE_SCOPE.get(code)
        if scope is not None and condition not in scope:
            continue
        rule = _weeks_rule(condition) if code == "weeks_since_surgery" else _RULES[code]
        outcome = rule(value, settings)
        if outcome is not None:
            fired[code] = outcome

    statuses = [outcome.status for outcome in fired.values()]
    if missing_codes:
        statuses.append(INCOMPLETE)
    constraints = Constraints()
    for outcome in fired.values():
        constraints = constraints.merge(outcome.constraints)

    return Verdict(
        status=_max_by(STATUSES, statuses, CLEARED),
        referral=_max_by(REFERRALS, [outcome.referral for outcome in fired.values()], NO_REFERRAL),
        reasons=_in_item_order(set(fired)),
        missing=_in_item_order(missing_codes),
        constraints=constraints,
    )


def valid_until(screened_on: date, settings: ScreeningSettings | None = None) -> date:
    """screened_on + validity_days. A reported fall invalidates a screening sooner; that check
    belongs to the caller, which knows the patient's log."""
    settings = settings or ScreeningSettings()
    return screened_on + timedelta(days=settings.validity_days)
