"""The contraindication screening rules of docs/clinical.md §3, row by row."""

from __future__ import annotations

from typing import Any

import pytest

from rehab.clinical.levels import (
    ACL_RECONSTRUCTION,
    CHRONIC_LOW_BACK_PAIN,
    CONDITIONS,
    KNEE_CONDITIONS,
    KNEE_OA,
    PARALLEL_BARS,
    PATELLOFEMORAL_PAIN,
    POST_OP_CONDITIONS,
    TOTAL_KNEE_ARTHROPLASTY,
    TREADMILL_BOTH_HANDRAILS,
    Constraints,
)
from rehab.clinical.screening import (
    ITEMS,
    REASON_TEXT,
    ScreeningSettings,
    Verdict,
    fall_risk_constraints,
    required_items,
    screen,
)

CAUDA_EQUINA = (
    "saddle_anaesthesia",
    "new_bladder_bowel_dysfunction",
    "progressive_neurological_deficit",
)
LOW_BACK_RED_FLAGS = (
    "cancer_history",
    "unexplained_weight_loss",
    "iv_drug_use",
    "immunosuppression",
    "severe_night_pain",
    "recent_major_trauma",
    "minor_trauma_with_osteoporosis",
    "long_term_steroids",
)
ALL_CONDITION_ITEMS = (
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
NOT_POST_OP = tuple(c for c in CONDITIONS if c not in POST_OP_CONDITIONS)
FALL_RISK = Constraints(
    supervised_only=True,
    handrails_required=True,
    allowed_settings=frozenset({PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS}),
    max_speed_kmh=1.5,
    max_incline_pct=0.0,
)


def clean_answers(condition: str = KNEE_OA, **overrides: Any) -> dict[str, Any]:
    """A complete answer set for the condition with nothing that triggers any rule."""
    answers: dict[str, Any] = {"condition": condition}
    for code in required_items(condition):
        kind = ITEMS[code].kind
        if kind == "bool":
            answers[code] = False
        elif kind == "count":
            answers[code] = 0
        elif code == "knee_effusion":
            answers[code] = "none"
    if condition in POST_OP_CONDITIONS:
        answers.update(
            weeks_since_surgery=10,
            full_weight_bearing=True,
            full_knee_extension=True,
            extensor_lag=False,
            walks_forward_normally=True,
        )
    answers.update(overrides)
    return answers


def status_of(condition: str = KNEE_OA, **overrides: Any) -> tuple[str, str]:
    verdict = screen(clean_answers(condition, **overrides))
    return verdict.status, verdict.referral


# --- Clean and incomplete answer sets --------------------------------------------------------


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_clean_answers_are_cleared_with_no_referral_and_no_constraints(condition):
    verdict = screen(clean_answers(condition))
    assert verdict == Verdict("cleared", "none", (), (), Constraints())
    assert verdict.allows_plan


REQUIRED_CASES = [(cond, code) for cond in CONDITIONS for code in required_items(cond)]


@pytest.mark.parametrize(("condition", "code"), REQUIRED_CASES)
def test_each_required_item_missing_makes_the_screening_incomplete_naming_it(condition, code):
    answers = clean_answers(condition)
    del answers[code]
    verdict = screen(answers)
    assert verdict.status == "incomplete"
    assert verdict.missing == (code,)
    assert not verdict.allows_plan
    assert not verdict.can_override


def test_a_none_answer_counts_as_not_answered():
    verdict = screen(clean_answers(KNEE_OA, suspected_dvt=None))
    assert verdict.status == "incomplete"
    assert verdict.missing == ("suspected_dvt",)


def test_missing_condition_is_incomplete_and_checks_only_the_all_condition_items():
    verdict = screen({})
    assert verdict.status == "incomplete"
    assert verdict.missing == (*ALL_CONDITION_ITEMS, "condition")


def test_missing_condition_with_every_general_item_answered_names_only_condition():
    answers = clean_answers(KNEE_OA)
    del answers["condition"]
    for code in ("knee_effusion", "acute_injury_or_hot_joint", "locked_brace"):
        del answers[code]
    assert screen(answers).missing == ("condition",)


def test_missing_items_are_listed_in_items_order():
    answers = clean_answers(CHRONIC_LOW_BACK_PAIN)
    for code in ("long_term_steroids", "saddle_anaesthesia", "worries_about_falling"):
        del answers[code]
    assert screen(answers).missing == (
        "saddle_anaesthesia",
        "worries_about_falling",
        "long_term_steroids",
    )


@pytest.mark.parametrize("code", ["tug_seconds", "berg_score", "backward_walk_3m_seconds"])
def test_optional_measurements_may_be_absent(code):
    assert screen(clean_answers(KNEE_OA, **{code: None})).status == "cleared"


def test_optional_items_absent_are_read_as_not_present():
    answers = clean_answers(KNEE_OA)
    assert "anticoagulated" not in answers
    assert screen(answers).status == "cleared"


# --- Red flags: emergency and urgent -------------------------------------------------------


@pytest.mark.parametrize("code", CAUDA_EQUINA)
def test_cauda_equina_signs_block_with_emergency_referral(code):
    verdict = screen(clean_answers(CHRONIC_LOW_BACK_PAIN, **{code: True}))
    assert (verdict.status, verdict.referral) == ("blocked", "emergency")
    assert verdict.reasons == (code,)
    assert not verdict.can_override


@pytest.mark.parametrize("condition", sorted(KNEE_CONDITIONS))
@pytest.mark.parametrize("code", CAUDA_EQUINA)
def test_cauda_equina_signs_fire_even_for_a_knee_condition(code, condition):
    assert status_of(condition, **{code: True}) == ("blocked", "emergency")


def test_saddle_anaesthesia_blocks_with_emergency_referral():
    assert status_of(CHRONIC_LOW_BACK_PAIN, saddle_anaesthesia=True) == ("blocked", "emergency")


@pytest.mark.parametrize("code", ["unstable_cardiac_symptoms", "suspected_dvt"])
def test_unstable_cardiac_symptoms_and_suspected_dvt_block_with_urgent_referral(code):
    verdict = screen(clean_answers(KNEE_OA, **{code: True}))
    assert (verdict.status, verdict.referral, verdict.reasons) == ("blocked", "urgent", (code,))
    assert not verdict.can_override


# --- Blood pressure --------------------------------------------------------------------------

BP_SUPERVISED = Constraints(supervised_only=True, bp_check_each_session=True)


@pytest.mark.parametrize(
    ("code", "value", "status", "referral"),
    [
        ("resting_bp_systolic", 159, "cleared", "none"),
        ("resting_bp_systolic", 160, "modified", "none"),
        ("resting_bp_systolic", 179, "modified", "none"),
        ("resting_bp_systolic", 180, "blocked", "routine"),
        ("resting_bp_diastolic", 99, "cleared", "none"),
        ("resting_bp_diastolic", 100, "modified", "none"),
        ("resting_bp_diastolic", 109, "modified", "none"),
        ("resting_bp_diastolic", 110, "blocked", "routine"),
    ],
)
def test_blood_pressure_thresholds(code, value, status, referral):
    verdict = screen(clean_answers(KNEE_OA, **{code: value}))
    assert (verdict.status, verdict.referral) == (status, referral)
    if status == "cleared":
        assert verdict.constraints == Constraints()
        assert verdict.reasons == ()
    else:
        assert verdict.constraints == BP_SUPERVISED
        assert verdict.reasons == (code,)


def test_either_blood_pressure_reading_alone_blocks():
    verdict = screen(clean_answers(KNEE_OA, resting_bp_systolic=120, resting_bp_diastolic=110))
    assert verdict.status == "blocked"
    assert verdict.reasons == ("resting_bp_diastolic",)


def test_both_raised_blood_pressure_readings_are_both_reasons():
    verdict = screen(clean_answers(KNEE_OA, resting_bp_systolic=185, resting_bp_diastolic=105))
    assert verdict.status == "blocked"
    assert verdict.reasons == ("resting_bp_systolic", "resting_bp_diastolic")


# --- General blocks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "fever_or_systemic_infection",
        "acute_vertigo",
        "unexplained_syncope",
        "acute_injury_or_hot_joint",
    ],
)
def test_routine_referral_blocks(code):
    verdict = screen(clean_answers(KNEE_OA, **{code: True}))
    assert (verdict.status, verdict.referral, verdict.reasons) == ("blocked", "routine", (code,))
    assert verdict.can_override


@pytest.mark.parametrize("code", LOW_BACK_RED_FLAGS)
def test_low_back_red_flags_block_with_routine_referral(code):
    verdict = screen(clean_answers(CHRONIC_LOW_BACK_PAIN, **{code: True}))
    assert (verdict.status, verdict.referral, verdict.reasons) == ("blocked", "routine", (code,))


@pytest.mark.parametrize("condition", sorted(KNEE_CONDITIONS))
@pytest.mark.parametrize("code", LOW_BACK_RED_FLAGS)
def test_low_back_red_flags_do_not_fire_for_knee_conditions(code, condition):
    verdict = screen(clean_answers(condition, **{code: True}))
    assert verdict.status == "cleared"
    assert verdict.reasons == ()


def test_low_back_red_flags_do_not_fire_without_a_condition():
    answers = clean_answers(CHRONIC_LOW_BACK_PAIN, cancer_history=True)
    del answers["condition"]
    verdict = screen(answers)
    assert verdict.status == "incomplete"
    assert verdict.reasons == ()


@pytest.mark.parametrize("condition", list(CONDITIONS))
@pytest.mark.parametrize("code", ["weight_bearing_restriction", "locked_brace"])
def test_weight_bearing_restriction_or_locked_brace_blocks_without_referral(code, condition):
    verdict = screen(clean_answers(condition, **{code: True}))
    assert (verdict.status, verdict.referral, verdict.reasons) == ("blocked", "none", (code,))
    assert verdict.can_override


# --- Knee effusion -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "status", "constraints"),
    [
        ("none", "cleared", Constraints()),
        ("trace", "cleared", Constraints()),
        ("1+", "modified", Constraints(hold_progression=True)),
        ("2+", "blocked", Constraints(hold_progression=True)),
        ("3+", "blocked", Constraints(hold_progression=True)),
    ],
)
def test_knee_effusion_grades(grade, status, constraints):
    verdict = screen(clean_answers(KNEE_OA, knee_effusion=grade))
    assert (verdict.status, verdict.referral) == (status, "none")
    assert verdict.constraints == constraints
    assert verdict.reasons == (() if status == "cleared" else ("knee_effusion",))


def test_knee_effusion_fires_for_low_back_pain_when_given():
    assert status_of(CHRONIC_LOW_BACK_PAIN, knee_effusion="2+") == ("blocked", "none")


# --- Modifying items ---------------------------------------------------------------------------


def test_anticoagulated_requires_handrails():
    verdict = screen(clean_answers(KNEE_OA, anticoagulated=True))
    assert verdict.status == "modified"
    assert verdict.constraints == Constraints(handrails_required=True)
    assert verdict.reasons == ("anticoagulated",)


def test_beta_blockers_set_intensity_by_rpe():
    verdict = screen(clean_answers(KNEE_OA, beta_blockers=True))
    assert verdict.status == "modified"
    assert verdict.constraints == Constraints(intensity_by_rpe=True)


@pytest.mark.parametrize(
    "code",
    [
        "chronic_dizziness",
        "poor_vision",
        "peripheral_neuropathy",
        "osteoporosis",
        "cognitive_impairment",
    ],
)
def test_comorbidities_require_supervision_and_handrails(code):
    verdict = screen(clean_answers(PATELLOFEMORAL_PAIN, **{code: True}))
    assert (verdict.status, verdict.referral, verdict.reasons) == ("modified", "none", (code,))
    assert verdict.constraints == Constraints(supervised_only=True, handrails_required=True)


@pytest.mark.parametrize(
    ("overrides", "fall_risk"),
    [
        ({"falls_past_12_months": 0}, False),
        ({"falls_past_12_months": 1}, True),
        ({"falls_past_12_months": 3}, True),
        ({"feels_unsteady": True}, True),
        ({"worries_about_falling": True}, True),
        ({"tug_seconds": 11.9}, False),
        ({"tug_seconds": 12}, True),
        ({"tug_seconds": 12.0}, True),
        ({"berg_score": 46}, False),
        ({"berg_score": 45}, True),
        ({"berg_score": 40}, True),
        ({"backward_walk_3m_seconds": 5.4}, False),
        ({"backward_walk_3m_seconds": 5.5}, True),
    ],
)
def test_fall_risk_items_and_thresholds(overrides, fall_risk):
    verdict = screen(clean_answers(KNEE_OA, **overrides))
    if fall_risk:
        assert (verdict.status, verdict.referral) == ("modified", "none")
        assert verdict.constraints == FALL_RISK
        assert verdict.reasons == tuple(overrides)
    else:
        assert verdict == screen(clean_answers(KNEE_OA))


def test_berg_below_40_blocks_backward_walking_keeping_parallel_bars_only():
    verdict = screen(clean_answers(KNEE_OA, berg_score=39))
    assert (verdict.status, verdict.referral, verdict.reasons) == (
        "blocked",
        "none",
        ("berg_score",),
    )
    assert verdict.constraints == FALL_RISK.merge(
        Constraints(allowed_settings=frozenset({PARALLEL_BARS}))
    )
    assert verdict.can_override


def test_fall_risk_constraints_come_from_settings():
    settings = ScreeningSettings(fall_risk_max_speed_kmh=1.0, fall_risk_max_incline_pct=2.0)
    constraints = fall_risk_constraints(settings)
    assert constraints.max_speed_kmh == 1.0
    assert constraints.max_incline_pct == 2.0
    assert constraints.supervised_only
    assert constraints.handrails_required
    assert constraints.allowed_settings == {PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS}
    assert fall_risk_constraints(None) == FALL_RISK


# --- Post-op milestones ------------------------------------------------------------------------

UNMET_MILESTONES = [
    ("full_weight_bearing", False),
    ("full_knee_extension", False),
    ("extensor_lag", True),
    ("walks_forward_normally", False),
    ("weeks_since_surgery", 1),
]


@pytest.mark.parametrize("condition", sorted(POST_OP_CONDITIONS))
@pytest.mark.parametrize(("code", "value"), UNMET_MILESTONES)
def test_unmet_post_op_milestone_blocks_as_not_ready_without_referral(code, value, condition):
    verdict = screen(clean_answers(condition, **{code: value}))
    assert (verdict.status, verdict.referral, verdict.reasons) == ("blocked", "none", (code,))
    assert verdict.can_override
    assert "Not ready yet" in REASON_TEXT[code]


@pytest.mark.parametrize("condition", NOT_POST_OP)
@pytest.mark.parametrize(("code", "value"), UNMET_MILESTONES)
def test_post_op_milestones_do_not_fire_for_non_post_op_conditions(code, value, condition):
    verdict = screen(clean_answers(condition, **{code: value}))
    assert verdict.status == "cleared"
    assert verdict.reasons == ()


@pytest.mark.parametrize(
    ("condition", "weeks", "ready"),
    [
        (ACL_RECONSTRUCTION, 3, False),
        (ACL_RECONSTRUCTION, 3.9, False),
        (ACL_RECONSTRUCTION, 4, True),
        (ACL_RECONSTRUCTION, 5, True),
        (TOTAL_KNEE_ARTHROPLASTY, 5, False),
        (TOTAL_KNEE_ARTHROPLASTY, 6, True),
    ],
)
def test_weeks_since_surgery_threshold_per_condition(condition, weeks, ready):
    verdict = screen(clean_answers(condition, weeks_since_surgery=weeks))
    assert verdict.status == ("cleared" if ready else "blocked")


def test_minimum_weeks_since_surgery_are_settings():
    settings = ScreeningSettings(acl_min_weeks_since_surgery=6, tka_min_weeks_since_surgery=4)
    acl = screen(clean_answers(ACL_RECONSTRUCTION, weeks_since_surgery=5), settings)
    tka = screen(clean_answers(TOTAL_KNEE_ARTHROPLASTY, weeks_since_surgery=5), settings)
    assert (acl.status, tka.status) == ("blocked", "cleared")


def test_several_unmet_milestones_are_all_named():
    verdict = screen(
        clean_answers(TOTAL_KNEE_ARTHROPLASTY, weeks_since_surgery=2, full_weight_bearing=False)
    )
    assert verdict.reasons == ("weeks_since_surgery", "full_weight_bearing")
