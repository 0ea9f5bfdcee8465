"""How the screening's outcomes combine into one verdict, the verdict as a record, and its
thresholds as settings (docs/clinical.md §3)."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from rehab.clinical.levels import (
    ACL_RECONSTRUCTION,
    KNEE_OA,
    PARALLEL_BARS,
    TREADMILL_BOTH_HANDRAILS,
    Constraints,
)
from rehab.clinical.screening import (
    ITEMS,
    REASON_TEXT,
    REFERRALS,
    STATUSES,
    ScreeningSettings,
    Verdict,
    screen,
    valid_until,
)
from tests.clinical.test_screening import FALL_RISK, clean_answers, status_of

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
