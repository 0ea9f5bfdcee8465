"""A safety signal the clinician has reviewed pauses the plan no more (CLINICAL.md §4.1).

A fall, chest pain or pain at the pause threshold paused the plan; the clinician reviewed it and
resumed the plan the same day. The resume starts the window on that day, so the signal's session
is inside it: the next evaluations (the nightly run, the next session's, a next morning's report)
must leave the plan active, with no new pause and no new pause alert. A signal recorded after the
resume is news the clinician has not seen, and pauses the plan again."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from rehab import selectors, services
from rehab.models import Alert, AuditEvent, Plan, SessionLog
from tests.factories import clean_answers, good_session
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def _noon(n: int) -> dt.datetime:
    """The nightly run's moment on day(n) (noon UTC is day(n) in the patient's London too)."""
    return dt.datetime.combine(day(n), dt.time(12), tzinfo=dt.UTC)


def _rescreen_and_resume(plan, actor, today) -> None:
    """The clinician's review: a new screening (a fall invalidates the old one), then resume."""
    answers = clean_answers(plan.patient.condition)
    services.screening_submit(patient=plan.patient, answers=answers, actor=actor, today=today)
    services.plan_resume(plan=plan, actor=actor, today=today)


def _pause_with(plan, actor, signal: str) -> None:
    """Pause the plan on day(1) for `signal`, as the patient reports it that day."""
    if signal == "next_morning":
        # Pain at the threshold the morning after day(0)'s walk, told on day(1).
        walked = services.session_log(
            plan=plan, actor=actor, date=day(0), today=day(0), **good_session()
        )
        services.session_add_next_morning_pain(session=walked, pain=8, actor=actor, today=day(1))
    else:
        report = {"fall": {"fall": True}, "chest_pain": {"chest_pain": True}}.get(
            signal, {"pain_worst": 8}
        )
        services.session_log(
            plan=plan, actor=actor, date=day(1), today=day(1), **good_session(**report)
        )
    plan.refresh_from_db()
    assert plan.status == "paused"


def _pauses(plan) -> tuple[int, int]:
    """What the clinician would notice: the pause decisions, and the pause alerts sent them."""
    return (
        plan.decisions.filter(outcome="pause").count(),
        Alert.objects.filter(decision__plan=plan, kind=Alert.Kind.PAUSE).count(),
    )


def _assert_active_and_not_paused_again(plan) -> None:
    plan.refresh_from_db()
    assert plan.status == "active"
    assert plan.pause_spans() in ((), ((day(0), day(1)),))
    assert _pauses(plan) == (1, 1)


SIGNALS = ["fall", "chest_pain", "pain_at_threshold", "next_morning"]


@pytest.mark.parametrize("signal", SIGNALS)
def test_the_nightly_run_after_a_same_day_resume_does_not_pause_again(plan, actor, signal):
    _pause_with(plan, actor, signal)
    _rescreen_and_resume(plan, actor, day(1))
    assert (
        services.progression_evaluate_many(plan_ids=[plan.pk], trigger="nightly", now=_noon(2)) == 1
    )
    _assert_active_and_not_paused_again(plan)
    nightly = plan.decisions.get(trigger="nightly")
    assert not {"fall", "chest_pain", "severe_pain"} & set(nightly.reason_codes)


@pytest.mark.parametrize("signal", SIGNALS)
def test_the_next_sessions_evaluation_after_a_same_day_resume_does_not_pause_again(
    plan, actor, signal
):
    _pause_with(plan, actor, signal)
    _rescreen_and_resume(plan, actor, day(1))
    # An ordinary walk the next day: its evaluation is deferred work, run here as the worker.
    walked = services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(2), **good_session()
    )
    decision = services.session_evaluate(session_id=walked.pk)
    assert decision is not None
    assert decision.outcome != "pause"
    _assert_active_and_not_paused_again(plan)


@pytest.mark.parametrize("signal", ["fall", "chest_pain", "pain_at_threshold"])
def test_mild_next_morning_pain_after_a_same_day_resume_does_not_pause_again(plan, actor, signal):
    """The next morning the patient adds mild pain to the session the clinician reviewed: only
    that pain is new, and it is no safety signal."""
    _pause_with(plan, actor, signal)
    _rescreen_and_resume(plan, actor, day(1))
    reviewed = SessionLog.objects.get(plan=plan, date=day(1))
    services.session_add_next_morning_pain(session=reviewed, pain=2, actor=actor, today=day(2))
    _assert_active_and_not_paused_again(plan)
    services.progression_evaluate_many(plan_ids=[plan.pk], trigger="nightly", now=_noon(2))
    _assert_active_and_not_paused_again(plan)


def test_severe_next_morning_pain_after_a_same_day_resume_pauses_for_the_pain(plan, actor):
    """Pain at the threshold the morning after the reviewed fall is news: a new pause, for the
    pain, not the fall the clinician has reviewed."""
    _pause_with(plan, actor, "fall")
    _rescreen_and_resume(plan, actor, day(1))
    reviewed = SessionLog.objects.get(plan=plan, date=day(1))
    services.session_add_next_morning_pain(session=reviewed, pain=8, actor=actor, today=day(2))
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert _pauses(plan) == (2, 2)
    latest = plan.decisions.order_by("-id").first()
    assert latest.reason_codes[0] == "severe_pain"
    assert "fall" not in latest.reason_codes
    assert plan.status_reason == (
        "Pain reached 8/10 the morning after the session on 3 March (pause at 8/10 or more)."
    )


def test_a_fall_logged_on_the_resume_day_after_the_resume_pauses_again(plan, actor):
    """The plan paused on day(1) for the pain after day(0)'s walk and resumed that day; the
    patient then walks on day(1) and falls: a new event, which pauses the plan and alerts. Once
    the clinician has reviewed that fall too and resumed, the nightly run leaves it active."""
    _pause_with(plan, actor, "next_morning")
    _rescreen_and_resume(plan, actor, day(1))
    services.session_log(
        plan=plan, actor=actor, date=day(1), today=day(1), **good_session(fall=True)
    )
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert _pauses(plan) == (2, 2)
    latest = plan.decisions.order_by("-id").first()
    assert latest.reason_codes[0] == "fall"
    assert latest.reasons[0]["days"] == [day(1).isoformat()]

    _rescreen_and_resume(plan, actor, day(1))
    services.progression_evaluate_many(plan_ids=[plan.pk], trigger="nightly", now=_noon(2))
    plan.refresh_from_db()
    assert plan.status == "active"
    assert _pauses(plan) == (2, 2)


def test_a_fall_the_day_after_a_same_day_resume_pauses_for_that_fall_alone(plan, actor):
    """Chest pain on day(1), reviewed and resumed that day; a fall on day(2) pauses again, and
    the new pause names the new event, not the one the clinician has reviewed."""
    _pause_with(plan, actor, "chest_pain")
    _rescreen_and_resume(plan, actor, day(1))
    services.session_log(
        plan=plan, actor=actor, date=day(2), today=day(2), **good_session(fall=True)
    )
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert _pauses(plan) == (2, 2)
    latest = plan.decisions.order_by("-id").first()
    assert "chest_pain" not in latest.reason_codes
    assert latest.reasons[0]["days"] == [day(2).isoformat()]
    assert plan.status_reason == (
        "A fall was reported on 4 March. The plan is paused until the clinician has reviewed it."
    )


def test_migration_0026_takes_each_open_plans_last_resume_from_the_audit_trail(plan, actor):
    """Plans resumed before the field existed: their last resume's moment, which until then
    only the audit trail recorded, so a plan resumed that day is not paused again either."""
    from django.apps import apps

    migration = importlib.import_module("rehab.migrations.0026_plan_resumed_at")
    for on in (2, 5):
        services.plan_pause(plan=plan, actor=actor, today=day(on))
        services.plan_resume(plan=plan, actor=actor, today=day(on))
    resumes = AuditEvent.objects.filter(object_id=str(plan.pk), action="plan.resumed")
    for event, on in zip(resumes.order_by("id"), (2, 5), strict=True):
        AuditEvent.objects.filter(pk=event.pk).update(at=_noon(on))
    Plan.objects.filter(pk=plan.pk).update(resumed_at=None)
    migration.backfill_resumed_at(apps, None)
    plan.refresh_from_db()
    assert plan.resumed_at == _noon(5)


# --- Next-morning pain told while the plan is paused -------------------------------------------
# The portal and the API take next-morning pain for any past session, paused plan or not. Pain
# at the pause threshold told while paused is a safety signal like any other: the clinicians
# hear of it at once, and the resume page lists it, so that resuming is reviewing it.


def test_severe_next_morning_pain_told_while_paused_alerts_at_once(plan, actor):
    """The fall of day(1) paused the plan; on day(2), still paused, the patient tells of 9/10
    pain the morning after that walk. A new pause decision names the pain (beside the fall, not
    reviewed yet either) and alerts the clinicians; the plan stays paused."""
    _pause_with(plan, actor, "fall")
    fell = SessionLog.objects.get(plan=plan, date=day(1))
    services.session_add_next_morning_pain(session=fell, pain=9, actor=actor, today=day(2))
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert _pauses(plan) == (2, 2)
    latest = plan.decisions.order_by("-id").first()
    assert (latest.trigger, latest.status) == ("next_morning", "applied")
    assert [r["code"] for r in latest.reasons if r["outcome"] == "pause"] == [
        "fall",
        "severe_pain",
    ]
    assert selectors.plan_pause_reasons(plan=plan) == (
        "A fall was reported on 3 March. The plan is paused until the clinician has reviewed it.",
        "Pain reached 9/10 the morning after the session on 3 March (pause at 8/10 or more).",
    )


def test_severe_next_morning_pain_told_while_paused_is_reviewed_by_the_resume(plan, actor):
    """Once the clinicians were told and the resume page listed it, the resume is their review:
    the evaluations after it do not pause the plan again for that pain."""
    _pause_with(plan, actor, "fall")
    fell = SessionLog.objects.get(plan=plan, date=day(1))
    services.session_add_next_morning_pain(session=fell, pain=9, actor=actor, today=day(2))
    _rescreen_and_resume(plan, actor, day(2))
    services.progression_evaluate_many(plan_ids=[plan.pk], trigger="nightly", now=_noon(3))
    walked = services.session_log(
        plan=plan, actor=actor, date=day(3), today=day(3), **good_session()
    )
    services.session_evaluate(session_id=walked.pk)
    plan.refresh_from_db()
    assert plan.status == "active"
    assert _pauses(plan) == (2, 2)
    assert selectors.plan_pause_reasons(plan=plan) == ()


def test_severe_next_morning_pain_told_during_a_clinicians_pause_alerts_at_once(plan, actor):
    """A pause the clinician made (a holiday) records no decision; pain at the threshold told
    during it pauses the plan for that pain, with its alert, and the pause reads as a safety
    pause from then on."""
    walked = services.session_log(
        plan=plan, actor=actor, date=day(0), today=day(0), **good_session()
    )
    services.plan_pause(plan=plan, actor=actor, reason="Away on holiday", today=day(1))
    services.session_add_next_morning_pain(session=walked, pain=8, actor=actor, today=day(2))
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert _pauses(plan) == (1, 1)
    text = "Pain reached 8/10 the morning after the session on 2 March (pause at 8/10 or more)."
    assert plan.status_reason == text
    assert selectors.plan_pause_reasons(plan=plan) == (text,)


def test_mild_next_morning_pain_told_while_paused_records_no_decision(plan, actor):
    """Below the pause threshold the pain is no safety signal: kept with the session, for the
    rules to read once the plan is active again, and nobody is alerted."""
    _pause_with(plan, actor, "fall")
    fell = SessionLog.objects.get(plan=plan, date=day(1))
    services.session_add_next_morning_pain(session=fell, pain=6, actor=actor, today=day(2))
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert _pauses(plan) == (1, 1)
    assert SessionLog.objects.get(pk=fell.pk).pain_next_morning == 6
