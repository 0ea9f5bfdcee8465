"""A session with no safety signal has the plan evaluated as deferred work (STYLE.md §15): the
due evaluation commits with the session, a worker runs it after commit, the outbox sweep hands
over what the broker lost, and a second delivery does nothing. A safety signal is still decided
before the log returns."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from rehab import outbox, services, tasks
from rehab.clinical import levels as L
from rehab.models import AuditEvent, Plan, ProgressionDecision, SessionLog
from tests.factories import ClinicianFactory, good_session
from tests.tasks.test_outbox import FAST, Broker, local_today, plan_of, sweep_later


def log(plan, *, day=None, **overrides) -> SessionLog:
    day = day or local_today()
    return services.session_log(
        plan=plan, actor=None, date=day, today=day, **good_session(**overrides)
    )


@pytest.fixture
def plan(db):
    return plan_of(ClinicianFactory())


@pytest.fixture(name="broker_down")
def _broker_down():
    broker = Broker()
    broker.stop()
    yield broker
    broker.restore()


def test_a_quiet_session_commits_its_due_evaluation_and_queues_it_after_commit(
    plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session = log(plan)
    session.refresh_from_db()
    assert (session.evaluation_due_on, session.decision) == (local_today(), None)
    assert not plan.decisions.exists()
    assert len(callbacks) == 1  # the fast path, sent only after commit


def test_the_worker_records_the_decision_and_links_the_session(
    plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # eager: the task runs at commit
        session = log(plan)
    session.refresh_from_db()
    decision = plan.decisions.get()
    assert (session.evaluation_due_on, session.decision) == (None, decision)
    assert (decision.trigger, decision.outcome, decision.evaluated_on) == (
        "session",
        "hold",
        local_today(),
    )
    assert AuditEvent.objects.filter(
        action="progression.decision", object_id=str(decision.pk), actor_label="system"
    ).exists()


def test_a_second_delivery_does_nothing(plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        session = log(plan)
    decision = plan.decisions.get()
    assert tasks.session_evaluate.delay(session.pk).get() == 0  # a redelivery
    assert services.session_evaluate(session_id=session.pk) is None
    assert plan.decisions.get() == decision
    assert AuditEvent.objects.filter(action="progression.decision").count() == 1


def test_the_evaluation_is_as_of_the_day_the_session_was_logged(plan):
    yesterday = local_today() - dt.timedelta(days=1)
    plan.start_date = plan.window_start = plan.level_started_on = yesterday - dt.timedelta(days=3)
    plan.save()
    session = log(plan, day=yesterday)  # logged yesterday; the broker delivers it today
    decision = services.session_evaluate(session_id=session.pk)
    assert decision.evaluated_on == yesterday


def test_a_plan_paused_meanwhile_is_not_evaluated_and_the_work_is_done(
    plan, django_capture_on_commit_callbacks
):
    yesterday = local_today() - dt.timedelta(days=1)
    plan.start_date = plan.window_start = plan.level_started_on = yesterday
    plan.save()
    with django_capture_on_commit_callbacks(execute=False):
        session = log(plan, day=yesterday)
        log(plan, fall=True)  # evaluated at once: the plan pauses
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.PAUSED
    assert services.session_evaluate(session_id=session.pk) is None
    session.refresh_from_db()
    assert (session.evaluation_due_on, session.decision) == (None, None)
    assert plan.decisions.count() == 1  # the pause only


def test_a_failed_evaluation_leaves_the_work_due(plan, monkeypatch):
    session = log(plan)

    def broken(*args, **kwargs):
        raise RuntimeError("the worker died mid-way")

    monkeypatch.setattr("rehab.services.sessions.evaluate_locked", broken)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.session_evaluate(session_id=session.pk)
    session.refresh_from_db()
    assert session.evaluation_due_on == local_today()  # the sweep hands it over again


@pytest.mark.parametrize(
    "signal",
    [
        {"fall": True},
        {"chest_pain": True},
        {"pain_worst": 8},
        {"near_fall": True},
        {"dizziness": True},
        {"setting": L.OVERGROUND},
    ],
)
def test_a_safety_signal_is_decided_before_the_log_returns(
    plan, signal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        session = log(plan, **signal)
    decision = plan.decisions.get()
    assert (session.evaluation_due_on, session.decision) == (None, decision)
    assert SessionLog.objects.get(pk=session.pk).decision == decision
    assert decision.outcome in ("pause", "hold")


def test_next_morning_pain_is_decided_before_the_log_returns(plan):
    yesterday = local_today() - dt.timedelta(days=1)
    plan.start_date = plan.window_start = plan.level_started_on = yesterday
    plan.save()
    session = services.session_log(
        plan=plan,
        actor=None,
        date=yesterday,
        today=local_today(),
        pain_next_morning=3,
        **good_session(),
    )
    assert session.evaluation_due_on is None
    assert session.decision == plan.decisions.get()


def test_the_sweep_lists_only_evaluations_waiting_past_one_interval(plan):
    session = log(plan)
    assert outbox.sweep().session_ids == []  # the fast path may still be on its way
    later = outbox.sweep(now=session.created_at + dt.timedelta(minutes=2))
    assert later.session_ids == [session.pk]


def test_after_a_long_outage_the_sweep_hands_the_backlog_over_a_batch_at_a_time(plan, monkeypatch):
    """Every due evaluation re-sent by every sweep flooded the broker when the workers came
    back; a sweep now takes the oldest SWEEP_SESSIONS, and a sweep queued while the workers were
    down expires instead of repeating the next one's work."""
    monkeypatch.setattr(outbox, "SWEEP_SESSIONS", 2)
    days = [local_today() - dt.timedelta(days=back) for back in (2, 1, 0)]
    plan.start_date = plan.window_start = plan.level_started_on = days[0]
    plan.save()
    sessions = [log(plan, day=day) for day in days]
    later = outbox.sweep(now=sessions[-1].created_at + dt.timedelta(minutes=2))
    assert later.session_ids == [sessions[0].pk, sessions[1].pk]
    sweep = settings.CELERY_BEAT_SCHEDULE["outbox-sweep"]
    assert sweep["options"]["expires"] == sweep["schedule"]


# --- the broker is down: the request succeeds, the evaluation waits, the sweep runs it once --


def _api(plan) -> APIClient:
    _, raw = services.api_key_create(clinic=plan.clinic, name="EHR", actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return api


@pytest.mark.django_db(transaction=True)
def test_an_api_session_with_the_broker_down_says_a_decision_follows_and_the_sweep_makes_it(
    broker_down,
):
    plan = plan_of(ClinicianFactory())
    api = _api(plan)
    started = time.monotonic()
    response = api.post(
        "/api/v1/sessions/",
        {"plan": plan.pk, "date": str(local_today()), **good_session(minutes_done=10)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="quiet-1",
    )
    assert response.status_code == 201, response.content
    assert time.monotonic() - started < FAST
    body = response.json()
    assert (body["decision_pending"], body["decision"]) == (True, None)
    assert not ProgressionDecision.objects.filter(plan=plan).exists()

    broker_down.restore()
    assert sweep_later() == 1  # the session's evaluation handed over
    decision = ProgressionDecision.objects.get(plan=plan)
    shown = api.get(f"/api/v1/sessions/{body['id']}/").json()
    assert shown["decision_pending"] is False
    assert (shown["decision"]["id"], shown["decision"]["outcome"]) == (decision.pk, "hold")
    assert sweep_later(minutes=5) == 0
    assert tasks.session_evaluate.delay(body["id"]).get() == 0  # a late redelivery
    assert ProgressionDecision.objects.filter(plan=plan).count() == 1
    assert mail.outbox == []  # a hold with nothing to alert


@pytest.mark.django_db(transaction=True)
def test_the_portal_says_a_decision_follows_and_shows_it_on_reload(broker_down):
    plan = plan_of(ClinicianFactory())
    client = Client()
    client.force_login(plan.patient.user)
    answers = {
        "date": str(local_today()),
        "minutes_done": "10",
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "speed_kmh": "1.5",
        "pain_before": "2",
        "pain_worst": "3",
        "pain_after": "2",
        "effort": "3",
        "swelling": "none",
    }
    response = client.post(reverse("patients:session_log"), answers, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "What it means for your next walks will show here in a moment" in page
    assert "Keep going at the same level." not in page

    broker_down.restore()
    sweep_later()
    page = client.get(response.request["PATH_INFO"]).content.decode()
    assert "Keep going at the same level." in page
    assert "will show here in a moment" not in page
