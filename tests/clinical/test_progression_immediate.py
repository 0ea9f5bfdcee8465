"""Which sessions are evaluated before their log returns (CLINICAL.md §4.1): every one that
could pause the plan or alert a clinician by itself; any other may be evaluated moments later."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehab.clinical.levels import OVERGROUND, TREADMILL_BOTH_HANDRAILS, Constraints, Level
from rehab.clinical.progression import (
    PAUSE,
    ProgressionSettings,
    SessionRecord,
    evaluate,
    evaluate_at_once,
)
from tests.clinical.test_progression_properties import constraint_sets, day_logs, ladders

DAY = date(2025, 3, 3)
LEVEL = Level(
    name="Level 1",
    minutes=10,
    sessions_per_week=3,
    speed_kmh=1.5,
    incline_pct=0.0,
    setting=TREADMILL_BOTH_HANDRAILS,
    min_days=0,
)
QUIET = SessionRecord(
    day=DAY,
    minutes_done=10,
    pain_before=2,
    pain_worst=3,
    pain_after=2,
    pain_next_morning=None,
    effort=3,
    setting=TREADMILL_BOTH_HANDRAILS,
    speed_kmh=1.5,
)
# The reasons a session alone raises that alert a clinician at once (a pause alerts too).
SESSION_ALERTS = {"near_fall", "dizziness", "setting_not_allowed", "beyond_limits"}


def at_once(session: SessionRecord, constraints: Constraints | None = None) -> bool:
    return evaluate_at_once(session, LEVEL, constraints or Constraints(), ProgressionSettings())


def test_a_session_with_no_safety_signal_can_wait():
    assert not at_once(QUIET)
    # Pain high enough to regress, effort high enough to regress, more swelling: not a pause.
    assert not at_once(replace(QUIET, pain_worst=7, effort=8, swelling="more"))


@pytest.mark.parametrize(
    "signal",
    [
        {"fall": True},
        {"chest_pain": True},
        {"pain_before": 8},
        {"pain_worst": 9},
        {"pain_after": 10},
        {"pain_next_morning": 1},  # next-morning pain is always decided at once
        {"near_fall": True},
        {"dizziness": True},
        {"setting": OVERGROUND},  # outside the plan
        {"speed_kmh": 3.0},  # beyond the screening's cap below
    ],
)
def test_a_safety_signal_is_evaluated_at_once(signal):
    assert at_once(replace(QUIET, **signal), Constraints(max_speed_kmh=2.0))


def test_the_pause_threshold_is_the_plans_own():
    lower = ProgressionSettings(pause_pain=6)
    assert evaluate_at_once(replace(QUIET, pain_worst=6), LEVEL, Constraints(), lower)
    assert not at_once(replace(QUIET, pain_worst=6))


@given(
    log=day_logs,
    ladder=ladders(),
    data=st.data(),
    constraints=constraint_sets,
    pause_pain=st.integers(5, 10),
)
def test_a_session_that_pauses_or_alerts_by_itself_is_never_deferred(
    log, ladder, data, constraints, pause_pain
):
    current = data.draw(st.integers(0, len(ladder) - 1))
    settings = ProgressionSettings(pause_pain=pause_pain, hold_min_sessions=1)
    session = log.record(DAY, ladder[current])
    decision = evaluate(
        levels=ladder,
        current=current,
        constraints=constraints,
        sessions=[session],
        today=DAY,
        window_start=DAY,
        level_started_on=DAY,
        recent_advances=[],
        settings=settings,
    )
    if decision.outcome == PAUSE or SESSION_ALERTS & {r.code for r in decision.reasons}:
        assert evaluate_at_once(session, ladder[current], constraints, settings)
