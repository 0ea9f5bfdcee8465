"""Properties of the screening: worse answers never give a more permissive verdict."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehab.clinical.levels import CONDITIONS, Constraints
from rehab.clinical.screening import (
    ITEMS,
    REFERRALS,
    STATUSES,
    ScreeningSettings,
    Verdict,
    required_items,
    screen,
)

FAST = settings(max_examples=200, deadline=None)

EFFUSION = ITEMS["knee_effusion"].choices
# Milestones where "yes" is the good answer: worsening turns them from true to false.
GOOD_WHEN_TRUE = frozenset({"full_weight_bearing", "full_knee_extension", "walks_forward_normally"})
# Measurements where a lower value is worse.
WORSE_WHEN_LOWER = frozenset({"berg_score", "weeks_since_surgery"})
ANSWER_CODES = tuple(code for code in ITEMS if code != "condition")


# Values on each side of the default thresholds, so generated answers often sit where a small
# change flips a rule.
BOUNDARIES: dict[str, tuple[Any, ...]] = {
    "resting_bp_systolic": (159, 160, 179, 180),
    "resting_bp_diastolic": (99, 100, 109, 110),
    "tug_seconds": (11.9, 12, 12.0),
    "berg_score": (39, 40, 45, 46),
    "backward_walk_3m_seconds": (5.4, 5.5),
    "weeks_since_surgery": (3, 4, 5, 6, 5.5),
    "falls_past_12_months": (0, 1),
}


def value_strategy(code: str) -> st.SearchStrategy[Any]:
    item = ITEMS[code]
    if item.kind == "bool":
        return st.booleans()
    if item.kind == "count":
        return st.integers(min_value=0, max_value=50) | st.sampled_from(BOUNDARIES[code])
    if item.kind == "grade":
        return st.sampled_from(item.choices)
    assert item.minimum is not None
    assert item.maximum is not None
    ints = st.integers(min_value=int(item.minimum), max_value=int(item.maximum))
    near = st.sampled_from(BOUNDARIES[code])
    if code == "berg_score":
        return ints | near
    return ints | st.floats(min_value=item.minimum, max_value=item.maximum) | near


def clean_value(code: str) -> Any:
    kind = ITEMS[code].kind
    if kind == "bool":
        return code in GOOD_WHEN_TRUE
    if kind == "count":
        return 0
    if kind == "grade":
        return "none"
    return 52  # weeks since surgery: well past any minimum


@st.composite
def complete_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Every required answer given; most answers clean, a few anything valid."""
    condition = draw(st.sampled_from(tuple(CONDITIONS)))
    answers: dict[str, Any] = {"condition": condition}
    for code in required_items(condition):
        answers[code] = clean_value(code)
    noisy = draw(st.lists(st.sampled_from(ANSWER_CODES), max_size=6, unique=True))
    for code in noisy:
        answers[code] = draw(value_strategy(code))
    return answers


@st.composite
def any_valid_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Valid but possibly incomplete: items dropped, set to None, the condition left out."""
    answers = draw(complete_answers())
    for code in list(answers):
        choice = draw(st.integers(min_value=0, max_value=4))
        if choice == 0:
            del answers[code]
        elif choice == 1:
            answers[code] = None
    return answers


@st.composite
def screening_settings(draw: st.DrawFn) -> ScreeningSettings:
    bp_block_sys = draw(st.integers(min_value=120, max_value=220))
    bp_block_dia = draw(st.integers(min_value=70, max_value=130))
    berg_fall = draw(st.integers(min_value=0, max_value=57))
    return ScreeningSettings(
        bp_block_systolic=bp_block_sys,
        bp_modify_systolic=draw(st.integers(min_value=100, max_value=bp_block_sys)),
        bp_block_diastolic=bp_block_dia,
        bp_modify_diastolic=draw(st.integers(min_value=50, max_value=bp_block_dia)),
        tug_fall_risk_seconds=draw(st.floats(min_value=5, max_value=30)),
        berg_fall_risk_below=berg_fall,
        berg_block_below=draw(st.integers(min_value=0, max_value=berg_fall)),
        backward_walk_3m_fall_risk_seconds=draw(st.floats(min_value=2, max_value=20)),
        fall_risk_max_speed_kmh=draw(st.floats(min_value=0.5, max_value=3)),
        fall_risk_max_incline_pct=draw(st.floats(min_value=0, max_value=5)),
        acl_min_weeks_since_surgery=draw(st.integers(min_value=0, max_value=12)),
        tka_min_weeks_since_surgery=draw(st.integers(min_value=0, max_value=12)),
    )


def worse_value(code: str, current: Any) -> st.SearchStrategy[Any]:
    """A value for `code` at least as bad as `current` (possibly the same)."""
    item = ITEMS[code]
    if current is None:
        # An optional item that was absent: giving it any value can only add a finding.
        return value_strategy(code)
    if item.kind == "bool":
        return st.just(code not in GOOD_WHEN_TRUE)
    if item.kind == "count":
        return st.integers(min_value=current, max_value=current + 20)
    if item.kind == "grade":
        return st.sampled_from(EFFUSION[EFFUSION.index(current) :])
    assert item.minimum is not None
    assert item.maximum is not None
    if code in WORSE_WHEN_LOWER:
        ints = st.integers(min_value=int(item.minimum), max_value=int(current))
        if code == "berg_score":
            return ints
        return ints | st.floats(min_value=item.minimum, max_value=current)
    return st.integers(min_value=math.ceil(current), max_value=int(item.maximum)) | st.floats(
        min_value=current, max_value=item.maximum
    )


@st.composite
def worsened(draw: st.DrawFn, answers: dict[str, Any]) -> tuple[str, Any]:
    """One answer changed for the worse (or left as it is when it cannot get worse)."""
    present = [code for code in ANSWER_CODES if answers.get(code) is not None]
    code = draw(st.sampled_from(present) | st.sampled_from(ANSWER_CODES))
    return code, draw(worse_value(code, answers.get(code)))


def at_least_as_strict(new: Constraints, old: Constraints) -> bool:
    for name in (
        "supervised_only",
        "handrails_required",
        "hold_progression",
        "bp_check_each_session",
        "intensity_by_rpe",
    ):
        if getattr(old, name) and not getattr(new, name):
            return False
    for name in ("max_speed_kmh", "max_incline_pct"):
        old_cap, new_cap = getattr(old, name), getattr(new, name)
        if old_cap is not None and (new_cap is None or new_cap > old_cap):
            return False
    if old.allowed_settings is None:
        return True
    return new.allowed_settings is not None and new.allowed_settings <= old.allowed_settings


def assert_no_less_restrictive(new: Verdict, old: Verdict) -> None:
    assert STATUSES.index(new.status) >= STATUSES.index(old.status), (old, new)
    assert REFERRALS.index(new.referral) >= REFERRALS.index(old.referral), (old, new)
    assert at_least_as_strict(new.constraints, old.constraints), (old, new)
    # Every finding stays a finding when an answer gets worse.
    assert set(old.reasons) <= set(new.reasons), (old, new)


@FAST
@given(data=st.data())
def test_worsening_one_answer_never_makes_the_verdict_less_restrictive(data):
    answers = data.draw(complete_answers())
    code, value = data.draw(worsened(answers))
    before = screen(answers)
    after = screen({**answers, code: value})
    assert before.status != "incomplete"
    assert_no_less_restrictive(after, before)


@pytest.mark.parametrize("code", ANSWER_CODES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_worsening_this_answer_never_makes_the_verdict_less_restrictive(code, data):
    answers = data.draw(complete_answers())
    answers[code] = data.draw(value_strategy(code))
    worse = data.draw(worse_value(code, answers[code]))
    assert_no_less_restrictive(screen({**answers, code: worse}), screen(answers))


@FAST
@given(data=st.data())
def test_worsening_is_monotonic_under_any_valid_settings(data):
    config = data.draw(screening_settings())
    answers = data.draw(complete_answers())
    code, value = data.draw(worsened(answers))
    assert_no_less_restrictive(screen({**answers, code: value}, config), screen(answers, config))


@FAST
@given(data=st.data())
def test_worsening_several_answers_never_makes_the_verdict_less_restrictive(data):
    answers = data.draw(complete_answers())
    worse = dict(answers)
    for _ in range(data.draw(st.integers(min_value=2, max_value=6))):
        code, value = data.draw(worsened(worse))
        worse[code] = value
    assert_no_less_restrictive(screen(worse), screen(answers))


@FAST
@given(answers=any_valid_answers())
def test_screen_never_raises_on_valid_input_and_to_dict_is_json_with_the_exact_shape(answers):
    verdict = screen(answers)
    data = json.loads(json.dumps(verdict.to_dict()))
    assert set(data) == {"status", "referral", "reasons", "missing", "constraints"}
    assert data["status"] in STATUSES
    assert data["referral"] in REFERRALS
    assert all(code in ITEMS for code in data["reasons"] + data["missing"])
    assert len(set(data["reasons"])) == len(data["reasons"])
    assert isinstance(data["constraints"], dict)
    assert Verdict.from_dict(data) == verdict


@FAST
@given(answers=any_valid_answers())
def test_status_follows_the_precedence_rules(answers):
    verdict = screen(answers)
    if verdict.missing and verdict.status != "blocked":
        assert verdict.status == "incomplete"
    if verdict.status in ("cleared", "modified"):
        assert verdict.missing == ()
        assert verdict.referral == "none"
    if verdict.status == "cleared":
        assert verdict.reasons == ()
        assert verdict.constraints == Constraints()
    if verdict.referral != "none":
        assert verdict.status == "blocked"
