"""A session recorded on a setting the plan does not allow (a clinic system records what
happened): it is kept, progression holds with the reason in words, and the clinicians are told
at once through the outbox, once per such session (docs/clinical.md §3, §4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from rest_framework.test import APIClient

from rehab import outbox, services, tasks
from rehab.clinical import levels as L
from rehab.models import Alert, AuditEvent, SessionLog
from tests.factories import TODAY, ClinicianFactory, active_plan, good_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db):
    lead = ClinicianFactory(is_clinic_admin=True)
    assigning = ClinicianFactory(clinic=lead.clinic)
    return lead, assigning


@pytest.fixture
def plan(team):
    """A knee OA plan under fall-risk constraints: both rails or the bars, never overground."""
    lead, assigning = team
    plan = active_plan(actor=assigning.user, falls_past_12_months=1)
    plan.patient.clinic = plan.clinic = lead.clinic
    plan.patient.save()
    plan.save()
    assert "overground" not in plan.constraints["allowed_settings"]
    return plan


def _log(plan, day: dt.date, **overrides):
    return services.session_log(
        plan=plan, actor=None, date=day, today=day, **good_session(**overrides)
    )


def test_an_overground_session_is_kept_held_and_alerted_in_words(
    plan, team, django_capture_on_commit_callbacks
):
    lead, assigning = team
    with django_capture_on_commit_callbacks(execute=True):
        log = _log(plan, TODAY, setting=L.OVERGROUND)

    assert SessionLog.objects.get(pk=log.pk).setting == L.OVERGROUND  # what happened is kept
    decision = plan.decisions.latest("created_at")
    assert decision.outcome == "hold"
    assert decision.alert is True
    text = next(r["text"] for r in decision.reasons if r["code"] == "setting_not_allowed")
    assert text.startswith(
        "Logged on a setting the plan does not allow: overground, in a clear level space on "
        "2 March (the plan allows: parallel bars, treadmill, holding both handrails)."
    )
    assert sorted(a.kind for a in Alert.objects.filter(decision=decision)) == [
        "off_plan",
        "off_plan",
    ]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([lead.user.email, assigning.user.email])
    message = mail.outbox[0]
    assert message.subject == f"Session outside the plan: patient record {plan.patient.pk}"
    assert plan.patient.full_name in message.body
    assert "overground, in a clear level space on 2 March" in message.body
    assert f"/clinic/patients/{plan.patient.pk}/" in message.body
    assert AuditEvent.objects.filter(
        action="progression.decision", object_id=str(decision.pk)
    ).exists()


def test_the_same_session_is_alerted_once_while_it_stays_in_the_window(
    plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _log(plan, TODAY, setting=L.OVERGROUND)
        _log(plan, TODAY + dt.timedelta(days=2))  # an allowed session two days later
    assert len(mail.outbox) == 2  # the first session's alerts, to two clinicians, only
    latest = plan.decisions.latest("created_at")
    assert "setting_not_allowed" in [r["code"] for r in latest.reasons]  # still holding

    with django_capture_on_commit_callbacks(execute=True):
        _log(plan, TODAY + dt.timedelta(days=4), setting=L.TREADMILL_LIGHT_TOUCH)
    assert len(mail.outbox) == 4  # a new session outside: told again


def test_nightly_evaluations_never_tell_of_the_same_sessions_again(
    plan, django_capture_on_commit_callbacks
):
    # Two sessions outside the plan, then nightly evaluations as the 7-day window slides past
    # the first: the reason's words change ("on 2 and 4 March", then "on 4 March"), but no new
    # session was done, so nobody is told again.
    with django_capture_on_commit_callbacks(execute=True):
        _log(plan, TODAY, setting=L.OVERGROUND)
        _log(plan, TODAY + dt.timedelta(days=2), setting=L.OVERGROUND)
    assert len(mail.outbox) == 4  # each session, to two clinicians
    for night in range(3, 10):
        with django_capture_on_commit_callbacks(execute=True):
            services.progression_evaluate(
                plan=plan, trigger="nightly", today=TODAY + dt.timedelta(days=night)
            )
    texts = {
        r["text"]
        for d in plan.decisions.all()
        for r in d.reasons
        if r["code"] == "setting_not_allowed"
    }
    assert len(texts) >= 2  # the words did change as the window moved
    assert len(mail.outbox) == 4


def test_a_near_fall_outside_the_plan_tells_of_both(plan, django_capture_on_commit_callbacks):
    # One session, two things to know: neither alert may hide the other.
    with django_capture_on_commit_callbacks(execute=True):
        _log(plan, TODAY, setting=L.OVERGROUND, near_fall=True)
    assert sorted(Alert.objects.values_list("kind", flat=True)) == [
        "hold",
        "hold",
        "off_plan",
        "off_plan",
    ]
    subjects = sorted({m.subject.split(":")[0] for m in mail.outbox})
    assert subjects == ["Near fall or dizziness reported", "Session outside the plan"]
    assert len(mail.outbox) == 4


def test_a_late_alert_quotes_the_session_that_caused_it(plan):
    # The fast path was lost; the sweep sends the alert after the patient logged again.
    _log(plan, TODAY, near_fall=True, notes="Walked in the garden")
    _log(plan, TODAY + dt.timedelta(days=1), notes="A later walk, on the bars")
    Alert.objects.update(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    tasks.outbox_sweep.delay().get()
    bodies = [m.body for m in mail.outbox]
    assert bodies
    assert all("Walked in the garden" in b for b in bodies)
    assert not any("A later walk" in b for b in bodies)


def test_an_allowed_setting_alerts_nobody(plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _log(plan, TODAY, setting=L.PARALLEL_BARS)
    assert not Alert.objects.exists()
    assert mail.outbox == []


def test_a_fall_outside_the_plan_sends_the_pause_alert_only(
    plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _log(plan, TODAY, setting=L.OVERGROUND, fall=True)
    assert set(Alert.objects.values_list("kind", flat=True)) == {"pause"}
    assert all(m.subject.startswith("Plan paused") for m in mail.outbox)


def test_the_outbox_sweep_delivers_an_off_plan_alert_the_broker_lost(plan):
    # No on-commit callbacks run: the fast path was lost.
    _log(plan, TODAY, setting=L.OVERGROUND)
    alerts = Alert.objects.filter(kind="off_plan")
    assert alerts.count() == 2
    Alert.objects.update(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    due = outbox.sweep()
    assert due.decision_ids == [alerts.first().decision_id]
    tasks.outbox_sweep.delay().get()
    assert set(alerts.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 2


def test_the_api_records_an_overground_session_then_holds_and_alerts(
    plan, team, django_capture_on_commit_callbacks
):
    lead, _ = team
    _, raw = services.api_key_create(clinic=lead.clinic, name="EHR", actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    day = plan.patient.local_today()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/sessions/",
            {"plan": plan.pk, "date": str(day), **good_session(setting=L.OVERGROUND)},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert response.json()["setting"] == L.OVERGROUND
    decision = api.get(f"/api/v1/decisions/?plan={plan.pk}&ordering=-id").json()["results"][0]
    assert decision["outcome"] == "hold"
    assert decision["alert"] is True
    assert "setting_not_allowed" in [r["code"] for r in decision["reasons"]]
    assert {m.subject for m in mail.outbox} == {
        f"Session outside the plan: patient record {plan.patient.pk}"
    }


def test_the_api_records_a_session_faster_than_the_screening_allows_then_holds_and_alerts(
    plan, team, django_capture_on_commit_callbacks
):
    # Fall-risk constraints cap the speed at 1.5 km/h: a clinic system records 2.5 as it was.
    lead, _ = team
    assert plan.constraints["max_speed_kmh"] == 1.5
    _, raw = services.api_key_create(clinic=lead.clinic, name="EHR", actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    day = plan.patient.local_today()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/sessions/",
            {"plan": plan.pk, "date": str(day), **good_session(speed_kmh=2.5)},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert response.json()["speed_kmh"] in (2.5, "2.5")
    decision = api.get(f"/api/v1/decisions/?plan={plan.pk}&ordering=-id").json()["results"][0]
    assert decision["outcome"] == "hold"
    assert decision["alert"] is True
    text = next(r["text"] for r in decision["reasons"] if r["code"] == "beyond_limits")
    assert text.startswith("Logged beyond the screening's limits: 2.5 km/h on ")
    assert "(the plan allows at most 1.5 km/h)" in text
    assert {m.subject for m in mail.outbox} == {
        f"Session outside the plan: patient record {plan.patient.pk}"
    }
    assert "2.5 km/h on " in mail.outbox[0].body
    assert "outside what the plan allows (its setting, speed or slope)" in mail.outbox[0].body


def test_a_session_at_the_speed_cap_alerts_nobody(plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _log(plan, TODAY, speed_kmh=1.5)
    assert not Alert.objects.exists()
    assert mail.outbox == []
