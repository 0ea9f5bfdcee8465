"""Every write of patient data leaves an audit event naming who, what and when, and never the
clinical values themselves; the writes on hot paths cost a fixed number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rehab import services, tasks
from rehab.models import AuditEvent, SessionLog
from tests.factories import TODAY, active_plan, clean_answers, good_session
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def test_a_whole_episode_of_care_is_audited_step_by_step(clinic, ladder, actor):
    patient = services.patient_create(
        clinic=clinic, actor=actor, first_name="Ada", last_name="Byron", condition="knee_oa"
    )
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=actor, today=TODAY
    )
    plan = services.plan_assign(patient=patient, protocol=ladder, actor=actor, today=TODAY)
    session = services.session_log(
        plan=plan,
        actor=actor,
        date=day(0),
        today=day(0),
        notes="Secret note about my neighbour",
        **good_session(),
    )
    services.session_add_next_morning_pain(session=session, pain=2, actor=actor, today=day(1))
    services.outcome_record(patient=patient, measure="nprs", answers={"score": 5}, actor=actor)
    services.plan_pause(plan=plan, actor=actor, reason="Holiday")
    services.plan_resume(plan=plan, actor=actor, today=day(2))
    services.plan_set_level(plan=plan, level=1, actor=actor, reason="Doing well", today=day(2))
    services.plan_complete(plan=plan, actor=actor)
    services.patient_update(patient=patient, actor=actor, phone="123")
    services.patient_archive(patient=patient, actor=actor)

    events = AuditEvent.objects.filter(patient=patient).order_by("at", "id")
    assert [e.action for e in events if e.action != "progression.decision"] == [
        "patient.create",
        "screening.submit",
        "plan.assign",
        "session.log",
        "session.next_morning",
        "outcome.record",
        "plan.paused",
        "plan.resumed",
        "plan.level",
        "plan.completed",
        "patient.update",
        "patient.archive",
    ]
    assert {e.actor for e in events} == {actor}
    assert {e.clinic for e in events} == {patient.clinic}
    assert events.filter(action="progression.decision").count() >= 1
    for event in events:
        assert "Secret" not in str(event.detail)
        assert event.at is not None


def test_system_writes_are_audited_as_system(db):
    plan = active_plan()
    tasks.progression_nightly.delay().get()
    event = AuditEvent.objects.get(action="progression.decision", patient=plan.patient)
    assert event.actor is None
    assert event.actor_label == "system"


def queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_logging_a_session_costs_a_fixed_number_of_queries(plan, actor):
    def log(n, **overrides):
        return lambda: services.session_log(
            plan=plan,
            actor=actor,
            date=day(n),
            today=day(n + 1),
            pain_next_morning=2,
            **good_session(**overrides),
        )

    # Next-morning pain is evaluated at once (a safety rule). Savepoint pair (the test's
    # transaction), lock the plan, insert, mark the patient's stored dashboard need stale,
    # audit; then evaluate: recent advances, sessions in the window, last decision, insert it,
    # audit it; link the session to it. The first log ends in a hold, the second earns an
    # advance (left pending): the same cost.
    assert queries(log(0)) == 12
    assert queries(log(2)) == 12
    # The next one (more swelling: a hold) replaces that pending suggestion with a fresh
    # decision: one update more, and nothing left awaiting approval but what is latest.
    assert queries(log(3, swelling="more")) == 13
    assert plan.decisions.filter(status="pending").count() == 0
    assert plan.decisions.filter(status="superseded").count() == 1
    assert SessionLog.objects.count() == 3


def test_logging_a_session_with_no_safety_signal_defers_its_evaluation(plan, actor):
    services.dashboard_refresh(clinic=plan.clinic, today=day(0))  # the Today list seen
    # Savepoint pair, lock the plan, insert the session (its evaluation due in the same row),
    # audit: the evaluation is the worker's, and so is marking the Today list's stored need.
    assert (
        queries(
            lambda: services.session_log(
                plan=plan, actor=actor, date=day(0), today=day(0), **good_session()
            )
        )
        == 5
    )
    session = SessionLog.objects.get()
    assert (session.evaluation_due_on, session.decision) == (day(0), None)
    assert not plan.decisions.exists()
    plan.patient.refresh_from_db()
    assert plan.patient.dashboard_day is not None  # not marked yet: the worker marks it
    # The worker's share, in a savepoint pair: the due session, lock, claim, mark the patient's
    # stored dashboard need stale, the latest day the plan's sessions and decisions speak of
    # (two), the evaluation (recent advances, sessions, last decision, insert, audit), link.
    assert queries(lambda: services.session_evaluate(session_id=session.pk)) == 14
    session.refresh_from_db()
    assert (session.evaluation_due_on, session.decision) == (None, plan.decisions.get())
    plan.patient.refresh_from_db()
    assert plan.patient.dashboard_day is None


def test_an_unchanged_result_records_nothing_and_costs_fewer_queries(plan, actor):
    services.progression_evaluate(plan=plan, trigger="nightly", today=day(1))
    # Savepoint pair, lock, recent advances, sessions, last decision: same result, no writes.
    assert (
        queries(lambda: services.progression_evaluate(plan=plan, trigger="nightly", today=day(1)))
        == 6
    )


def test_nightly_evaluation_costs_the_same_reads_for_any_batch(db):
    plans = [active_plan() for _ in range(5)]

    def night(n, batch):
        at = dt.datetime.combine(day(n), dt.time(12), tzinfo=dt.UTC)
        ids = [p.pk for p in batch]
        return lambda: services.progression_evaluate_many(plan_ids=ids, trigger="nightly", now=at)

    one = queries(night(1, plans[:1]))
    four = queries(night(1, plans[1:]))
    # The batch's reads, whatever its size: savepoint pair, its plans (locked), their windows'
    # sessions, recent advances, latest decisions; then each new decision is an insert and an
    # audit event, and one update marks the batch's patients' stored dashboard need stale.
    assert one == 6 + 2 + 1
    assert four == 6 + 4 * 2 + 1
    # The next night, nothing new: the reads alone.
    assert queries(night(2, plans)) == 6
