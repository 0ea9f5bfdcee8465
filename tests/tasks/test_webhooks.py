"""The outbox sweep hands webhook deliveries over: lost first attempts, due retries, dead
claims; the task claims before sending."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rehab import outbox, services, tasks
from rehab.models import Clinic, WebhookDelivery
from tests.factories import ClinicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery():
    clinic = ClinicFactory()
    services.webhook_endpoint_create(
        clinic=clinic, actor=None, url="https://hooks.example.org/in", events=["patient.created"]
    )
    services.patient_create(
        clinic=Clinic.objects.get(pk=clinic.pk),
        actor=None,
        first_name="A",
        last_name="B",
        condition="knee_oa",
    )
    return WebhookDelivery.objects.get()


def test_a_first_attempt_the_broker_lost_is_handed_over_after_one_sweep_interval(delivery):
    now = delivery.created_at
    assert outbox.sweep(now=now).webhook_ids == []  # its fast-path message may still come
    assert outbox.sweep(now=now + dt.timedelta(minutes=2)).webhook_ids == [delivery.pk]


def test_a_retry_is_handed_over_when_it_comes_due(delivery):
    due = timezone.now() + dt.timedelta(minutes=5)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=1, next_attempt_at=due)
    assert outbox.sweep(now=due - dt.timedelta(seconds=1)).webhook_ids == []
    assert outbox.sweep(now=due).webhook_ids == [delivery.pk]


def test_a_claim_whose_worker_died_is_released_and_due_again(delivery):
    claimed = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", claimed_at=claimed, attempts=1
    )
    assert outbox.sweep(now=claimed + dt.timedelta(seconds=10)).webhook_ids == []
    later = claimed + outbox.WEBHOOK_CLAIM_DEAD_AFTER + dt.timedelta(seconds=1)
    due = outbox.sweep(now=later)
    assert due.webhook_ids == [delivery.pk]
    assert due.redriven == 1


def test_the_sweep_task_delivers_what_is_due(delivery, monkeypatch):
    sent = []
    monkeypatch.setattr(
        services.webhooks.webhooks,
        "post",
        lambda **kwargs: sent.append(kwargs) or services.webhooks.webhooks.Attempt(True, 204, 5),
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5),
        next_attempt_at=timezone.now() - dt.timedelta(minutes=5),
    )
    tasks.outbox_sweep()
    assert len(sent) == 1
    assert sent[0]["message_id"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    # Again: nothing is due, nothing is sent twice.
    tasks.outbox_sweep()
    assert tasks.webhook_deliver(delivery.pk) == "not_claimed"
    assert len(sent) == 1


def test_an_event_is_posted_after_commit_through_the_fast_path(
    settings, django_capture_on_commit_callbacks
):
    from standardwebhooks import Webhook

    from tests import webhook_receiver

    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    receiver, server = webhook_receiver.start()
    try:
        clinic = ClinicFactory()
        _, secret = services.webhook_endpoint_create(
            clinic=clinic, actor=None, url=receiver.url, events=["patient.created"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            patient = services.patient_create(
                clinic=Clinic.objects.get(pk=clinic.pk),
                actor=None,
                first_name="A",
                last_name="B",
                condition="knee_oa",
            )
        ((headers, body),) = receiver.received
        assert Webhook(secret).verify(body, headers)["data"]["id"] == patient.pk
        assert WebhookDelivery.objects.get().status == "succeeded"
    finally:
        server.shutdown()
        server.server_close()
