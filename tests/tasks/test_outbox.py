"""Deferred work survives the broker (rehab/outbox.py): the work row commits with the change, a
broker that is down fails the fast-path enqueue quickly without failing the request, and the
sweep hands waiting or dead-claimed work to a worker once."""

from __future__ import annotations

import datetime as dt
import socket
import time
import zoneinfo

import kombu.pools
import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from rehab import outbox, services, tasks
from rehab.celery import app
from rehab.clinical import levels as L
from rehab.models import Alert, Plan, Report, SessionLog
from tests.factories import ClinicianFactory, UserFactory, active_plan, good_session

STOP_MESSAGE = "Stop exercising now."
FAST = 5.0  # seconds a request may take with the broker down (it must not hang on it)


def local_today() -> dt.date:
    return dt.datetime.now(zoneinfo.ZoneInfo("Europe/London")).date()


@pytest.fixture
def team(db):
    lead = ClinicianFactory(is_clinic_admin=True)
    assigning = ClinicianFactory(clinic=lead.clinic)
    return lead, assigning


def plan_of(clinician, today: dt.date | None = None) -> Plan:
    plan = active_plan(actor=clinician.user, today=today or local_today())
    plan.patient.clinic = clinician.clinic
    plan.patient.user = UserFactory()
    plan.patient.save()
    plan.clinic = clinician.clinic
    plan.save()
    return plan


def _reset_broker_pools() -> None:
    # Connections are pooled per broker URL, in kombu and in the app: start both afresh.
    kombu.pools.reset()
    app._after_fork()


class Broker:
    """Celery pointed at a port nobody listens on: a real, unreachable Redis broker."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.saved = {
            key: app.conf[key]
            for key in ("task_always_eager", "broker_url", "broker_transport_options")
        }
        self.down = False

    def stop(self) -> None:
        app.conf.update(
            task_always_eager=False,
            broker_url=f"redis://127.0.0.1:{self.port}/0",
            broker_transport_options={"socket_connect_timeout": 1.0, "socket_timeout": 2.0},
        )
        _reset_broker_pools()
        self.down = True

    def restore(self) -> None:
        if self.down:
            app.conf.update(self.saved)
            _reset_broker_pools()
            self.down = False


@pytest.fixture
def broker_down():
    broker = Broker()
    broker.stop()
    yield broker
    broker.restore()


def sweep_later(minutes: int = 2) -> int:
    """Beat's sweep, run eagerly a little later (past one sweep interval)."""
    with freeze_time(timezone.now() + dt.timedelta(minutes=minutes)):
        return tasks.outbox_sweep.delay().get()


# --- the work row commits with the change ---------------------------------------------------


def test_a_fall_records_its_alerts_with_the_pause_before_any_message(
    team, django_capture_on_commit_callbacks
):
    lead, assigning = team
    plan = plan_of(assigning)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.session_log(
            plan=plan,
            actor=None,
            date=local_today(),
            today=local_today(),
            **good_session(fall=True),
        )
    alerts = Alert.objects.filter(decision__plan=plan)
    assert sorted(alerts.values_list("clinician_id", "status")) == sorted(
        [(lead.pk, "pending"), (assigning.pk, "pending")]
    )
    assert len(callbacks) == 1  # the fast path, sent only after commit
    assert mail.outbox == []


def test_the_alerts_roll_back_with_the_pause(team):
    plan = plan_of(team[1])

    def log_then_fail():
        with transaction.atomic():
            services.session_log(
                plan=plan,
                actor=None,
                date=local_today(),
                today=local_today(),
                **good_session(fall=True),
            )
            raise RuntimeError("the request failed after the pause")

    with pytest.raises(RuntimeError):
        log_then_fail()
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
    assert not Alert.objects.exists()


# --- the broker is down: the request succeeds, the work waits, the sweep delivers once -------


@pytest.mark.django_db(transaction=True)
def test_a_portal_fall_with_the_broker_down_says_stop_and_the_sweep_alerts_each_clinician_once(
    broker_down,
):
    lead = ClinicianFactory(is_clinic_admin=True)
    assigning = ClinicianFactory(clinic=lead.clinic)
    plan = plan_of(assigning)
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
        "fall": "on",
    }
    started = time.monotonic()
    response = client.post(reverse("patients:session_log"), answers, follow=True)
    took = time.monotonic() - started

    assert response.status_code == 200
    assert STOP_MESSAGE in response.content.decode()
    assert took < FAST
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    alerts = Alert.objects.filter(decision__plan=plan)
    assert set(alerts.values_list("status", flat=True)) == {"pending"}
    assert mail.outbox == []

    broker_down.restore()
    assert sweep_later() == 1  # one decision handed over
    assert sorted(m.to[0] for m in mail.outbox) == sorted([lead.user.email, assigning.user.email])
    assert set(alerts.values_list("status", flat=True)) == {"sent"}
    assert sweep_later(minutes=5) == 0
    assert tasks.alert_pause.delay(alerts.first().decision_id).get() == 0  # a late redelivery
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_an_api_fall_with_the_broker_down_is_created_and_its_alerts_wait(broker_down):
    assigning = ClinicianFactory()
    plan = plan_of(assigning)
    _, raw = services.api_key_create(clinic=plan.clinic, name="EHR", actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    started = time.monotonic()
    response = api.post(
        "/api/v1/sessions/",
        {
            "plan": plan.pk,
            "date": str(local_today()),
            "minutes_done": 10,
            "pain_before": 2,
            "pain_worst": 3,
            "pain_after": 2,
            "effort": 3,
            "setting": L.TREADMILL_BOTH_HANDRAILS,
            "speed_kmh": 1.5,
            "fall": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert time.monotonic() - started < FAST
    assert SessionLog.objects.filter(plan=plan).count() == 1
    assert Alert.objects.filter(decision__plan=plan, status="pending").count() == 1

    broker_down.restore()
    sweep_later()
    assert [m.to[0] for m in mail.outbox] == [assigning.user.email]


@pytest.mark.django_db(transaction=True)
def test_a_report_requested_with_the_broker_down_waits_and_the_sweep_renders_it_once(
    broker_down,
):
    clinician = ClinicianFactory()
    plan = plan_of(clinician)
    client = Client()
    client.force_login(clinician.user)
    started = time.monotonic()
    response = client.post(
        reverse("clinicians:report_request", args=[plan.patient.pk]), {"audience": "clinician"}
    )
    assert response.status_code == 302
    assert time.monotonic() - started < FAST
    report = Report.objects.get(patient=plan.patient)
    assert report.status == "pending"

    broker_down.restore()
    assert sweep_later() == 1
    report.refresh_from_db()
    assert (report.status, report.attempts) == ("ready", 1)
    assert services.report_render(report_id=report.pk) == "not_claimed"  # a late redelivery
    assert sweep_later(minutes=5) == 0
    assert Report.objects.get(pk=report.pk).rendered_at == report.rendered_at


# --- dead claims: re-driven once, and given up after a few --------------------------------


def _paused(plan: Plan, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the message
        services.session_log(
            plan=plan,
            actor=None,
            date=local_today(),
            today=local_today(),
            **good_session(fall=True),
        )
    return plan.decisions.get(outcome="pause").pk


def test_an_alert_left_sending_by_a_dead_worker_is_sent_again_once(
    team, django_capture_on_commit_callbacks
):
    lead, assigning = team
    plan = plan_of(assigning)
    _paused(plan, django_capture_on_commit_callbacks)
    claimed = timezone.now()
    dead = Alert.objects.get(clinician=lead)
    Alert.objects.filter(pk=dead.pk).update(status="sending", claimed_at=claimed, attempts=1)

    # While its claim is younger than the send's hard time limit the worker may be alive.
    with freeze_time(claimed + dt.timedelta(seconds=outbox.ALERT_SEND_TIME_LIMIT)):
        tasks.outbox_sweep.delay()
    assert [m.to[0] for m in mail.outbox] == [assigning.user.email]  # only the waiting one
    with freeze_time(claimed + outbox.ALERT_CLAIM_DEAD_AFTER + dt.timedelta(seconds=1)):
        tasks.outbox_sweep.delay()
        tasks.outbox_sweep.delay()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([lead.user.email, assigning.user.email])
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("sent", 2)


def test_an_alert_stuck_sending_from_before_claims_were_recorded_is_sent(
    team, django_capture_on_commit_callbacks
):
    lead, assigning = team
    _paused(plan_of(assigning), django_capture_on_commit_callbacks)
    # As an alert stuck by BadHeaderError was left: 'sending', no claim time, for ever.
    Alert.objects.update(status="sending", created_at=timezone.now() - dt.timedelta(hours=2))
    tasks.outbox_sweep.delay()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([lead.user.email, assigning.user.email])
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}


def test_an_alert_whose_send_keeps_killing_its_worker_is_failed_with_a_reason(
    team, django_capture_on_commit_callbacks
):
    _paused(plan_of(team[1]), django_capture_on_commit_callbacks)
    claimed = timezone.now() - dt.timedelta(hours=1)
    Alert.objects.update(status="sending", claimed_at=claimed, attempts=outbox.MAX_ATTEMPTS)
    tasks.outbox_sweep.delay()
    assert set(Alert.objects.values_list("status", flat=True)) == {"failed"}
    assert "Interrupted 3 times" in Alert.objects.first().detail
    assert mail.outbox == []


def test_a_report_left_rendering_by_a_dead_worker_is_rendered_again_once(team):
    plan = plan_of(team[1])
    report = services.report_request(patient=plan.patient, audience="patient", actor=None)
    claimed = timezone.now()
    Report.objects.filter(pk=report.pk).update(status="rendering", claimed_at=claimed, attempts=1)
    with freeze_time(claimed + dt.timedelta(seconds=outbox.REPORT_RENDER_TIME_LIMIT)):
        assert tasks.outbox_sweep.delay().get() == 0  # maybe still rendering: left alone
    assert tasks.report_render.delay(report.pk).get() == "not_claimed"
    with freeze_time(claimed + outbox.REPORT_CLAIM_DEAD_AFTER + dt.timedelta(seconds=1)):
        assert tasks.outbox_sweep.delay().get() == 1
        assert tasks.outbox_sweep.delay().get() == 0
    report.refresh_from_db()
    assert (report.status, report.attempts) == ("ready", 2)


def test_a_report_whose_render_keeps_killing_its_worker_is_failed_with_a_reason(team):
    plan = plan_of(team[1])
    report = services.report_request(patient=plan.patient, audience="patient", actor=None)
    Report.objects.filter(pk=report.pk).update(
        status="rendering",
        claimed_at=timezone.now() - dt.timedelta(hours=1),
        attempts=outbox.MAX_ATTEMPTS,
    )
    assert tasks.outbox_sweep.delay().get() == 0
    report.refresh_from_db()
    assert report.status == "failed"
    assert report.error.startswith("Interrupted 3 times")


# --- one recipient's failure never stops the others -----------------------------------------


def test_a_recipient_whose_address_breaks_the_headers_fails_alone(
    team, django_capture_on_commit_callbacks
):
    lead, assigning = team
    lead.user.email = "lead@clinic.test\r\nBcc: evil@attacker.test"
    lead.user.save()
    plan = plan_of(assigning)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_log(
            plan=plan,
            actor=None,
            date=local_today(),
            today=local_today(),
            **good_session(fall=True),
        )
    assert [m.to[0] for m in mail.outbox] == [assigning.user.email]
    failed = Alert.objects.get(clinician=lead)
    assert failed.status == "failed"
    assert "could not be built" in failed.detail
    assert Alert.objects.get(clinician=assigning).status == "sent"


def test_a_patient_name_with_a_line_break_never_reaches_a_header_and_every_alert_is_sent(
    team, django_capture_on_commit_callbacks
):
    plan = plan_of(team[1])
    # Written round the services, as data from before their validation would be. The subject
    # names the record, never the patient, so the name cannot inject a header.
    type(plan.patient).objects.filter(pk=plan.patient.pk).update(
        first_name="Nina\r\nBcc: evil@attacker.test"
    )
    plan.patient.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_log(
            plan=plan,
            actor=None,
            date=local_today(),
            today=local_today(),
            **good_session(fall=True),
        )
    assert len(mail.outbox) == 2
    assert all("\n" not in m.subject and "Nina" not in m.subject for m in mail.outbox)
    assert all(m.bcc == [] for m in mail.outbox)
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}
