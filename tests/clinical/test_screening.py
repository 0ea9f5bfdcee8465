"""The contraindication screening rules of docs/clinical.md §3, row by row."""

from __future__ import annotations

import json
import math
import pickle
from datetime import date
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
    REFERRALS,
    STATUSES,
    InvalidAnswers,
    ScreeningSettings,
    Verdict,
    fall_risk_constraints,
    required_items,
    screen,
    valid_until,
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


# --- Combining outcomes ----------------------------------------------------------------------


def test_constraints_from_several_items_merge_booleans_or_and_caps_min():
    verdict = screen(
        clean_answers(
            KNEE_OA,
            anticoagulated=True,
            beta_blockers=True,
            knee_effusion="1+",
            resting_bp_systolic=165,
            tug_seconds=14,
        )
    )
    assert verdict.status == "modified"
    assert verdict.constraints == Constraints(
        supervised_only=True,
        handrails_required=True,
        allowed_settings=frozenset({PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS}),
        max_speed_kmh=1.5,
        max_incline_pct=0.0,
        hold_progression=True,
        bp_check_each_session=True,
        intensity_by_rpe=True,
    )
    assert verdict.reasons == (
        "resting_bp_systolic",
        "anticoagulated",
        "beta_blockers",
        "knee_effusion",
        "tug_seconds",
    )


def test_allowed_settings_intersect_across_items():
    verdict = screen(clean_answers(KNEE_OA, tug_seconds=20, berg_score=30))
    assert verdict.constraints.allowed_settings == frozenset({PARALLEL_BARS})
    assert verdict.constraints.max_speed_kmh == 1.5


def test_caps_take_the_minimum_across_items():
    # Only fall-risk rules set caps, so two of them with the same settings must not double up
    # or loosen anything.
    verdict = screen(clean_answers(KNEE_OA, falls_past_12_months=2, feels_unsteady=True))
    assert verdict.constraints == FALL_RISK


def test_constraints_are_kept_when_blocked():
    verdict = screen(clean_answers(KNEE_OA, fever_or_systemic_infection=True, anticoagulated=True))
    assert verdict.status == "blocked"
    assert verdict.constraints == Constraints(handrails_required=True)
    assert verdict.reasons == ("anticoagulated", "fever_or_systemic_infection")


def test_blocked_beats_incomplete_and_still_lists_missing():
    answers = clean_answers(KNEE_OA, suspected_dvt=True)
    del answers["feels_unsteady"]
    verdict = screen(answers)
    assert (verdict.status, verdict.referral) == ("blocked", "urgent")
    assert verdict.missing == ("feels_unsteady",)


def test_incomplete_beats_modified_but_keeps_reasons_and_constraints():
    answers = clean_answers(KNEE_OA, anticoagulated=True)
    del answers["knee_effusion"]
    verdict = screen(answers)
    assert verdict.status == "incomplete"
    assert verdict.reasons == ("anticoagulated",)
    assert verdict.constraints == Constraints(handrails_required=True)


@pytest.mark.parametrize(
    ("overrides", "referral"),
    [
        ({"locked_brace": True, "fever_or_systemic_infection": True}, "routine"),
        ({"fever_or_systemic_infection": True, "suspected_dvt": True}, "urgent"),
        ({"suspected_dvt": True, "saddle_anaesthesia": True, "locked_brace": True}, "emergency"),
        ({"resting_bp_systolic": 200, "unstable_cardiac_symptoms": True}, "urgent"),
        ({"berg_score": 20, "acute_vertigo": True}, "routine"),
        ({"anticoagulated": True, "extensor_lag": True}, "none"),
    ],
)
def test_referral_takes_the_most_urgent_fired_rule(overrides, referral):
    verdict = screen(clean_answers(ACL_RECONSTRUCTION, **overrides))
    assert verdict.status == "blocked"
    assert verdict.referral == referral


def test_modified_verdict_has_no_referral():
    assert status_of(KNEE_OA, anticoagulated=True, feels_unsteady=True) == ("modified", "none")


def test_a_false_answer_to_an_optional_item_changes_nothing():
    assert screen(clean_answers(KNEE_OA, osteoporosis=False)) == screen(clean_answers(KNEE_OA))


# --- Invalid answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("saddle_anesthesia", True),
        ("saddle_anesthesia", None),
        ("Suspected_DVT", False),
        ("suspected_dvt", 1),
        ("suspected_dvt", 0),
        ("suspected_dvt", "yes"),
        ("suspected_dvt", "false"),
        ("falls_past_12_months", -1),
        ("falls_past_12_months", 1.0),
        ("falls_past_12_months", True),
        ("falls_past_12_months", "2"),
        ("resting_bp_systolic", True),
        ("resting_bp_systolic", "150"),
        ("resting_bp_systolic", 49),
        ("resting_bp_systolic", 301),
        ("resting_bp_diastolic", 19),
        ("resting_bp_diastolic", 201),
        ("resting_bp_diastolic", math.nan),
        ("tug_seconds", -0.1),
        ("tug_seconds", 300.5),
        ("tug_seconds", math.inf),
        ("berg_score", 45.5),
        ("berg_score", 45.0),
        ("berg_score", 57),
        ("berg_score", -1),
        ("backward_walk_3m_seconds", 301),
        ("weeks_since_surgery", -1),
        ("weeks_since_surgery", 521),
        ("knee_effusion", "2"),
        ("knee_effusion", "moderate"),
        ("knee_effusion", 2),
        ("knee_effusion", True),
        ("condition", "hip_oa"),
        ("condition", 3),
    ],
)
def test_invalid_answer_raises_invalid_answers_naming_the_field(code, value):
    answers = clean_answers(KNEE_OA)
    answers[code] = value
    with pytest.raises(InvalidAnswers) as caught:
        screen(answers)
    assert list(caught.value.errors) == [code]
    assert code in str(caught.value)


def test_invalid_answers_lists_every_bad_field():
    answers = clean_answers(
        KNEE_OA, suspected_dvt=1, berg_score=70, saddle_anesthesia=True, knee_effusion="4+"
    )
    with pytest.raises(InvalidAnswers) as caught:
        screen(answers)
    assert set(caught.value.errors) == {
        "suspected_dvt",
        "berg_score",
        "saddle_anesthesia",
        "knee_effusion",
    }


def test_misspelt_answer_code_suggests_the_right_one():
    with pytest.raises(InvalidAnswers) as caught:
        screen(clean_answers(CHRONIC_LOW_BACK_PAIN, saddle_anesthesia=True))
    assert "saddle_anaesthesia" in caught.value.errors["saddle_anesthesia"]


def test_invalid_answers_is_a_value_error_and_survives_pickling():
    error = InvalidAnswers({"suspected_dvt": "must be true or false"})
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.errors == error.errors
    assert str(copy) == str(error)


@pytest.mark.parametrize("answers", [None, [], "knee_oa", [("condition", "knee_oa")]])
def test_answers_that_are_not_a_mapping_are_invalid(answers):
    with pytest.raises(InvalidAnswers):
        screen(answers)


def test_non_string_answer_code_is_invalid():
    answers: dict[Any, Any] = clean_answers(KNEE_OA)
    answers[7] = True
    with pytest.raises(InvalidAnswers) as caught:
        screen(answers)
    assert "7" in caught.value.errors


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("resting_bp_systolic", 50),
        ("resting_bp_systolic", 300),
        ("resting_bp_diastolic", 20),
        ("tug_seconds", 0),
        ("tug_seconds", 300),
        ("berg_score", 0),
        ("berg_score", 56),
        ("weeks_since_surgery", 520),
        ("weeks_since_surgery", 4.5),
        ("falls_past_12_months", 40),
    ],
)
def test_values_at_the_edges_of_the_plausible_range_are_accepted(code, value):
    screen(clean_answers(KNEE_OA, **{code: value}))


# --- Verdict -------------------------------------------------------------------------------


def test_verdict_to_dict_has_exactly_the_five_keys_and_is_json():
    verdict = screen(clean_answers(KNEE_OA, tug_seconds=15, suspected_dvt=None))
    data = verdict.to_dict()
    assert list(data) == ["status", "referral", "reasons", "missing", "constraints"]
    assert data == {
        "status": "incomplete",
        "referral": "none",
        "reasons": ["tug_seconds"],
        "missing": ["suspected_dvt"],
        "constraints": FALL_RISK.to_dict(),
    }
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"tug_seconds": 15},
        {"berg_score": 30, "anticoagulated": True, "beta_blockers": True},
        {"saddle_anaesthesia": True, "knee_effusion": "1+", "resting_bp_diastolic": 105},
        {"suspected_dvt": None},
    ],
)
def test_verdict_from_dict_round_trips(overrides):
    verdict = screen(clean_answers(KNEE_OA, **overrides))
    assert Verdict.from_dict(verdict.to_dict()) == verdict
    assert Verdict.from_dict(json.loads(json.dumps(verdict.to_dict()))) == verdict


@pytest.mark.parametrize(
    "data",
    [
        {"status": "maybe", "referral": "none"},
        {"status": "cleared", "referral": "soon"},
        {"referral": "none"},
        "cleared",
    ],
)
def test_verdict_from_dict_rejects_bad_data(data):
    with pytest.raises(ValueError, match=r"status|referral|verdict"):
        Verdict.from_dict(data)


OVERRIDE_TABLE = {
    ("blocked", "none"): True,
    ("blocked", "routine"): True,
    ("blocked", "urgent"): False,
    ("blocked", "emergency"): False,
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("referral", REFERRALS)
def test_allows_plan_and_can_override_for_each_status_and_referral(status, referral):
    verdict = Verdict(
        status=status, referral=referral, reasons=(), missing=(), constraints=Constraints()
    )
    assert verdict.allows_plan == (status in ("cleared", "modified"))
    assert verdict.can_override == OVERRIDE_TABLE.get((status, referral), False)


def test_explanations_give_each_reason_then_each_missing_item():
    answers = clean_answers(KNEE_OA, anticoagulated=True, acute_vertigo=True)
    del answers["locked_brace"]
    explanations = screen(answers).explanations()
    assert explanations[:2] == [
        ("anticoagulated", REASON_TEXT["anticoagulated"]),
        ("acute_vertigo", REASON_TEXT["acute_vertigo"]),
    ]
    code, text = explanations[2]
    assert code == "locked_brace"
    assert ITEMS["locked_brace"].label in text
    assert text.endswith("was not answered.")
    assert len(explanations) == 3


# --- Vocabulary -----------------------------------------------------------------------------

WORST_VALUES: dict[str, Any] = {
    "resting_bp_systolic": 200,
    "resting_bp_diastolic": 120,
    "falls_past_12_months": 2,
    "knee_effusion": "3+",
    "weeks_since_surgery": 0,
    "full_weight_bearing": False,
    "full_knee_extension": False,
    "walks_forward_normally": False,
    "tug_seconds": 30,
    "berg_score": 10,
    "backward_walk_3m_seconds": 20,
}


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_every_code_screen_can_emit_has_a_reason_text(condition):
    emitted: set[str] = set()
    for code in ITEMS:
        if code == "condition":
            continue
        verdict = screen(clean_answers(condition, **{code: WORST_VALUES.get(code, True)}))
        emitted.update(verdict.reasons)
    assert emitted <= set(REASON_TEXT)
    assert all(REASON_TEXT[code].strip() for code in emitted)


def test_every_item_but_condition_can_fire_and_has_a_reason_text():
    assert set(REASON_TEXT) == set(ITEMS) - {"condition"}


def test_items_cover_every_answer_code_of_section_3_red_flags_first():
    codes = list(ITEMS)
    assert codes[:3] == list(CAUDA_EQUINA)
    assert ITEMS[codes[0]].group == "red_flags"
    for code in (*ALL_CONDITION_ITEMS, *LOW_BACK_RED_FLAGS, *WORST_VALUES, "locked_brace"):
        assert code in ITEMS
    assert len(ITEMS) == 41


def test_items_have_valid_kinds_groups_and_labels():
    groups = {"red_flags", "cardiovascular", "general", "falls", "knee", "low_back", "post_op"}
    groups |= {"measurements", "other"}
    for code, item in ITEMS.items():
        assert item.code == code
        assert item.kind in {"bool", "count", "number", "grade", "condition"}
        assert item.group in groups
        assert item.label.strip()
        if item.kind == "number":
            assert item.minimum is not None
            assert item.maximum is not None
    assert ITEMS["knee_effusion"].choices == ("none", "trace", "1+", "2+", "3+")
    assert ITEMS["condition"].choices == tuple(CONDITIONS)


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_required_items_are_in_items_order_and_exclude_condition(condition):
    required = required_items(condition)
    order = list(ITEMS)
    assert list(required) == sorted(required, key=order.index)
    assert "condition" not in required
    assert set(ALL_CONDITION_ITEMS) <= set(required)


def test_required_items_per_condition_group():
    assert len(required_items(KNEE_OA)) == 12
    assert len(required_items(ACL_RECONSTRUCTION)) == 17
    assert len(required_items(CHRONIC_LOW_BACK_PAIN)) == 20


def test_required_items_rejects_an_unknown_condition():
    with pytest.raises(ValueError, match="hip_oa"):
        required_items("hip_oa")


# --- Settings -------------------------------------------------------------------------------


def test_tug_threshold_override_moves_the_boundary():
    settings = ScreeningSettings.from_dict({"tug_fall_risk_seconds": 10})
    assert screen(clean_answers(KNEE_OA, tug_seconds=9.9), settings).status == "cleared"
    assert screen(clean_answers(KNEE_OA, tug_seconds=10), settings).status == "modified"


@pytest.mark.parametrize(
    ("overrides", "answer", "status"),
    [
        ({"bp_block_systolic": 170}, {"resting_bp_systolic": 170}, "blocked"),
        ({"bp_modify_diastolic": 95}, {"resting_bp_diastolic": 95}, "modified"),
        ({"bp_block_diastolic": 120}, {"resting_bp_diastolic": 115}, "modified"),
        ({"berg_block_below": 35}, {"berg_score": 38}, "modified"),
        ({"berg_fall_risk_below": 50}, {"berg_score": 48}, "modified"),
        ({"backward_walk_3m_fall_risk_seconds": 7.0}, {"backward_walk_3m_seconds": 6.0}, "cleared"),
    ],
)
def test_settings_overrides_move_thresholds(overrides, answer, status):
    settings = ScreeningSettings.from_dict(overrides)
    assert screen(clean_answers(KNEE_OA, **answer), settings).status == status


def test_fall_risk_caps_follow_settings_through_screen():
    settings = ScreeningSettings.from_dict({"fall_risk_max_speed_kmh": 1.0})
    verdict = screen(clean_answers(KNEE_OA, feels_unsteady=True), settings)
    assert verdict.constraints.max_speed_kmh == 1.0


def test_settings_defaults_match_the_clinical_reference():
    assert ScreeningSettings.from_dict(None) == ScreeningSettings()
    assert ScreeningSettings().to_dict() == {
        "validity_days": 90,
        "bp_block_systolic": 180,
        "bp_block_diastolic": 110,
        "bp_modify_systolic": 160,
        "bp_modify_diastolic": 100,
        "tug_fall_risk_seconds": 12.0,
        "berg_block_below": 40,
        "berg_fall_risk_below": 46,
        "backward_walk_3m_fall_risk_seconds": 5.5,
        "fall_risk_max_speed_kmh": 1.5,
        "fall_risk_max_incline_pct": 0.0,
        "acl_min_weeks_since_surgery": 4,
        "tka_min_weeks_since_surgery": 6,
    }


def test_settings_round_trip_through_json():
    settings = ScreeningSettings.from_dict({"validity_days": 60, "tug_fall_risk_seconds": 13})
    data = json.loads(json.dumps(settings.to_dict()))
    assert ScreeningSettings.from_dict(data) == settings
    assert settings.tug_fall_risk_seconds == 13.0


def test_settings_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="tug_seconds"):
        ScreeningSettings.from_dict({"tug_seconds": 10})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("validity_days", 0),
        ("validity_days", 30.5),
        ("validity_days", "90"),
        ("validity_days", True),
        ("tug_fall_risk_seconds", 0),
        ("tug_fall_risk_seconds", math.nan),
        ("bp_block_systolic", 400),
        ("bp_modify_systolic", 190),
        ("berg_block_below", 50),
        ("fall_risk_max_speed_kmh", 0),
        ("fall_risk_max_incline_pct", -1),
        ("acl_min_weeks_since_surgery", None),
    ],
)
def test_settings_from_dict_rejects_bad_values_naming_the_setting(key, value):
    with pytest.raises(ValueError, match=key):
        ScreeningSettings.from_dict({key: value})


def test_settings_from_dict_rejects_a_non_mapping():
    with pytest.raises(ValueError, match="mapping"):
        ScreeningSettings.from_dict([("validity_days", 30)])


def test_valid_until_adds_90_days():
    assert valid_until(date(2025, 1, 1)) == date(2025, 4, 1)


def test_valid_until_follows_the_validity_setting():
    settings = ScreeningSettings(validity_days=30)
    assert valid_until(date(2025, 1, 31), settings) == date(2025, 3, 2)
