"""Outcome-measure scoring and meaningful change (docs/clinical.md §5)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehab.clinical.outcomes import (
    KOOS_ITEMS,
    MEASURES,
    RMDQ_ITEMS,
    Change,
    InvalidAnswers,
    change,
    score,
)

KOOS_SUBSCALES = ("pain", "symptoms", "adl", "sport_rec", "qol")
ALL_KOOS_ITEMS = [item for items in KOOS_ITEMS.values() for item in items]


def koos_all(value: int) -> dict[str, int]:
    return dict.fromkeys(ALL_KOOS_ITEMS, value)


def rmdq(yes: int) -> dict[str, bool]:
    return {item: index < yes for index, item in enumerate(RMDQ_ITEMS)}


def psfs(*scores: int) -> dict:
    return {"activities": [{"activity": f"task {i}", "score": s} for i, s in enumerate(scores)]}


def errors_of(measure: str, answers) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as caught:
        score(measure, answers)
    return caught.value.errors


def one(measure: str, baseline: float | None, current: float | None, sub: str = "total") -> Change:
    (result,) = [c for c in change(measure, {sub: baseline}, {sub: current}) if c.subscale == sub]
    return result


# --- the measures -------------------------------------------------------------------------------


def test_measures_are_the_six_of_section_5() -> None:
    assert set(MEASURES) == {"nprs", "koos", "rmdq", "psfs", "odi", "womac"}
    assert MEASURES["nprs"].loinc == "72514-3"
    assert MEASURES["koos"].subscales == KOOS_SUBSCALES
    assert not MEASURES["odi"].embedded
    assert not MEASURES["womac"].embedded
    assert all(MEASURES[c].embedded for c in ("nprs", "koos", "rmdq", "psfs"))
    assert [m.code for m in MEASURES.values() if m.higher_is_better] == ["koos", "psfs"]


def test_koos_has_42_items_in_five_subscales() -> None:
    assert {k: len(v) for k, v in KOOS_ITEMS.items()} == {
        "pain": 9,
        "symptoms": 7,
        "adl": 17,
        "sport_rec": 5,
        "qol": 4,
    }
    assert len(set(ALL_KOOS_ITEMS)) == 42
    assert KOOS_ITEMS["sport_rec"] == ("SP1", "SP2", "SP3", "SP4", "SP5")
    assert RMDQ_ITEMS[0] == "R1"
    assert RMDQ_ITEMS[-1] == "R24"
    assert len(RMDQ_ITEMS) == 24


def test_measures_are_hashable() -> None:
    assert len({*MEASURES.values()}) == 6


# --- NPRS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 5, 10])
def test_nprs_scores_the_number(value: int) -> None:
    assert score("nprs", {"score": value}) == {"total": float(value)}


@pytest.mark.parametrize("value", [-1, 11, 2.5, True, "3", None])
def test_nprs_rejects_bad_values(value) -> None:
    assert "score" in errors_of("nprs", {"score": value})


def test_nprs_rejects_unknown_keys_and_missing_score() -> None:
    assert errors_of("nprs", {"pain": 3}) == {"pain": "unknown field", "score": "required"}


# --- KOOS ---------------------------------------------------------------------------------------


def test_koos_all_zero_is_100_and_all_four_is_0() -> None:
    assert score("koos", koos_all(0)) == dict.fromkeys(KOOS_SUBSCALES, 100.0)
    assert score("koos", koos_all(4)) == dict.fromkeys(KOOS_SUBSCALES, 0.0)


def test_koos_computed_mix() -> None:
    answers = koos_all(0)
    answers.update({"P1": 4, "P2": 3, "P3": 1})  # pain mean 8/9: 100 - 22.2 = 77.8
    answers.update({"S1": 2, "S2": 2})  # symptoms mean 4/7: 100 - 14.29 = 85.7
    answers.update({f"A{i}": 2 for i in range(1, 18)})  # adl mean 2: 50
    answers.update({"SP1": 1, "SP2": None})  # sport 1 over 4 answered: 93.75 -> 93.8
    answers.update({"Q1": 1, "Q2": 1, "Q3": 1, "Q4": 0})  # qol mean 3/4: 81.25 -> 81.3
    assert score("koos", answers) == {
        "pain": 77.8,
        "symptoms": 85.7,
        "adl": 50.0,
        "sport_rec": 93.8,
        "qol": 81.3,
    }


def test_koos_rounds_half_up_not_to_even() -> None:
    # QOL items summing to 3 give 81.25 exactly, where Python's round() would give 81.2.
    result = score("koos", {"Q1": 1, "Q2": 1, "Q3": 1, "Q4": 0})
    assert result["qol"] == 81.3


@pytest.mark.parametrize(
    ("subscale", "enough"),
    [("pain", 5), ("symptoms", 4), ("adl", 9), ("sport_rec", 3), ("qol", 2)],
)
def test_koos_fifty_percent_rule_on_each_boundary(subscale: str, enough: int) -> None:
    items = KOOS_ITEMS[subscale]
    other = "qol" if subscale != "qol" else "pain"
    filler = dict.fromkeys(KOOS_ITEMS[other], 0)  # keeps one subscale scored
    answered = {**filler, **dict.fromkeys(items[:enough], 2)}
    assert score("koos", answered)[subscale] == 50.0
    too_few = {**filler, **dict.fromkeys(items[: enough - 1], 2)}
    assert score("koos", too_few)[subscale] is None


def test_koos_none_counts_as_not_answered() -> None:
    answers = {**dict.fromkeys(KOOS_ITEMS["pain"][:4], 1), **dict.fromkeys(KOOS_ITEMS["pain"][4:])}
    answers.update(dict.fromkeys(KOOS_ITEMS["qol"], 0))
    assert score("koos", answers)["pain"] is None


def test_koos_with_no_scorable_subscale_is_invalid() -> None:
    errors = errors_of("koos", {"P1": 2})
    assert set(errors) == set(KOOS_SUBSCALES)
    assert "1 of 9" in errors["pain"]
    assert set(errors_of("koos", {})) == set(KOOS_SUBSCALES)


def test_koos_names_every_bad_item() -> None:
    errors = errors_of("koos", {"P1": 5, "P2": -1, "S1": True, "A1": 1.5, "X9": 0, "Q1": "2"})
    assert set(errors) == {"P1", "P2", "S1", "A1", "X9", "Q1"}
    assert errors["X9"] == "unknown field"


# --- RMDQ ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("yes", [0, 1, 13, 24])
def test_rmdq_counts_the_yes_answers(yes: int) -> None:
    assert score("rmdq", rmdq(yes)) == {"total": float(yes)}


def test_rmdq_missing_items_are_named() -> None:
    answers = rmdq(5)
    del answers["R7"]
    answers["R20"] = None
    assert errors_of("rmdq", answers) == {"R7": "not answered", "R20": "not answered"}


def test_rmdq_rejects_numbers_for_yes_no_and_unknown_items() -> None:
    answers = {**rmdq(5), "R1": 1, "R2": "yes", "R25": True}
    assert set(errors_of("rmdq", answers)) == {"R1", "R2", "R25"}


# --- PSFS ---------------------------------------------------------------------------------------


def test_psfs_is_the_mean_of_the_activities_rounded() -> None:
    assert score("psfs", psfs(3, 4, 4)) == {"total": 3.7}
    assert score("psfs", psfs(0, 10, 5, 5, 5)) == {"total": 5.0}
    assert score("psfs", psfs(2, 2, 2, 3)) == {"total": 2.3}  # 2.25 rounds half up


@pytest.mark.parametrize("count", [0, 2, 6])
def test_psfs_needs_three_to_five_activities(count: int) -> None:
    assert "activities" in errors_of("psfs", psfs(*([5] * count)))


def test_psfs_names_every_bad_activity() -> None:
    answers = {
        "activities": [
            {"activity": "  ", "score": 5},
            {"activity": "stairs", "score": 11},
            {"activity": "kneeling", "score": True},
            {"activity": "walking"},
            {"activity": "running", "score": 3, "note": "x"},
        ],
        "extra": 1,
    }
    assert set(errors_of("psfs", answers)) == {
        "activities[0].activity",
        "activities[1].score",
        "activities[2].score",
        "activities[3].score",
        "activities[4].note",
        "extra",
    }


def test_psfs_without_a_list_is_invalid() -> None:
    assert "activities" in errors_of("psfs", {"activities": "stairs"})
    assert "activities" in errors_of("psfs", {})


# --- ODI and WOMAC (totals only) ----------------------------------------------------------------


@pytest.mark.parametrize(("measure", "top"), [("odi", 100), ("womac", 96)])
def test_licensed_measures_take_a_total_in_range(measure: str, top: int) -> None:
    assert score(measure, {"total": 0}) == {"total": 0.0}
    assert score(measure, {"total": top}) == {"total": float(top)}
    assert score(measure, {"total": 42.2}) == {"total": 42.2}
    assert "total" in errors_of(measure, {"total": top + 1})
    assert "total" in errors_of(measure, {"total": -0.5})
    assert "total" in errors_of(measure, {"total": False})
    assert "total" in errors_of(measure, {"total": float("nan")})
    assert set(errors_of(measure, {"Q1": 3})) == {"Q1", "total"}


def test_unknown_measure_and_non_dict_answers_are_invalid() -> None:
    assert "measure" in errors_of("sf36", {})
    assert "answers" in errors_of("nprs", [3])


# --- meaningful change --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "current", "meaningful"),
    [
        (8, 6, True),  # 2 points (25 %)
        (8, 7, False),  # 1 point, 12.5 %
        (5, 3.5, True),  # 1.5 points but exactly 30 %
        (5, 3.6, False),  # 28 %
        (3, 2, True),  # 1 point, 33 %
        (4, 3, False),  # 1 point, 25 %
        (0, 0, False),
    ],
)
def test_nprs_meaningful_at_two_points_or_thirty_percent(
    baseline: float, current: float, meaningful: bool
) -> None:
    result = one("nprs", baseline, current)
    assert result.meaningful is meaningful
    assert result.threshold == "2 points or 30 %"


def test_nprs_rise_is_worsening() -> None:
    result = one("nprs", 4, 7)
    assert result.delta == 3
    assert result.improvement == -3
    assert result.worsened
    assert not result.meaningful


def test_worsening_from_zero_uses_points_only() -> None:
    assert not one("nprs", 0, 1).worsened
    assert one("nprs", 0, 2).worsened


@pytest.mark.parametrize(
    ("baseline", "current", "meaningful"),
    [
        (20, 15, True),  # 5 points
        (20, 16, False),  # 4 points, 20 %
        (10, 7, True),  # 3 points, 30 %
        (10, 8, False),  # 2 points, 20 %
    ],
)
def test_rmdq_meaningful_at_five_points_or_thirty_percent(
    baseline: float, current: float, meaningful: bool
) -> None:
    result = one("rmdq", baseline, current)
    assert result.meaningful is meaningful
    assert result.threshold == "5 points or 30 %"


@pytest.mark.parametrize(
    ("subscale", "mcid"),
    [("pain", 15), ("symptoms", 12.5), ("adl", 15.5), ("sport_rec", 17.5), ("qol", 12.5)],
)
def test_koos_each_subscale_on_the_threshold_and_just_below(subscale: str, mcid: float) -> None:
    assert one("koos", 50.0, 50.0 + mcid, subscale).meaningful
    assert not one("koos", 50.0, round(50.0 + mcid - 0.1, 1), subscale).meaningful
    # Values whose float difference is not exact still land on the threshold.
    # Every one-decimal baseline: in binary floats 16.4 - 1.4 falls just short of 15.
    for tenths in range(int((100 - mcid) * 10) + 1):
        baseline = tenths / 10
        assert one("koos", baseline, round(baseline + mcid, 1), subscale).meaningful, baseline
    assert one("koos", 70.0, 70.0 - mcid, subscale).worsened
    assert one("koos", 50.0, 50.0 + mcid, subscale).threshold == f"{mcid:g} points"


def test_koos_rise_is_improvement() -> None:
    result = one("koos", 40.0, 60.0, "pain")
    assert result.delta == 20
    assert result.improvement == 20
    assert result.meaningful
    assert not result.worsened


def test_koos_has_no_percent_rule() -> None:
    # 10 points from 20 is +50 %, but KOOS thresholds are in points only.
    assert not one("koos", 20.0, 30.0, "pain").meaningful


def test_psfs_meaningful_at_two_points_up() -> None:
    assert one("psfs", 4, 6).meaningful
    assert not one("psfs", 4, 5.9).meaningful
    assert one("psfs", 0.3, 2.3).meaningful  # 2 points, though 1.9999999999999998 in floats
    assert one("psfs", 6, 4).worsened


def test_odi_meaningful_at_ten_points_down() -> None:
    assert one("odi", 40, 30).meaningful
    assert not one("odi", 40, 31).meaningful
    assert one("odi", 40, 50).worsened


def test_womac_has_no_threshold_and_is_never_meaningful() -> None:
    result = one("womac", 60, 10)
    assert result.improvement == 50
    assert not result.meaningful
    assert not one("womac", 10, 60).worsened
    assert "none" in result.threshold


def test_missing_side_gives_no_delta_and_no_verdict() -> None:
    for baseline, current in ((None, 60.0), (60.0, None), (None, None)):
        result = one("koos", baseline, current, "qol")
        assert result.delta is None
        assert result.improvement is None
        assert not result.meaningful
        assert not result.worsened


def test_change_covers_every_subscale_and_serialises() -> None:
    before = score("koos", koos_all(2))
    after = score("koos", koos_all(1))
    changes = change("koos", before, after)
    assert [c.subscale for c in changes] == list(KOOS_SUBSCALES)
    assert all(c.meaningful and c.improvement == 25 for c in changes)
    assert changes[0].to_dict() == {
        "subscale": "pain",
        "baseline": 50.0,
        "current": 75.0,
        "delta": 25.0,
        "improvement": 25.0,
        "threshold": "15 points",
        "meaningful": True,
        "worsened": False,
    }


def test_change_rejects_bad_scores() -> None:
    with pytest.raises(InvalidAnswers) as caught:
        change("koos", {"pain": 101, "knee": 3}, {"qol": "high"})
    assert set(caught.value.errors) == {"baseline.pain", "baseline.knee", "current.qol"}
    with pytest.raises(InvalidAnswers):
        change("nprs", {"total": True}, {"total": 3})
    with pytest.raises(InvalidAnswers):
        change("nope", {}, {})


def test_invalid_answers_is_a_value_error_with_a_readable_message() -> None:
    with pytest.raises(ValueError, match="score: required"):
        score("nprs", {})


# --- properties ---------------------------------------------------------------------------------

koos_answers = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(ALL_KOOS_ITEMS, st.one_of(st.none(), st.integers(0, 4)))
)
psfs_answers = st.lists(st.integers(0, 10), min_size=3, max_size=5).map(lambda s: psfs(*s))
valid_answers = st.one_of(
    st.tuples(st.just("nprs"), st.integers(0, 10).map(lambda v: {"score": v})),
    st.tuples(st.just("koos"), koos_answers),
    st.tuples(
        st.just("rmdq"),
        st.lists(st.booleans(), min_size=24, max_size=24).map(
            lambda bs: dict(zip(RMDQ_ITEMS, bs, strict=True))
        ),
    ),
    st.tuples(st.just("psfs"), psfs_answers),
    st.tuples(st.just("odi"), st.floats(0, 100).map(lambda v: {"total": v})),
    st.tuples(st.just("womac"), st.integers(0, 96).map(lambda v: {"total": v})),
)


@settings(max_examples=200, deadline=None)
@given(valid_answers)
def test_every_score_stays_within_its_range(case) -> None:
    measure, answers = case
    m = MEASURES[measure]
    try:
        result = score(measure, answers)
    except InvalidAnswers:
        # Only KOOS answers with no scorable subscale may be refused.
        assert measure == "koos"
        return
    assert set(result) == set(m.subscales)
    for value in result.values():
        assert value is None or m.minimum <= value <= m.maximum


@settings(max_examples=200, deadline=None)
@given(
    answers=st.fixed_dictionaries({item: st.integers(0, 4) for item in ALL_KOOS_ITEMS}),
    item=st.sampled_from(ALL_KOOS_ITEMS),
    raise_by=st.integers(1, 4),
)
def test_koos_raising_an_answer_never_raises_a_score(
    answers: dict[str, int], item: str, raise_by: int
) -> None:
    before = score("koos", answers)
    after = score("koos", {**answers, item: min(4, answers[item] + raise_by)})
    for subscale in KOOS_SUBSCALES:
        assert after[subscale] <= before[subscale]
        if item not in KOOS_ITEMS[subscale]:
            assert after[subscale] == before[subscale]


@settings(max_examples=200, deadline=None)
@given(valid_answers)
def test_no_change_is_never_meaningful(case) -> None:
    measure, answers = case
    try:
        scores = score(measure, answers)
    except InvalidAnswers:
        return
    for result in change(measure, scores, scores):
        assert not result.meaningful
        assert not result.worsened
        assert result.delta in (0, None)
