"""Progression and regression rules (docs/clinical.md §4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rehab.clinical.levels import (
    OVERGROUND,
    PARALLEL_BARS,
    TREADMILL_BOTH_HANDRAILS,
    TREADMILL_LIGHT_TOUCH,
    Constraints,
    Level,
)
from rehab.clinical.progression import (
    ADVERSE_EVENTS,
    OUTCOMES,
    REASON_CODES,
    SWELLING,
    Decision,
    ProgressionSettings,
    Reason,
    SessionRecord,
    evaluate,
)

TODAY = date(2025, 3, 14)

LADDER = (
    Level("Level 1", 10, 3, 1.5, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
    Level("Level 2", 15, 3, 2.0, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
    Level("Level 3", 20, 3, 2.5, 0, TREADMILL_LIGHT_TOUCH, min_days=7),
    Level("Level 4", 20, 3, 2.5, 5, OVERGROUND, min_days=7),
)


def session(days_ago: int, **overrides) -> SessionRecord:
    """A good session at Level 2 (15 min): low pain, settled, moderate effort."""
    values = {
        "day": TODAY - timedelta(days=days_ago),
        "minutes_done": 15,
        "pain_before": 2,
        "pain_worst": 3,
        "pain_after": 2,
        "pain_next_morning": 2,
        "effort": 3,
    }
    values.update(overrides)
    return SessionRecord(**values)


def good_week(**overrides) -> list[SessionRecord]:
    return [session(days_ago, **overrides) for days_ago in (5, 3, 1)]


def run(**kwargs) -> Decision:
    args = {
        "levels": LADDER,
        "current": 1,
        "constraints": Constraints(),
        "sessions": good_week(),
        "today": TODAY,
        "window_start": TODAY - timedelta(days=14),
        "level_started_on": TODAY - timedelta(days=14),
        "recent_advances": (),
        "settings": None,
    }
    args.update(kwargs)
    decision = evaluate(**args)
    # Every decision any test makes checks the vocabulary, so no emitted code goes undocumented.
    assert set(codes(decision)) <= set(REASON_CODES)
    return decision


def codes(decision: Decision) -> list[str]:
    return [r.code for r in decision.reasons]


def reason(decision: Decision, code: str) -> Reason:
    return next(r for r in decision.reasons if r.code == code)


FALL_RISK = Constraints(
    supervised_only=True,
    handrails_required=True,
    allowed_settings=frozenset({PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS}),
    max_speed_kmh=1.5,
    max_incline_pct=0,
)


# A ladder whose later levels only raise the speed: under a speed cap they are all the same.
SPEED_LADDER = (
    Level("Speed 1", 15, 3, 1.5, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
    Level("Speed 2", 15, 3, 2.0, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
    Level("Speed 3", 15, 3, 2.5, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
    Level("Longer", 20, 3, 2.5, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
)


# --- the baseline -----------------------------------------------------------------------------


def test_good_week_advances_one_level():
    decision = run()
    assert decision.outcome == "advance"
    assert (decision.from_level, decision.to_level) == (1, 2)
    assert codes(decision) == ["criteria_met"]
    assert decision.alert is False
    assert "Level 3" in decision.reasons[0].text


def test_settings_default_when_none_given():
    assert run(settings=None) == run(settings=ProgressionSettings())


# --- 1. pause ----------------------------------------------------------------------------------


def test_fall_pauses_plan():
    sessions = [*good_week()[:2], session(1, fall=True)]
    decision = run(sessions=sessions)
    assert decision.outcome == "pause"
    assert decision.alert is True
    assert decision.to_level == decision.from_level == 1
    assert codes(decision) == ["fall"]
    assert "13 March" in decision.reasons[0].text


def test_chest_pain_pauses_plan():
    sessions = [*good_week()[:2], session(1, chest_pain=True)]
    decision = run(sessions=sessions)
    assert decision.outcome == "pause"
    assert decision.alert is True
    assert codes(decision) == ["chest_pain"]


@pytest.mark.parametrize("field", ["pain_before", "pain_worst", "pain_after", "pain_next_morning"])
def test_any_pain_score_of_8_pauses_plan(field):
    sessions = [*good_week()[:2], session(1, **{field: 8})]
    decision = run(sessions=sessions)
    assert decision.outcome == "pause"
    assert decision.alert is True
    assert decision.to_level == 1
    assert "severe_pain" in codes(decision)
    assert "8/10" in reason(decision, "severe_pain").text


def test_two_severe_pains_on_one_day_are_named_the_same_whatever_order_they_were_logged_in():
    # Two sessions that day, 8/10 before one and during the other: the earlier moment is named,
    # however the sessions arrive (it named whichever came first).
    before, during = session(1, pain_before=8), session(1, pain_worst=8)
    texts = {
        reason(run(sessions=[*good_week()[:2], *pair]), "severe_pain").text
        for pair in ((before, during), (during, before))
    }
    assert len(texts) == 1
    assert "before the session" in texts.pop()


def test_pain_7_does_not_pause_but_worst_7_regresses():
    sessions = [*good_week()[:2], session(1, pain_worst=7)]
    decision = run(sessions=sessions)
    assert decision.outcome == "regress"
    assert "severe_pain" not in codes(decision)


def test_pain_after_7_alone_neither_pauses_nor_regresses():
    sessions = [*good_week()[:2], session(1, pain_worst=5, pain_after=7)]
    decision = run(sessions=sessions)
    assert decision.outcome == "advance"


def test_pause_keeps_level_even_at_first_level():
    decision = run(current=0, sessions=[*good_week(minutes_done=10)[:2], session(1, fall=True)])
    assert decision.outcome == "pause"
    assert decision.to_level == 0


def test_near_fall_holds_and_alerts():
    sessions = [*good_week()[:2], session(1, near_fall=True)]
    decision = run(sessions=sessions)
    assert decision.outcome == "hold"
    assert decision.alert is True
    assert decision.to_level == 1
    assert codes(decision) == ["near_fall"]


def test_dizziness_holds_and_alerts():
    sessions = [*good_week()[:2], session(1, dizziness=True)]
    decision = run(sessions=sessions)
    assert decision.outcome == "hold"
    assert decision.alert is True
    assert codes(decision) == ["dizziness"]


# --- 2. regress --------------------------------------------------------------------------------


def test_worst_pain_5_still_advances():
    decision = run(sessions=good_week(pain_worst=5))
    assert decision.outcome == "advance"


def test_worst_pain_6_regresses():
    sessions = [*good_week()[:2], session(1, pain_worst=6)]
    decision = run(sessions=sessions)
    assert decision.outcome == "regress"
    assert (decision.from_level, decision.to_level) == (1, 0)
    assert decision.alert is False
    assert codes(decision) == ["worst_pain_high"]


def test_worst_pain_reason_says_figures_and_date():
    sessions = [session(5), session(3), session(2, pain_worst=7)]
    decision = run(sessions=sessions)
    assert reason(decision, "worst_pain_high").text == (
        "Worst pain during exercise reached 7/10 on 12 March (regress above 5/10)."
    )


def test_worst_pain_reason_names_the_worst_session_and_counts_them():
    sessions = [session(5, pain_worst=6), session(3, pain_worst=7), session(1, pain_worst=6)]
    text = reason(run(sessions=sessions), "worst_pain_high").text
    assert "7/10 on 11 March" in text
    assert "3 sessions" in text


def test_next_morning_pain_above_baseline_regresses():
    sessions = [*good_week()[:2], session(1, pain_before=2, pain_next_morning=3)]
    decision = run(sessions=sessions)
    assert decision.outcome == "regress"
    assert codes(decision) == ["pain_not_settled"]
    assert "3/10, above the 2/10 before that session" in decision.reasons[0].text


def test_next_morning_pain_equal_to_baseline_counts_as_settled():
    decision = run(sessions=good_week(pain_before=3, pain_worst=4, pain_next_morning=3))
    assert decision.outcome == "advance"


def test_effort_6_does_not_regress():
    sessions = [*good_week()[:2], session(1, effort=6)]
    decision = run(sessions=sessions)
    assert decision.outcome == "advance"


def test_effort_7_regresses():
    sessions = [*good_week()[:2], session(1, effort=7)]
    decision = run(sessions=sessions)
    assert decision.outcome == "regress"
    assert codes(decision) == ["effort_high"]


def test_regress_at_lowest_level_holds_and_alerts():
    sessions = [*good_week(minutes_done=10)[:2], session(1, minutes_done=10, pain_worst=6)]
    decision = run(current=0, sessions=sessions)
    assert decision.outcome == "hold"
    assert decision.alert is True
    assert decision.to_level == 0
    assert codes(decision) == ["worst_pain_high", "lowest_level"]
    # The regress reason can only argue for holding here.
    assert {r.outcome for r in decision.reasons} == {"hold"}
    assert "clinician" in reason(decision, "lowest_level").text


def test_regress_from_top_level_goes_down_one():
    sessions = [*good_week(minutes_done=20)[:2], session(1, minutes_done=20, effort=8)]
    decision = run(current=3, sessions=sessions)
    assert decision.outcome == "regress"
    assert decision.to_level == 2


# --- the window --------------------------------------------------------------------------------


def test_fall_before_the_7_day_window_is_ignored():
    decision = run(sessions=[session(7, fall=True), *good_week()])
    assert decision.outcome == "advance"


def test_fall_on_the_first_day_of_the_window_counts():
    decision = run(sessions=[session(6, fall=True), *good_week()])
    assert decision.outcome == "pause"


def test_sessions_before_window_start_are_ignored_after_resume():
    resumed = TODAY - timedelta(days=4)
    decision = run(window_start=resumed, sessions=[session(5, pain_worst=9), *good_week()[1:]])
    assert decision.outcome == "advance"


def test_sessions_after_today_are_ignored():
    decision = run(sessions=[*good_week(), session(-1, chest_pain=True)])
    assert decision.outcome == "advance"


def test_longer_window_setting_looks_further_back():
    sessions = [session(10, near_fall=True), *good_week()]
    assert run(sessions=sessions).outcome == "advance"
    decision = run(sessions=sessions, settings=ProgressionSettings(window_days=14))
    assert decision.outcome == "hold"
    assert "near_fall" in codes(decision)


def test_session_order_does_not_matter():
    sessions = [*good_week()[:2], session(1, pain_worst=6, swelling="more")]
    assert run(sessions=sessions) == run(sessions=list(reversed(sessions)))


# --- several triggers --------------------------------------------------------------------------


def test_several_triggers_give_most_severe_outcome_with_all_reasons():
    sessions = [
        session(5, swelling="more"),
        session(3, pain_worst=7, near_fall=True),
        session(1, fall=True, pain_next_morning=None),
    ]
    decision = run(sessions=sessions, level_started_on=TODAY - timedelta(days=5))
    assert decision.outcome == "pause"
    assert decision.alert is True
    assert decision.to_level == 1
    assert codes(decision) == [
        "fall",
        "worst_pain_high",
        "near_fall",
        "swelling_more",
        "min_days",
        "next_morning_unknown",
    ]
    ranks = [OUTCOMES.index(r.outcome) for r in decision.reasons]
    assert ranks == sorted(ranks, reverse=True)


def test_regress_and_hold_reasons_together_regress():
    sessions = [*good_week()[:2], session(1, effort=8, swelling="more")]
    decision = run(sessions=sessions, constraints=Constraints(hold_progression=True))
    assert decision.outcome == "regress"
    assert codes(decision) == ["effort_high", "swelling_more", "hold_progression"]
    assert [r.outcome for r in decision.reasons] == ["regress", "hold", "hold"]


def test_regress_at_lowest_level_with_near_fall_lists_everything():
    sessions = [session(5, minutes_done=10), session(3, minutes_done=10, effort=7, near_fall=True)]
    decision = run(current=0, sessions=sessions)
    assert decision.outcome == "hold"
    assert codes(decision) == [
        "effort_high",
        "lowest_level",
        "near_fall",
        "low_adherence",
        "median_effort_high",
    ]


# --- inputs, outputs, vocabulary ---------------------------------------------------------------


def test_decision_to_dict_shape():
    decision = run(sessions=[*good_week()[:2], session(1, near_fall=True)])
    assert decision.to_dict() == {
        "outcome": "hold",
        "from_level": 1,
        "to_level": 1,
        "alert": True,
        "reasons": [
            {
                "code": "near_fall",
                "text": decision.reasons[0].text,
                "outcome": "hold",
                "days": [decision.reasons[0].days[0].isoformat()],
            },
        ],
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pain_worst": 11}, "pain_worst"),
        ({"pain_before": -1}, "pain_before"),
        ({"effort": 11}, "effort"),
        ({"pain_next_morning": 12}, "pain_next_morning"),
        ({"minutes_done": -5}, "minutes_done"),
        ({"swelling": "a bit"}, "swelling"),
    ],
)
def test_session_record_rejects_out_of_range_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        session(1, **overrides)


@pytest.mark.parametrize("current", [-1, 4])
def test_current_outside_the_ladder_is_rejected(current):
    with pytest.raises(ValueError, match="not one of"):
        run(current=current)


def test_vocabulary_constants():
    assert OUTCOMES == ("advance", "hold", "regress", "pause")
    assert SWELLING == ("none", "same", "more")
    assert ADVERSE_EVENTS == ("fall", "near_fall", "dizziness", "chest_pain")


def test_every_code_is_described_and_reachable():
    # One scenario per rule; the union must be exactly the documented codes.
    scenarios = [
        {},
        {"sessions": [*good_week(), session(1, fall=True, chest_pain=True, pain_after=9)]},
        {"sessions": [*good_week(), session(1, near_fall=True, dizziness=True)]},
        {"sessions": [*good_week(), session(1, setting=OVERGROUND)]},
        {"sessions": [*good_week(), session(1, speed_kmh=3.0)], "constraints": FALL_RISK},
        {"sessions": [*good_week(), session(1, pain_worst=6, effort=7, pain_next_morning=4)]},
        {"current": 0, "sessions": good_week(minutes_done=10, pain_worst=6)},
        {"sessions": [session(1, swelling="more", pain_next_morning=None, minutes_done=1)]},
        {"sessions": good_week(effort=5), "constraints": Constraints(hold_progression=True)},
        {"level_started_on": TODAY, "recent_advances": [TODAY, TODAY]},
        {"current": 3, "sessions": good_week(minutes_done=20)},
        {"levels": SPEED_LADDER[:3], "current": 0, "constraints": Constraints(max_speed_kmh=1.5)},
        {"settings": ProgressionSettings(advance_max_worst_pain=2)},
    ]
    seen: set[str] = set()
    for scenario in scenarios:
        decision = run(**scenario)
        seen.update(codes(decision))
        for r in decision.reasons:
            assert r.outcome in OUTCOMES
            assert r.text
    assert seen == set(REASON_CODES)
