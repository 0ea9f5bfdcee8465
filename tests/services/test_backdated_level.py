"""A session logged late records the level the plan prescribed on its day, not the level the plan
has reached since: the patient walked what that day's level asked. Its level is what the record,
the patient page, the API and the reports show; it decides which level's rules may judge the
session (a next morning's report, the current level's window) and what the session is checked
against for a setting outside the plan. The level a day had is the one that started on it or
before (Plan.level_started_on and the applied level changes): a session of the day a level
started counts at that level, as one logged that day after the change does."""

from __future__ import annotations

import pytest

from rehab import services
from rehab.clinical import levels as L
from rehab.models import Alert, SessionLog
from tests.factories import TODAY, builtin_protocol, good_session
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def _log(plan, actor, on, today, **overrides) -> SessionLog:
    return services.session_log(
        plan=plan, actor=actor, date=on, today=today, **good_session(**overrides)
    )


def _move(plan, actor, level: int, on: int) -> None:
    services.plan_set_level(
        plan=plan, level=level, actor=actor, reason="Clinician's call", today=day(on)
    )


def test_a_session_logged_after_a_level_change_for_a_day_before_it_keeps_that_days_level(
    plan, actor
):
    _move(plan, actor, 1, on=3)
    assert _log(plan, actor, day(2), today=day(4)).level_index == 0
    assert _log(plan, actor, day(3), today=day(4)).level_index == 1  # the level started that day
    assert _log(plan, actor, day(4), today=day(4)).level_index == 1


def test_each_day_between_several_level_changes_keeps_its_own_level(plan, actor):
    _move(plan, actor, 2, on=2)
    _move(plan, actor, 1, on=5)  # a step back
    _move(plan, actor, 3, on=7)
    levels = {
        n: _log(plan, actor, day(n), today=day(8)).level_index for n in (0, 1, 2, 4, 5, 6, 7, 8)
    }
    assert levels == {0: 0, 1: 0, 2: 2, 4: 2, 5: 1, 6: 1, 7: 3, 8: 3}


def test_two_changes_on_one_day_give_that_day_the_last_one(plan, actor):
    _move(plan, actor, 2, on=2)
    _move(plan, actor, 1, on=2)  # corrected the same day
    _move(plan, actor, 3, on=4)
    assert _log(plan, actor, day(2), today=day(5)).level_index == 1
    assert _log(plan, actor, day(3), today=day(5)).level_index == 1


def test_an_advance_applied_by_the_rules_dates_the_level_history(auto_plan, actor):
    """Two good sessions earn an advance, applied at once on day(3); the walk of day(1), logged
    on day(4), was at the first level."""
    for n in (0, 2):
        _log(auto_plan, actor, day(n), today=day(n + 1), pain_next_morning=2)
    auto_plan.refresh_from_db()
    assert (auto_plan.current_level, auto_plan.level_started_on) == (1, day(3))
    assert _log(auto_plan, actor, day(1), today=day(4)).level_index == 0


def test_an_approved_advance_dates_the_level_history(plan, actor):
    """The advance suggested on day(3) was approved on day(4): day(3) was still the first
    level's."""
    for n in (0, 2):
        _log(plan, actor, day(n), today=day(n + 1), pain_next_morning=2)
    suggestion = plan.decisions.order_by("-id").first()
    assert (suggestion.outcome, suggestion.status) == ("advance", "pending")
    services.decision_approve(decision=suggestion, actor=actor, today=day(4))
    assert _log(plan, actor, day(3), today=day(5)).level_index == 0
    assert _log(plan, actor, day(4), today=day(5)).level_index == 1


@pytest.fixture
def rails_ladder(clinic, actor):
    """Two levels that differ by their setting alone: both rails, then one hand on the rail."""
    copy = services.protocol_copy(
        protocol=builtin_protocol(L.KNEE_OA), clinic=clinic, actor=actor, name="Rails ladder"
    )
    both = {
        "name": "Both rails",
        "minutes": 10,
        "sessions_per_week": 3,
        "speed_kmh": 1.5,
        "incline_pct": 0,
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "min_days": 3,
    }
    light = {**both, "name": "One hand", "setting": L.TREADMILL_LIGHT_TOUCH}
    return services.protocol_update(protocol=copy, actor=actor, levels=[both, light])


def test_a_late_session_at_the_setting_its_days_level_allowed_is_not_outside_the_plan(
    screened, rails_ladder, actor
):
    """One hand on the rail was the plan's level on day(3); the clinician stepped back to both
    rails on day(4). The walk of day(3), logged on day(5) with one hand on the rail, followed the
    plan: no off-plan alert, no hold for it, and its evaluation is the ordinary deferred one."""
    plan = services.plan_assign(
        patient=screened, protocol=rails_ladder, actor=actor, start_date=TODAY, today=TODAY
    )
    _move(plan, actor, 1, on=1)
    _move(plan, actor, 0, on=4)
    walked = _log(plan, actor, day(3), today=day(5), setting=L.TREADMILL_LIGHT_TOUCH)
    assert walked.level_index == 1
    assert walked.evaluation_due_on == day(5)
    assert not Alert.objects.filter(kind=Alert.Kind.OFF_PLAN).exists()


def test_the_same_setting_on_a_day_of_the_level_with_both_rails_is_outside_the_plan(
    screened, rails_ladder, actor
):
    """The guard's other side: one hand on the rail on a day whose level asked for both is
    outside the plan, logged late or not, and the clinicians are told at once."""
    plan = services.plan_assign(
        patient=screened, protocol=rails_ladder, actor=actor, start_date=TODAY, today=TODAY
    )
    _move(plan, actor, 1, on=4)
    walked = _log(plan, actor, day(2), today=day(5), setting=L.TREADMILL_LIGHT_TOUCH)
    assert walked.level_index == 0
    assert walked.evaluation_due_on is None
    assert Alert.objects.filter(kind=Alert.Kind.OFF_PLAN).exists()


def test_mild_next_morning_pain_on_a_session_of_an_earlier_level_is_not_judged_by_this_ones_rules(
    plan, actor
):
    """The walk of day(2) was at the first level; the plan moved on day(3). Its next morning's
    mild pain, told on day(4), is no news for the current level's rules: no decision."""
    _move(plan, actor, 1, on=3)
    walked = _log(plan, actor, day(2), today=day(4))
    services.session_evaluate(session_id=walked.pk)
    before = plan.decisions.count()
    services.session_add_next_morning_pain(session=walked, pain=3, actor=actor, today=day(4))
    assert plan.decisions.count() == before
