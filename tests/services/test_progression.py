import pytest

from rehab import services, tasks
from rehab.audit import AuditAction
from rehab.clinical import adherence
from rehab.errors import RehabError
from rehab.models import AuditEvent, ProgressionDecision
from tests.factories import active_plan, good_session
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def good_week(plan, actor, **overrides):
    """Two good sessions on days 0 and 2, each logged the next morning with its next-morning
    pain: enough (2 sessions, 3 days at a level that asks for 3) to earn an advance on day 3."""
    for n in (0, 2):
        services.session_log(
            plan=plan,
            actor=actor,
            date=day(n),
            today=day(n + 1),
            pain_next_morning=2,
            **good_session(**overrides),
        )
    return plan.decisions.order_by("-id").first()


def evaluate(plan, n):
    return services.progression_evaluate(plan=plan, trigger="nightly", today=day(n))


def test_good_week_advances_at_once_when_the_plan_applies_decisions_itself(auto_plan, actor):
    decision = good_week(auto_plan, actor)
    auto_plan.refresh_from_db()
    assert decision.outcome == "advance"
    assert decision.trigger == "session"
    assert decision.status == "applied"
    assert auto_plan.current_level == 1
    assert auto_plan.level_started_on == day(3)


def test_good_sessions_on_rest_days_only_hold_for_low_adherence(plan, actor):
    # Tuesday and Thursday instead of Monday and Wednesday: done, but not the plan's sessions,
    # which were missed (by the one adherence rule). Before it, 2 sessions against about 2.1
    # prescribed in 5 days advanced.
    for n in (1, 3):
        services.session_log(
            plan=plan,
            actor=actor,
            date=day(n),
            today=day(n + 1),
            pain_next_morning=2,
            **good_session(),
        )
    decision = plan.decisions.order_by("-id").first()
    assert decision.outcome == "hold"
    low = next(r for r in decision.reasons if r["code"] == "low_adherence")
    assert low["text"].startswith("0 of 2 planned sessions done")


def test_good_week_waits_for_approval_by_default(plan, actor):
    decision = good_week(plan, actor)
    plan.refresh_from_db()
    assert decision.status == "pending"
    assert plan.current_level == 0


def test_approving_a_pending_advance_moves_the_plan(plan, actor):
    decision = good_week(plan, actor)
    assert decision.outcome == "advance"
    services.decision_approve(decision=decision, actor=actor, note="Agreed", today=day(4))
    plan.refresh_from_db()
    decision.refresh_from_db()
    assert plan.current_level == 1
    assert decision.status == "approved"
    assert decision.decided_by == actor


def test_rejecting_a_pending_advance_keeps_the_level(plan, actor):
    decision = good_week(plan, actor)
    services.decision_reject(decision=decision, actor=actor, note="Wait for review")
    plan.refresh_from_db()
    decision.refresh_from_db()
    assert plan.current_level == 0
    assert decision.status == "rejected"


def test_a_decided_decision_cannot_be_decided_again(plan, actor):
    decision = good_week(plan, actor)
    services.decision_reject(decision=decision, actor=actor)
    with pytest.raises(RehabError) as exc:
        services.decision_approve(decision=decision, actor=actor)
    assert exc.value.code == "decision_not_pending"


def test_approving_after_the_level_changed_is_refused(plan, actor):
    decision = good_week(plan, actor)
    services.plan_set_level(
        plan=plan, level=2, actor=actor, reason="Clinician moved it", today=day(5)
    )
    decision.refresh_from_db()
    # The manual change superseded the pending decision.
    assert decision.status == "superseded"
    with pytest.raises(RehabError) as exc:
        services.decision_approve(decision=decision, actor=actor)
    assert exc.value.code == "decision_not_pending"


def test_the_same_result_is_recorded_once(plan, actor):
    good_week(plan, actor)
    first = evaluate(plan, 3)
    again = evaluate(plan, 3)
    assert first.pk == again.pk
    assert plan.decisions.filter(outcome="advance").count() == 1


def test_pain_above_five_regresses_an_auto_plan(
    auto_plan, actor, django_capture_on_commit_callbacks
):
    services.plan_set_level(
        plan=auto_plan, level=2, actor=actor, reason="Start higher", today=day(0)
    )
    with django_capture_on_commit_callbacks(execute=True):  # the deferred evaluation runs
        services.session_log(
            plan=auto_plan, actor=actor, date=day(1), today=day(1), **good_session(pain_worst=6)
        )
    auto_plan.refresh_from_db()
    decision = auto_plan.decisions.filter(trigger="session").get()
    assert decision.outcome == "regress"
    assert auto_plan.current_level == 1


def test_regress_at_the_first_level_holds_and_alerts(
    auto_plan, actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the deferred evaluation runs
        services.session_log(
            plan=auto_plan, actor=actor, date=day(1), today=day(1), **good_session(effort=7)
        )
    decision = auto_plan.decisions.get()
    assert decision.outcome == "hold"
    assert decision.alert
    assert "lowest_level" in decision.reason_codes


def test_never_more_than_two_advances_in_seven_days(auto_plan, actor):
    # Ladder levels need 3 days each; logging every day with good data tries to climb fast.
    for n in range(0, 7):
        services.session_log(
            plan=auto_plan,
            actor=actor,
            date=day(n),
            today=day(n + 1),
            pain_next_morning=2,
            **good_session(minutes_done=40),
        )
        evaluate(auto_plan, n + 1)
    advances = auto_plan.decisions.filter(outcome="advance", status="applied")
    days = sorted(advances.values_list("applied_on", flat=True))
    for first in days:
        assert sum(1 for d in days if 0 <= (d - first).days < 7) <= 2


def test_plan_paused_by_a_safety_event_is_not_evaluated(plan, actor):
    services.session_log(
        plan=plan, actor=actor, date=day(1), today=day(1), **good_session(fall=True)
    )
    assert evaluate(plan, 3) is None


def test_a_fall_logged_days_later_pauses_the_plan_from_the_day_of_the_fall(plan, actor):
    """A fall on Tuesday logged on Friday: Wednesday and Thursday were paused days, not missed
    ones (the plan walks Monday to Friday here)."""
    plan.schedule_days = [0, 1, 2, 3, 4]
    plan.save()
    services.session_log(
        plan=plan, actor=actor, date=day(1), today=day(4), **good_session(fall=True)
    )
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert plan.pause_spans() == ((day(1), None),)
    walked = adherence.adherence(
        plan.adherence_days(), first=day(0), last=day(4), walked={day(1)}, today=day(4)
    )
    assert (walked.done, walked.due) == (1, 2)  # Monday missed, Tuesday walked; no more due


def test_severe_next_morning_pain_added_later_pauses_from_the_day_of_the_session(plan, actor):
    session = services.session_log(
        plan=plan, actor=actor, date=day(1), today=day(1), **good_session()
    )
    services.session_add_next_morning_pain(session=session, pain=9, actor=actor, today=day(4))
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert plan.pause_spans() == ((day(1), None),)


def test_nightly_task_evaluates_every_active_plan_and_skips_paused(db):
    active = active_plan()
    paused = active_plan()
    services.plan_pause(plan=paused, actor=None, reason="Away")
    batches = tasks.progression_nightly.delay(batch_size=1).get()
    assert batches == 1
    nightly = ProgressionDecision.objects.filter(trigger="nightly")
    assert list(nightly.values_list("plan_id", flat=True)) == [active.pk]


def test_nightly_task_pages_through_plans_in_batches(db):
    plans = [active_plan() for _ in range(5)]
    batches = tasks.progression_nightly.delay(batch_size=2).get()
    assert batches == 3
    assert ProgressionDecision.objects.filter(trigger="nightly").count() == len(plans)
    # Running it again records nothing new: the results are the same.
    tasks.progression_nightly.delay(batch_size=2).get()
    assert ProgressionDecision.objects.filter(trigger="nightly").count() == len(plans)


def test_a_near_fall_after_a_suggested_advance_withdraws_the_suggestion(plan, actor):
    suggestion = good_week(plan, actor)
    assert suggestion.status == "pending"
    services.session_log(
        plan=plan, actor=actor, date=day(3), today=day(3), **good_session(near_fall=True)
    )
    suggestion.refresh_from_db()
    assert suggestion.status == "superseded"
    latest = plan.decisions.order_by("-id").first()
    assert latest.outcome == "hold"
    assert latest.alert


def test_a_night_with_nothing_new_records_no_new_decision(plan, actor):
    """The reasons' words move with the date (days at the level, planned sessions due, the
    window's first day); the decision does not: one decision, and one audit event, for it."""
    services.session_log(plan=plan, actor=actor, date=day(0), today=day(0), **good_session())
    first = evaluate(plan, 1)
    events = AuditEvent.objects.filter(action=AuditAction.PROGRESSION_DECISION)
    recorded = events.count()
    again = evaluate(plan, 2)
    assert again.pk == first.pk
    assert "min_days" in again.reason_codes  # "1 day at this level so far" on day 1, "2" on day 2
    assert events.count() == recorded


def test_a_night_with_a_new_reason_records_a_new_decision(plan, actor):
    services.session_log(plan=plan, actor=actor, date=day(0), today=day(0), **good_session())
    first = evaluate(plan, 1)
    # A week of no sessions: low adherence now holds the plan as well.
    later = evaluate(plan, 6)
    assert later.pk != first.pk
    assert "low_adherence" in later.reason_codes
    assert "low_adherence" not in first.reason_codes


def test_a_second_near_fall_is_a_new_decision_with_its_own_alert(plan, actor):
    """Same codes, but a new event: a decision of its own, so its clinicians are alerted for it
    (alerts are one per clinician, decision and kind)."""
    good_week(plan, actor)
    services.session_log(
        plan=plan, actor=actor, date=day(3), today=day(3), **good_session(near_fall=True)
    )
    first = plan.decisions.order_by("-id").first()
    services.session_log(
        plan=plan, actor=actor, date=day(4), today=day(4), **good_session(near_fall=True)
    )
    second = plan.decisions.order_by("-id").first()
    assert second.pk != first.pk
    assert second.reason_codes == first.reason_codes == ["near_fall", "next_morning_unknown"]
    assert first.alerts.filter(kind="hold").exists()
    assert second.alerts.filter(kind="hold").exists()
    # ... and a night with nothing new after it says nothing again.
    assert evaluate(plan, 5).pk == second.pk


def test_another_good_session_leaves_the_suggestion_awaiting_approval(plan, actor):
    suggestion = good_week(plan, actor)
    services.session_log(
        plan=plan, actor=actor, date=day(3), today=day(4), pain_next_morning=2, **good_session()
    )
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"  # the same advance: nothing new to approve
    assert plan.decisions.count() == 2  # the first session's hold, the suggestion
