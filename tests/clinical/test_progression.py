"""Progression and regression rules (docs/clinical.md §4)."""

from __future__ import annotations

from dataclasses import replace
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


# --- a session on a setting the plan does not allow (§3 constraints, §4 hold + alert) --------

FALL_RISK = Constraints(
    supervised_only=True,
    handrails_required=True,
    allowed_settings=frozenset({PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS}),
    max_speed_kmh=1.5,
    max_incline_pct=0,
)


def test_overground_under_fall_risk_constraints_holds_and_alerts_in_words():
    sessions = [*good_week()[:2], session(1, setting=OVERGROUND)]
    decision = run(sessions=sessions, constraints=FALL_RISK)
    assert decision.outcome == "hold"
    assert decision.alert is True
    assert decision.to_level == decision.from_level == 1
    assert "setting_not_allowed" in codes(decision)
    assert reason(decision, "setting_not_allowed").text == (
        "Logged on a setting the plan does not allow: overground, in a clear level space on "
        "13 March (the plan allows: parallel bars, treadmill, holding both handrails). Staying "
        "at this level; the clinician has been alerted."
    )


def test_less_support_than_the_level_prescribes_holds_even_without_constraints():
    # Level 2 holds both rails; a light touch skips the step that takes support away.
    sessions = [*good_week()[:2], session(1, setting=TREADMILL_LIGHT_TOUCH)]
    decision = run(sessions=sessions)
    assert decision.outcome == "hold"
    assert decision.alert is True
    assert codes(decision) == ["setting_not_allowed"]
    assert "the plan allows: parallel bars, treadmill, holding both handrails" in (
        decision.reasons[0].text
    )


@pytest.mark.parametrize("setting", [PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS, None])
def test_the_prescribed_setting_more_support_or_an_unknown_one_still_advances(setting):
    decision = run(sessions=good_week(setting=setting))
    assert decision.outcome == "advance"
    assert decision.alert is False


def test_the_capped_level_decides_what_is_allowed():
    # Level 4 is overground; under handrail constraints it is capped to both rails, so both
    # rails is what the plan allows, and a light touch is still too little support.
    week = [session(d, minutes_done=20) for d in (5, 3, 1)]
    ok = run(current=3, sessions=week, constraints=FALL_RISK)
    assert "setting_not_allowed" not in codes(ok)
    light = [*week[:2], session(1, minutes_done=20, setting=TREADMILL_LIGHT_TOUCH)]
    held = run(current=3, sessions=light, constraints=FALL_RISK)
    assert "setting_not_allowed" in codes(held)
    assert held.alert is True


def test_every_setting_outside_is_named_with_its_days_most_support_first():
    sessions = [
        session(5, setting=OVERGROUND),
        session(3, setting=TREADMILL_LIGHT_TOUCH),
        session(1, setting=OVERGROUND),
    ]
    text = reason(run(sessions=sessions, constraints=FALL_RISK), "setting_not_allowed").text
    assert text.startswith(
        "Logged on a setting the plan does not allow: treadmill, one hand or light touch on the "
        "rail on 11 March; overground, in a clear level space on 9 March and 13 March (the plan "
        "allows: "
    )


def test_a_session_outside_before_the_window_is_not_held_against_the_plan():
    sessions = [session(9, setting=OVERGROUND), *good_week()]
    decision = run(sessions=sessions, constraints=FALL_RISK)
    assert decision.outcome == "advance"


def test_regress_still_wins_over_the_setting_hold_and_the_clinician_is_alerted():
    sessions = [*good_week()[:2], session(1, setting=OVERGROUND, pain_worst=7)]
    decision = run(sessions=sessions, constraints=FALL_RISK)
    assert decision.outcome == "regress"
    assert decision.alert is True
    assert "setting_not_allowed" in codes(decision)


def test_a_fall_on_a_setting_outside_pauses_and_names_both():
    sessions = [*good_week()[:2], session(1, setting=OVERGROUND, fall=True)]
    decision = run(sessions=sessions, constraints=FALL_RISK)
    assert decision.outcome == "pause"
    assert codes(decision)[:2] == ["fall", "setting_not_allowed"]


def test_session_record_rejects_an_unknown_setting():
    with pytest.raises(ValueError, match="setting"):
        session(1, setting="trampoline")


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


# --- 3. hold -----------------------------------------------------------------------------------


def test_one_session_in_window_holds():
    ladder = (LADDER[0], replace(LADDER[1], sessions_per_week=1), *LADDER[2:])
    decision = run(levels=ladder, sessions=[session(3)])
    assert decision.outcome == "hold"
    assert codes(decision) == ["too_few_sessions"]


def test_two_sessions_in_window_is_enough():
    ladder = (LADDER[0], replace(LADDER[1], sessions_per_week=1), *LADDER[2:])
    decision = run(levels=ladder, sessions=[session(3), session(1)])
    assert decision.outcome == "advance"


def test_no_sessions_in_window_holds_and_never_advances():
    decision = run(sessions=[])
    assert decision.outcome == "hold"
    assert "too_few_sessions" in codes(decision)
    assert "low_adherence" in codes(decision)


def test_adherence_exactly_80_percent_advances():
    ladder = (LADDER[0], replace(LADDER[1], sessions_per_week=5), *LADDER[2:])
    decision = run(levels=ladder, sessions=[session(d) for d in (6, 4, 2, 0)])
    assert decision.outcome == "advance"


def test_adherence_below_80_percent_holds():
    ladder = (LADDER[0], replace(LADDER[1], sessions_per_week=5), *LADDER[2:])
    decision = run(levels=ladder, sessions=[session(d) for d in (6, 4, 2)])
    assert decision.outcome == "hold"
    assert codes(decision) == ["low_adherence"]
    assert "3 of about 5 prescribed" in decision.reasons[0].text
    assert "60 %" in decision.reasons[0].text


def test_two_of_three_sessions_is_below_80_percent():
    decision = run(sessions=good_week()[:2])
    assert codes(decision) == ["low_adherence"]


def test_planned_sessions_of_the_adherence_rule_replace_the_weekly_estimate():
    # Three good sessions, but on rest days: by the plan's calendar none of its 3 planned
    # sessions was done (the plan service gives these counts from rehab.clinical.adherence).
    decision = run(sessions=good_week(), planned=(0, 3))
    assert codes(decision) == ["low_adherence"]
    assert "0 of 3 planned sessions done" in decision.reasons[0].text
    # Today's walk not due yet: 2 of 2 is all that was asked.
    assert run(sessions=good_week()[:2], planned=(2, 2)).outcome == "advance"
    assert "low_adherence" not in codes(run(sessions=good_week(), planned=(0, 0)))


def test_adherence_is_prorated_to_a_short_window_after_resuming():
    # Resumed 3 days ago: about 1.3 sessions prescribed at 3 a week, so 2 sessions are enough.
    decision = run(window_start=TODAY - timedelta(days=2), sessions=[session(2), session(1)])
    assert decision.outcome == "advance"


def test_swelling_more_holds():
    sessions = [*good_week()[:2], session(1, swelling="more")]
    decision = run(sessions=sessions)
    assert decision.outcome == "hold"
    assert codes(decision) == ["swelling_more"]


def test_swelling_same_does_not_hold():
    assert run(sessions=good_week(swelling="same")).outcome == "advance"


def test_hold_progression_constraint_holds():
    decision = run(constraints=Constraints(hold_progression=True))
    assert decision.outcome == "hold"
    assert codes(decision) == ["hold_progression"]


def test_min_days_not_reached_the_day_before_holds():
    decision = run(level_started_on=TODAY - timedelta(days=6))
    assert decision.outcome == "hold"
    assert codes(decision) == ["min_days"]
    assert "6 days at this level so far" in decision.reasons[0].text
    assert "at least 7" in decision.reasons[0].text


def test_min_days_reached_on_the_day_advances():
    assert run(level_started_on=TODAY - timedelta(days=7)).outcome == "advance"


def test_top_level_holds_and_says_protocol_finished():
    decision = run(current=3, sessions=good_week(minutes_done=20))
    assert decision.outcome == "hold"
    assert decision.to_level == 3
    assert codes(decision) == ["top_level"]
    assert "finished" in decision.reasons[0].text
    assert "complete the plan" in decision.reasons[0].text


# A ladder whose later levels only raise the speed: under a speed cap they are all the same.
SPEED_LADDER = (
    Level("Speed 1", 15, 3, 1.5, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
    Level("Speed 2", 15, 3, 2.0, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
    Level("Speed 3", 15, 3, 2.5, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
    Level("Longer", 20, 3, 2.5, 0, TREADMILL_BOTH_HANDRAILS, min_days=7),
)


def test_next_levels_identical_under_the_cap_hold_and_name_the_cap():
    decision = run(levels=SPEED_LADDER[:3], current=0, constraints=Constraints(max_speed_kmh=1.5))
    assert decision.outcome == "hold"
    assert codes(decision) == ["next_level_capped"]
    assert "speed capped at 1.5 km/h (was 2 km/h)" in decision.reasons[0].text


def test_levels_identical_under_the_cap_are_stepped_over_to_the_next_real_change():
    decision = run(levels=SPEED_LADDER, current=0, constraints=Constraints(max_speed_kmh=1.5))
    assert decision.outcome == "advance"
    assert decision.to_level == 3
    assert "Longer" in decision.reasons[0].text


def test_next_level_with_a_capped_speed_but_more_minutes_advances():
    # Level 3 asks 2.5 km/h (capped to 2.0) but also 20 min instead of 15: a real step.
    decision = run(constraints=Constraints(max_speed_kmh=2.0))
    assert decision.outcome == "advance"
    assert decision.to_level == 2


def test_supervised_only_does_not_stop_progression():
    # Every capped level is supervised, so supervision alone is never a difference.
    decision = run(constraints=Constraints(supervised_only=True, handrails_required=True))
    assert decision.outcome == "advance"


def test_regress_steps_back_over_levels_identical_under_the_cap():
    decision = run(
        levels=SPEED_LADDER,
        current=3,
        constraints=Constraints(max_speed_kmh=1.5),
        sessions=good_week(minutes_done=20, pain_worst=6),
    )
    assert decision.outcome == "regress"
    assert decision.to_level == 2


def test_regress_with_only_identical_levels_below_holds_and_alerts():
    decision = run(
        levels=SPEED_LADDER[:3],
        current=2,
        constraints=Constraints(max_speed_kmh=1.5),
        sessions=good_week(pain_worst=6),
    )
    assert decision.outcome == "hold"
    assert decision.alert
    assert "lowest_level" in codes(decision)


def test_next_level_within_constraints_advances():
    assert run(constraints=Constraints(max_speed_kmh=2.5, max_incline_pct=0)).outcome == "advance"


def test_one_advance_in_last_7_days_still_allows_advance():
    assert run(recent_advances=[TODAY - timedelta(days=3)]).outcome == "advance"


def test_two_advances_in_last_7_days_hold():
    decision = run(recent_advances=[TODAY - timedelta(days=6), TODAY - timedelta(days=2)])
    assert decision.outcome == "hold"
    assert codes(decision) == ["step_limit"]


def test_advance_7_days_ago_no_longer_counts():
    decision = run(recent_advances=[TODAY - timedelta(days=7), TODAY - timedelta(days=2)])
    assert decision.outcome == "advance"


def test_missing_next_morning_pain_holds():
    sessions = [*good_week()[:2], session(1, pain_next_morning=None)]
    decision = run(sessions=sessions)
    assert decision.outcome == "hold"
    assert codes(decision) == ["next_morning_unknown"]
    assert "13 March" in decision.reasons[0].text


def test_median_effort_4_advances():
    sessions = [
        session(6, effort=3),
        session(4, effort=4),
        session(2, effort=4),
        session(1, effort=5),
    ]
    assert run(sessions=sessions).outcome == "advance"


def test_median_effort_4_5_holds():
    sessions = [
        session(6, effort=4),
        session(4, effort=4),
        session(2, effort=5),
        session(1, effort=5),
    ]
    decision = run(sessions=sessions)
    assert decision.outcome == "hold"
    assert codes(decision) == ["median_effort_high"]
    assert "4.5/10" in decision.reasons[0].text


def test_minutes_at_90_percent_of_target_advance():
    ladder = (LADDER[0], replace(LADDER[1], minutes=100), *LADDER[2:])
    assert run(levels=ladder, sessions=good_week(minutes_done=90)).outcome == "advance"


def test_minutes_at_89_percent_of_target_hold():
    ladder = (LADDER[0], replace(LADDER[1], minutes=100), *LADDER[2:])
    sessions = [*good_week(minutes_done=90)[:2], session(1, minutes_done=89)]
    decision = run(levels=ladder, sessions=sessions)
    assert decision.outcome == "hold"
    assert codes(decision) == ["minutes_short"]
    assert "89 of 100 minutes" in decision.reasons[0].text


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


# --- settings ----------------------------------------------------------------------------------


def test_lower_pause_pain_setting_pauses_earlier():
    sessions = [*good_week()[:2], session(1, pain_after=6)]
    assert run(sessions=sessions).outcome == "advance"
    assert run(sessions=sessions, settings=ProgressionSettings(pause_pain=6)).outcome == "pause"


def test_regress_worst_pain_setting_changes_the_threshold():
    settings = ProgressionSettings(regress_worst_pain_above=3, advance_max_worst_pain=3)
    decision = run(sessions=good_week(pain_worst=4), settings=settings)
    assert decision.outcome == "regress"
    assert "regress above 3/10" in decision.reasons[0].text


def test_advance_worst_pain_setting_below_regress_limit_holds():
    settings = ProgressionSettings(advance_max_worst_pain=3)
    assert run(sessions=good_week(pain_worst=3), settings=settings).outcome == "advance"
    decision = run(sessions=good_week(pain_worst=4), settings=settings)
    assert decision.outcome == "hold"
    assert codes(decision) == ["worst_pain_above_advance"]
    assert "4/10" in decision.reasons[0].text
    assert "3/10 or less" in decision.reasons[0].text


def test_advance_worst_pain_limit_is_not_repeated_when_pain_already_regresses():
    sessions = [*good_week()[:2], session(1, pain_worst=6)]
    decision = run(sessions=sessions, settings=ProgressionSettings(advance_max_worst_pain=3))
    assert codes(decision) == ["worst_pain_high"]


def test_regress_effort_setting_changes_the_threshold():
    sessions = [*good_week()[:2], session(1, effort=6)]
    assert run(sessions=sessions, settings=ProgressionSettings(regress_effort=6)).outcome == (
        "regress"
    )


def test_adherence_and_min_sessions_settings():
    settings = ProgressionSettings(hold_adherence_ratio=0.5, hold_min_sessions=3)
    decision = run(sessions=good_week()[:2], settings=settings)
    assert codes(decision) == ["too_few_sessions"]
    relaxed = ProgressionSettings(hold_adherence_ratio=0.5, hold_min_sessions=2)
    assert run(sessions=good_week()[:2], settings=relaxed).outcome == "advance"


def test_advance_effort_and_minutes_settings():
    sessions = good_week(effort=5, minutes_done=12)
    assert codes(run(sessions=sessions)) == ["median_effort_high", "minutes_short"]
    settings = ProgressionSettings(advance_max_median_effort=5, advance_min_minutes_ratio=0.8)
    assert run(sessions=sessions, settings=settings).outcome == "advance"


def test_step_limit_setting():
    advances = [TODAY - timedelta(days=2)]
    assert run(recent_advances=advances).outcome == "advance"
    decision = run(
        recent_advances=advances, settings=ProgressionSettings(max_advances_per_7_days=1)
    )
    assert codes(decision) == ["step_limit"]


def test_settings_from_none_or_empty_are_defaults():
    assert ProgressionSettings.from_dict(None) == ProgressionSettings()
    assert ProgressionSettings.from_dict({}) == ProgressionSettings()


def test_settings_from_dict_overrides_only_given_keys():
    settings = ProgressionSettings.from_dict({"pause_pain": 7, "hold_adherence_ratio": 0.5})
    assert settings.pause_pain == 7
    assert settings.hold_adherence_ratio == 0.5
    assert settings.window_days == 7


def test_settings_round_trip_through_dict():
    settings = ProgressionSettings(pause_pain=9, advance_max_median_effort=3.5, window_days=10)
    data = settings.to_dict()
    assert set(data) == {
        "pause_pain",
        "regress_worst_pain_above",
        "regress_effort",
        "hold_adherence_ratio",
        "hold_min_sessions",
        "advance_max_worst_pain",
        "advance_max_median_effort",
        "advance_min_minutes_ratio",
        "max_advances_per_7_days",
        "window_days",
    }
    assert ProgressionSettings.from_dict(data) == settings


def test_settings_accept_whole_floats_for_whole_number_fields():
    assert ProgressionSettings.from_dict({"window_days": 14.0}).window_days == 14


def test_settings_unknown_key_is_rejected_by_name():
    with pytest.raises(ValueError, match="pause_pian"):
        ProgressionSettings.from_dict({"pause_pian": 8})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pause_pain", 11),
        ("pause_pain", -1),
        ("regress_worst_pain_above", 10.5),
        ("regress_effort", 12),
        ("hold_adherence_ratio", 1.5),
        ("hold_adherence_ratio", -0.1),
        ("hold_min_sessions", 0),
        ("advance_max_worst_pain", 11),
        ("advance_max_median_effort", 10.5),
        ("advance_min_minutes_ratio", 1.1),
        ("max_advances_per_7_days", -1),
        ("window_days", 0),
        ("window_days", "7"),
        ("pause_pain", True),
        ("pause_pain", None),
    ],
)
def test_settings_out_of_range_or_wrong_type_is_rejected(key, value):
    with pytest.raises(ValueError, match=key):
        ProgressionSettings.from_dict({key: value})


def test_settings_built_in_code_are_validated_too():
    with pytest.raises(ValueError, match="window_days"):
        ProgressionSettings(window_days=0)


# --- inputs, outputs, vocabulary ---------------------------------------------------------------


def test_decision_to_dict_shape():
    decision = run(sessions=[*good_week()[:2], session(1, near_fall=True)])
    assert decision.to_dict() == {
        "outcome": "hold",
        "from_level": 1,
        "to_level": 1,
        "alert": True,
        "reasons": [
            {"code": "near_fall", "text": decision.reasons[0].text, "outcome": "hold"},
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


# --- a session beyond the screening's speed and slope limits (§3 constraints, §4 hold) ---------


def test_a_session_faster_than_the_cap_holds_and_alerts_in_words():
    sessions = [*good_week(speed_kmh=1.5)[:2], session(1, speed_kmh=2.5)]
    decision = run(sessions=sessions, constraints=Constraints(max_speed_kmh=1.5))
    assert decision.outcome == "hold"
    assert decision.alert is True
    assert codes(decision) == ["beyond_limits"]
    assert reason(decision, "beyond_limits").text == (
        "Logged beyond the screening's limits: 2.5 km/h on 13 March (the plan allows at most "
        "1.5 km/h). Staying at this level; the clinician has been alerted."
    )


def test_a_slope_on_a_plan_that_allows_none_holds_and_names_it():
    sessions = [*good_week()[:2], session(1, incline_pct=4)]
    decision = run(sessions=sessions, constraints=Constraints(max_incline_pct=0))
    assert decision.outcome == "hold"
    assert reason(decision, "beyond_limits").text == (
        "Logged beyond the screening's limits: a 4 % slope on 13 March (the plan allows no "
        "slope). Staying at this level; the clinician has been alerted."
    )


def test_speed_and_slope_beyond_are_named_together_day_by_day():
    sessions = [session(5, speed_kmh=2), session(3, incline_pct=6), session(1, speed_kmh=1.5)]
    limits = Constraints(max_speed_kmh=1.5, max_incline_pct=5)
    text = reason(run(sessions=sessions, constraints=limits), "beyond_limits").text
    assert text == (
        "Logged beyond the screening's limits: 2 km/h on 9 March (the plan allows at most 1.5 "
        "km/h); a 6 % slope on 11 March (the plan allows a slope of at most 5 %). Staying at this "
        "level; the clinician has been alerted."
    )


@pytest.mark.parametrize(
    ("speed", "incline"), [(1.5, 0), (1.0, 0), (None, 0), (None, None), (1.5, None)]
)
def test_at_or_under_the_limits_or_unknown_still_advances(speed, incline):
    sessions = good_week(speed_kmh=speed, incline_pct=incline)
    decision = run(sessions=sessions, constraints=Constraints(max_speed_kmh=1.5, max_incline_pct=0))
    assert "beyond_limits" not in codes(decision)
    assert decision.outcome == "advance"


def test_without_caps_any_speed_or_slope_is_the_plans_own_business():
    decision = run(sessions=good_week(speed_kmh=6.0, incline_pct=12))
    assert "beyond_limits" not in codes(decision)


def test_a_pause_still_wins_over_the_limits_hold_and_names_both():
    sessions = [*good_week()[:2], session(1, speed_kmh=3.0, chest_pain=True)]
    decision = run(sessions=sessions, constraints=FALL_RISK)
    assert decision.outcome == "pause"
    assert "beyond_limits" in codes(decision)


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
    assert all(REASON_CODES.values())
