"""The screening's answers: what is refused as invalid, and the vocabulary of questions
(docs/clinical.md §3)."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest

from rehab.clinical.levels import ACL_RECONSTRUCTION, CHRONIC_LOW_BACK_PAIN, CONDITIONS, KNEE_OA
from rehab.clinical.screening import ITEMS, REASON_TEXT, InvalidAnswers, required_items, screen
from tests.clinical.test_screening import (
    ALL_CONDITION_ITEMS,
    CAUDA_EQUINA,
    LOW_BACK_RED_FLAGS,
    clean_answers,
)

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
