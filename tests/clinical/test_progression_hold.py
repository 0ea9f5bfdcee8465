"""Why progression holds (docs/clinical.md §4): the hold rules, and sessions done outside what the
plan allows (setting, speed, slope), which hold and alert."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from rehab.clinical.levels import (
    OVERGROUND,
    PARALLEL_BARS,
    TREADMILL_BOTH_HANDRAILS,
    TREADMILL_LIGHT_TOUCH,
    Constraints,
)
from tests.clinical.test_progression import (
    FALL_RISK,
    LADDER,
    SPEED_LADDER,
    TODAY,
    codes,
    good_week,
    reason,
    run,
    session,
)

# --- a session on a setting the plan does not allow (§3 constraints, §4 hold + alert) --------


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
