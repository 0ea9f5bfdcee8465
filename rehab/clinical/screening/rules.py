"""The verdict rule: which answers a condition needs, what each answer decides, and `screen()`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
from rehab.clinical.screening.answers import ITEMS, type_name, validate_answers
from rehab.clinical.screening.reasons import REASON_TEXT
from rehab.clinical.screening.settings import ScreeningSettings

STATUSES: tuple[str, ...] = ("cleared", "modified", "incomplete", "blocked")
REFERRALS: tuple[str, ...] = ("none", "routine", "urgent", "emergency")

CLEARED, MODIFIED, INCOMPLETE, BLOCKED = STATUSES
NO_REFERRAL, ROUTINE, URGENT, EMERGENCY = REFERRALS


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
