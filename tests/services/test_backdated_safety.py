"""A safety signal logged late, for a day before the evaluation window (CLINICAL.md §4.1): a fall,
chest pain or pain at the pause threshold pauses the plan and alerts the clinicians at once,
whatever day the patient gives it. The window (from the last level change or resume, at most
window_days long) bounds the progression rules, not the report that prompted the evaluation."""

from __future__ import annotations

import pytest

from rehab import services
from rehab.models import Alert, ProgressionDecision, SessionLog
from tests.factories import clean_answers, good_session
from tests.services.conftest import day

pytestmark = pytest.mark.django_db

# (what the session reports, the pause reason's code, its words). TODAY is Monday 2 March 2026,
# so day(2) is 4 March.
SIGNALS = [
    pytest.param(
        {"fall": True},
        "fall",
        "A fall was reported on 4 March. The plan is paused until the clinician has reviewed it.",
        id="fall",
    ),
    pytest.param(
        {"chest_pain": True},
        "chest_pain",
        "Chest pain was reported on 4 March. The plan is paused until the clinician has "
        "reviewed it.",
        id="chest_pain",
    ),
    pytest.param(
        {"pain_worst": 8},
        "severe_pain",
        "Pain reached 8/10 during exercise on 4 March (pause at 8/10 or more).",
        id="pain_at_threshold",
    ),
]


def _pause_decision(plan) -> ProgressionDecision:
    return plan.decisions.get(outcome="pause")


def _assert_paused_and_alerted(plan, code: str, text: str) -> ProgressionDecision:
    """What the clinician sees: the plan paused for that reason, the pause decision applied,
    and a pause alert queued for them."""
    plan.refresh_from_db()
    assert plan.status == "paused"
    decision = _pause_decision(plan)
    assert decision.status == "applied"
    assert decision.alert
    assert decision.reason_codes[0] == code
    assert decision.reasons[0]["text"] == text
    assert plan.status_reason == text
    alerts = Alert.objects.filter(decision=decision, kind=Alert.Kind.PAUSE)
    assert [a.clinician.user_id for a in alerts] == [plan.assigned_by_id]
    assert alerts.get().status == "pending"
    return decision


def _rescreen_and_resume(plan, actor, today) -> None:
    """The clinician's review after a fall: a new screening (the fall invalidated the old one),
    then the plan resumes."""
    answers = clean_answers(plan.patient.condition)
    services.screening_submit(patient=plan.patient, answers=answers, actor=actor, today=today)
    services.plan_resume(plan=plan, actor=actor, today=today)


@pytest.mark.parametrize(("report", "code", "text"), SIGNALS)
def test_a_signal_dated_before_a_level_change_pauses_and_alerts(plan, actor, report, code, text):
    """The level changed on day 3 (the window starts again there); on day 4 the patient logs
    the walk of day 2."""
    services.plan_set_level(plan=plan, level=1, actor=actor, reason="Doing well", today=day(3))
    log = services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(4), **good_session(**report)
    )
    decision = _assert_paused_and_alerted(plan, code, text)
    assert SessionLog.objects.get(pk=log.pk).decision == decision
    # Paused from the day of the walk, as for a fall logged late inside the window.
    assert plan.pause_spans() == ((day(2), None),)


@pytest.mark.parametrize(("report", "code", "text"), SIGNALS)
def test_a_signal_older_than_the_window_pauses_and_alerts(plan, actor, report, code, text):
    """The plan's window is 7 days: on day 9 it starts on day 3; the walk was on day 2."""
    services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(9), **good_session(**report)
    )
    _assert_paused_and_alerted(plan, code, text)


def test_severe_next_morning_pain_added_after_a_level_change_pauses_and_alerts(plan, actor):
    """The session was walked at the level before; its next morning's pain, told after the
    clinician changed the level, is reported now."""
    session = services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(2), **good_session()
    )
    services.plan_set_level(plan=plan, level=1, actor=actor, reason="Doing well", today=day(3))
    services.session_add_next_morning_pain(session=session, pain=8, actor=actor, today=day(4))
    _assert_paused_and_alerted(
        plan,
        "severe_pain",
        "Pain reached 8/10 the morning after the session on 4 March (pause at 8/10 or more).",
    )
    assert plan.pause_spans() == ((day(2), None),)


def test_severe_next_morning_pain_added_to_a_session_older_than_the_window_pauses(plan, actor):
    session = services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(2), **good_session()
    )
    services.session_add_next_morning_pain(session=session, pain=9, actor=actor, today=day(9))
    _assert_paused_and_alerted(
        plan,
        "severe_pain",
        "Pain reached 9/10 the morning after the session on 4 March (pause at 8/10 or more).",
    )


def test_mild_next_morning_pain_on_a_session_of_the_level_before_records_nothing(plan, actor):
    """Not a safety signal: the session belongs to the level before, whose rules no longer
    apply, so nothing is evaluated for it (as before)."""
    session = services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(2), **good_session()
    )
    services.plan_set_level(plan=plan, level=1, actor=actor, reason="Doing well", today=day(3))
    decisions = plan.decisions.count()
    services.session_add_next_morning_pain(session=session, pain=4, actor=actor, today=day(4))
    plan.refresh_from_db()
    assert plan.status == "active"
    assert plan.decisions.count() == decisions


def test_next_morning_pain_on_a_reviewed_fall_does_not_pause_again(plan, actor):
    """The fall paused the plan and the clinician resumed it after review: mild next-morning
    pain added to that session later is no new safety signal, and the fall is not reported
    again."""
    session = services.session_log(
        plan=plan, actor=actor, date=day(1), today=day(1), **good_session(fall=True)
    )
    _rescreen_and_resume(plan, actor, day(2))
    services.session_add_next_morning_pain(session=session, pain=3, actor=actor, today=day(3))
    plan.refresh_from_db()
    assert plan.status == "active"
    assert plan.decisions.filter(outcome="pause").count() == 1


def test_severe_next_morning_pain_on_a_reviewed_fall_pauses_for_the_pain(plan, actor):
    """A new pause, for what is new: the pain, not the fall the clinician has reviewed."""
    session = services.session_log(
        plan=plan, actor=actor, date=day(1), today=day(1), **good_session(fall=True)
    )
    _rescreen_and_resume(plan, actor, day(2))
    services.session_add_next_morning_pain(session=session, pain=8, actor=actor, today=day(3))
    plan.refresh_from_db()
    assert plan.status == "paused"
    latest = plan.decisions.order_by("-id").first()
    assert latest.outcome == "pause"
    assert latest.reason_codes[0] == "severe_pain"
    assert "fall" not in latest.reason_codes
    assert plan.status_reason.startswith("Pain reached 8/10 the morning after the session on")
    assert Alert.objects.filter(decision=latest, kind=Alert.Kind.PAUSE).exists()


def test_a_signal_dated_before_the_last_resume_pauses_from_the_resume(plan, actor):
    """The clinician paused the plan on day 2 and resumed it on day 4; on day 5 the patient
    logs chest pain on day 1. The plan pauses again; the days it was paused already stay one
    span, the new pause starts where the plan ran again."""
    services.plan_pause(plan=plan, actor=actor, reason="Away", today=day(2))
    services.plan_resume(plan=plan, actor=actor, today=day(4))
    services.session_log(
        plan=plan, actor=actor, date=day(1), today=day(5), **good_session(chest_pain=True)
    )
    decision = _assert_paused_and_alerted(
        plan,
        "chest_pain",
        "Chest pain was reported on 3 March. The plan is paused until the clinician has "
        "reviewed it.",
    )
    assert decision.evaluated_on == day(5)
    assert plan.pause_spans() == ((day(2), day(4)), (day(4), None))


def test_a_near_fall_dated_before_the_window_holds_and_names_it(plan, actor):
    """A near fall is a safety signal too (hold and alert): the decision its alert points to
    says why."""
    services.plan_set_level(plan=plan, level=1, actor=actor, reason="Doing well", today=day(3))
    services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(4), **good_session(near_fall=True)
    )
    plan.refresh_from_db()
    assert plan.status == "active"
    decision = plan.decisions.order_by("-id").first()
    assert decision.outcome == "hold"
    assert decision.alert
    near = next(r for r in decision.reasons if r["code"] == "near_fall")
    assert near["days"] == [day(2).isoformat()]
    assert Alert.objects.filter(decision=decision, kind=Alert.Kind.HOLD).exists()


def test_the_window_rules_still_read_the_window_only(plan, actor):
    """An ordinary session logged late for a day before the window: no reason about it (its
    effort would regress the plan were it in the window), the rules judge the window."""
    services.plan_set_level(plan=plan, level=1, actor=actor, reason="Doing well", today=day(3))
    services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(4), **good_session(effort=7)
    )
    services.session_evaluate(session_id=SessionLog.objects.get(plan=plan).pk, today=day(4))
    decision = plan.decisions.order_by("-id").first()
    assert decision.outcome == "hold"
    assert "effort_high" not in decision.reason_codes
    assert "too_few_sessions" in decision.reason_codes
