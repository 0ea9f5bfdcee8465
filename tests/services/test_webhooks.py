"""Signed webhooks: the events the services emit, the signed delivery, retries and the guard."""

from __future__ import annotations

import datetime as dt
import json
import socket

import httpx
import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from rehab import services, webhooks
from rehab.errors import RehabError
from rehab.models import Clinic, WebhookDelivery, WebhookEndpoint, WebhookEvent
from rehab.services.common import site_url
from tests import webhook_receiver
from tests.factories import (
    ClinicFactory,
    ClinicianFactory,
    PatientFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

pytestmark = pytest.mark.django_db

ALL_EVENTS = list(WebhookEvent.values)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    receiver, server = webhook_receiver.start()
    yield receiver
    server.shutdown()
    server.server_close()


def endpoint_for(clinic, url="https://hooks.example.org/in", events=None):
    return services.webhook_endpoint_create(
        clinic=clinic, actor=None, url=url, events=events or ALL_EVENTS
    )


def deliveries(event=None):
    rows = WebhookDelivery.objects.order_by("id")
    return list(rows.filter(event=event) if event else rows)


def test_a_delivery_is_signed_so_the_standardwebhooks_library_verifies_it(receiver):
    clinic = ClinicFactory()
    _, secret = endpoint_for(clinic, url=receiver.url)
    assert secret.startswith("whsec_")
    patient = services.patient_create(
        clinic=Clinic.objects.get(pk=clinic.pk),
        actor=None,
        first_name="Ada",
        last_name="Byron",
        condition="knee_oa",
    )
    (delivery,) = deliveries()
    assert services.webhook_deliver(delivery_id=delivery.pk) == "succeeded"
    ((headers, body),) = receiver.received
    payload = Webhook(secret).verify(body, headers)
    assert headers["webhook-id"] == delivery.message_id
    assert headers["webhook-signature"].startswith("v1,")
    assert payload["type"] == "patient.created"
    assert payload["data"]["patient_id"] == patient.pk
    assert payload["data"]["resource"]["id"] == patient.pk
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.last_duration_ms is not None
    # A second message for it (the sweep's, a redelivery) sends nothing.
    assert services.webhook_deliver(delivery_id=delivery.pk) == "not_claimed"
    assert len(receiver.received) == 1


def test_a_rotated_secret_signs_beside_the_new_one_until_its_overlap_ends(receiver):
    clinic = ClinicFactory()
    endpoint, old = endpoint_for(clinic, url=receiver.url)
    now = timezone.now()
    endpoint, new = services.webhook_endpoint_rotate_secret(
        endpoint=endpoint, actor=None, overlap=dt.timedelta(hours=1), now=now
    )
    assert new != old
    assert len(services.webhook_signing_secrets(endpoint=endpoint, now=now)) == 2
    assert services.webhook_signing_secrets(endpoint=endpoint, now=now + dt.timedelta(hours=2)) == [
        new
    ]
    services.patient_create(
        clinic=Clinic.objects.get(pk=clinic.pk),
        actor=None,
        first_name="A",
        last_name="B",
        condition="knee_oa",
    )
    (delivery,) = deliveries()
    services.webhook_deliver(delivery_id=delivery.pk)
    ((headers, body),) = receiver.received
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)  # receivers not switched yet still verify
    Webhook(new).verify(body, headers)


def test_the_secret_is_not_stored_only_its_seed():
    endpoint, secret = endpoint_for(ClinicFactory())
    row = WebhookEndpoint.objects.filter(pk=endpoint.pk).values()[0]
    assert secret not in json.dumps(row, default=str)
    assert secret[len("whsec_") :] not in json.dumps(row, default=str)


def test_every_event_is_emitted_by_the_action_that_makes_it():
    clinic = ClinicFactory()
    endpoint_for(clinic)
    clinic = Clinic.objects.get(pk=clinic.pk)
    actor = ClinicianFactory(clinic=clinic).user
    patient = services.patient_create(
        clinic=clinic, actor=actor, first_name="A", last_name="B", condition="knee_oa"
    )
    services.patient_update(patient=patient, actor=actor, last_name="C")
    today = patient.local_today()
    start = today - dt.timedelta(days=3)
    screening = services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=actor, today=start
    )
    plan = services.plan_assign(
        patient=patient, protocol=builtin_protocol(), actor=actor, start_date=start, today=start
    )
    session = services.session_log(
        plan=plan, actor=actor, date=start, today=start, **good_session(minutes_done=10)
    )
    services.plan_set_level(plan=plan, level=1, actor=actor, reason="Strong start", today=start)
    services.plan_pause(plan=plan, actor=actor, reason="Holiday", today=today)
    services.plan_resume(plan=plan, actor=actor, today=today)
    # A fall pauses the plan at once: a safety pause, with its reason's code.
    fall = services.session_log(
        plan=plan, actor=actor, date=today, today=today, **good_session(fall=True)
    )
    outcome = services.outcome_record(
        patient=patient, measure="nprs", answers={"score": 4}, actor=actor
    )
    report = services.report_request(
        patient=patient, actor=actor, audience="clinician", period_start=start, period_end=today
    )
    services.report_render(report_id=report.pk)

    emitted = {d.event for d in deliveries()}
    assert emitted == set(ALL_EVENTS)

    def data(event):
        return [d.payload["data"] for d in deliveries(event)]

    for delivery in deliveries():
        assert delivery.payload["type"] == delivery.event
        assert dt.datetime.fromisoformat(delivery.payload["timestamp"])
        assert delivery.payload["data"]["clinic_id"] == clinic.pk
        assert delivery.payload["data"]["patient_id"] == patient.pk
        assert delivery.message_id.startswith("msg_")
    assert data("patient.updated")[0]["changed"] == ["last_name"]
    assert data("patient.updated")[0]["resource"]["last_name"] == "C"
    (screened,) = data("screening.completed")
    assert screened["id"] == screening.pk
    assert screened["verdict"] == {"status": screening.status, "referral": screening.referral}
    assert screened["resource"]["verdict"]["status"] == screening.status
    assert data("plan.assigned")[0]["resource"]["id"] == plan.pk
    paused = data("plan.paused")
    assert paused[0]["reason"] == {"text": "Holiday", "safety": False, "code": ""}
    assert paused[1]["reason"]["safety"] is True
    assert paused[1]["reason"]["code"]
    assert paused[1]["resource"]["status"] == "paused"
    assert data("plan.resumed")[0]["resource"]["status"] == "active"
    logged = data("session.logged")
    assert [d["id"] for d in logged] == [session.pk, fall.pk]
    assert logged[0]["resource"]["decision_pending"] is True
    assert logged[1]["resource"]["fall"] is True
    assert {d["object"] for d in data("decision.created")} == {"progressiondecision"}
    assert any(d["resource"]["outcome"] == "pause" for d in data("decision.applied"))
    assert data("outcome.recorded")[0]["id"] == outcome.pk
    assert data("report.ready")[0]["resource"]["status"] == "ready"


def test_an_endpoint_gets_only_the_events_it_subscribes_to_and_a_disabled_one_none():
    clinic = ClinicFactory()
    endpoint_for(clinic, events=["plan.assigned"])
    off, _ = endpoint_for(clinic, events=["patient.created"])
    services.webhook_endpoint_update(endpoint=off, actor=None, enabled=False)
    clinic = Clinic.objects.get(pk=clinic.pk)
    assert clinic.webhook_events == ["plan.assigned"]
    services.patient_create(
        clinic=clinic, actor=None, first_name="A", last_name="B", condition="knee_oa"
    )
    assert deliveries() == []


def test_a_clinic_without_endpoints_records_nothing_and_reads_nothing(django_assert_num_queries):
    clinic = ClinicFactory()
    patient = PatientFactory(clinic=clinic)
    with django_assert_num_queries(0):
        assert (
            services.webhook_emit(
                clinic=clinic, event=WebhookEvent.PATIENT_UPDATED, resource=patient
            )
            == 0
        )


# --- Retries, giving up, disabling -----------------------------------------------------------


def failing_delivery(receiver, status=500):
    receiver.status = status
    clinic = ClinicFactory()
    endpoint, _ = endpoint_for(clinic, url=receiver.url)
    services.patient_create(
        clinic=Clinic.objects.get(pk=clinic.pk),
        actor=None,
        first_name="A",
        last_name="B",
        condition="knee_oa",
    )
    (delivery,) = deliveries()
    return endpoint, delivery


def test_a_failed_attempt_is_tried_again_later_with_exponential_backoff(receiver):
    endpoint, delivery = failing_delivery(receiver)
    now = delivery.created_at
    assert services.webhook_deliver(delivery_id=delivery.pk, now=now) == "pending"
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    assert delivery.last_error == "The endpoint answered 500."
    first_wait = delivery.next_attempt_at - now
    assert dt.timedelta(seconds=24) <= first_wait <= dt.timedelta(seconds=36)
    # Not due before its time.
    assert services.webhook_deliver(delivery_id=delivery.pk, now=now) == "not_claimed"
    later = delivery.next_attempt_at
    assert services.webhook_deliver(delivery_id=delivery.pk, now=later) == "pending"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - later >= dt.timedelta(seconds=48)  # doubled, less jitter
    endpoint.refresh_from_db()
    assert endpoint.failing_since == now
    # A success clears the endpoint's failing streak.
    receiver.status = 204
    assert services.webhook_deliver(delivery_id=delivery.pk, now=delivery.next_attempt_at) == (
        "succeeded"
    )
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_the_backoff_doubles_with_jitter_up_to_its_cap():
    for attempts, base in ((1, 30), (2, 60), (3, 120), (20, 7200)):
        for _ in range(20):
            wait = services.webhook_backoff(attempts).total_seconds()
            assert 0.8 * base <= wait <= 1.2 * base


def test_a_delivery_failing_for_24_hours_is_given_up(receiver):
    _, delivery = failing_delivery(receiver)
    late = delivery.created_at + dt.timedelta(hours=23, minutes=59, seconds=50)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=late)
    assert services.webhook_deliver(delivery_id=delivery.pk, now=late) == "failed"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is None


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_admins_told(receiver, mailoutbox):
    endpoint, delivery = failing_delivery(receiver, status=503)
    admin = ClinicianFactory(clinic=endpoint.clinic, is_clinic_admin=True)
    ClinicianFactory(clinic=endpoint.clinic)  # not an administrator: not told
    start = delivery.created_at
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=start - dt.timedelta(days=3)
    )
    with django_capture_on_commit():
        services.webhook_deliver(delivery_id=delivery.pk, now=start)
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "3 days" in endpoint.disabled_reason
    assert Clinic.objects.get(pk=endpoint.clinic_id).webhook_events == []
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    (mail,) = mailoutbox
    assert mail.to == [admin.user.email]
    assert mail.subject == "A webhook endpoint was disabled"
    assert receiver.url not in mail.subject
    assert receiver.url in mail.body
    # Where an administrator sees why and enables it again: the dashboard's page for it.
    assert site_url(f"/clinic/webhooks/{endpoint.pk}/deliveries/") in mail.body


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_a_retry_sends_a_failed_delivery_again_with_the_same_id(receiver):
    _, delivery = failing_delivery(receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    receiver.status = 200
    services.webhook_delivery_retry(delivery=delivery, actor=None)
    assert services.webhook_deliver(delivery_id=delivery.pk) == "succeeded"
    assert receiver.received[-1][0]["webhook-id"] == delivery.message_id
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="pending")
    with pytest.raises(RehabError):  # waiting for its next attempt already
        services.webhook_delivery_retry(delivery=delivery, actor=None)


# --- The address rule (SSRF) -----------------------------------------------------------------


def attempt(url):
    return webhooks.post(
        url=url,
        message_id="msg_x",
        body="{}",
        secrets_now=[webhooks.secret_for("seed")],
        at=timezone.now(),
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://192.168.0.10/hooks",
        "https://0.0.0.0/hooks",
        "https://224.0.0.1/hooks",
        "https://localhost/hooks",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    result = attempt(url)
    assert not result.ok
    assert result.status_code is None
    with pytest.raises(RehabError) as refused:
        endpoint_for(ClinicFactory(), url=url)
    assert "url" in refused.value.fields


def test_a_host_name_resolving_to_a_private_address_is_refused(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host == "hooks.example.org":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    endpoint_for(ClinicFactory(), url="https://hooks.example.org/in")  # the name itself is fine
    result = attempt("https://hooks.example.org/in")
    assert not result.ok
    assert "private or reserved address (127.0.0.1)" in result.error


def test_a_name_with_a_public_and_a_private_address_is_refused(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ],
    )
    assert "10.0.0.7" in attempt("https://hooks.example.org/in").error


def test_a_redirect_is_not_followed(receiver):
    second, server = webhook_receiver.start()
    try:
        receiver.status = 302
        receiver.headers_out = {"Location": "http://10.0.0.1/internal"}
        result = attempt(receiver.url)
        assert not result.ok
        assert result.status_code == 302
        assert "redirects are not followed" in result.error
        receiver.headers_out = {"Location": second.url}
        assert not attempt(receiver.url).ok
        assert second.received == []
    finally:
        server.shutdown()
        server.server_close()


def test_plain_http_is_refused_unless_private_networks_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(RehabError):
        endpoint_for(ClinicFactory(), url="http://hooks.example.org/in")


def test_the_post_connects_to_the_address_it_checked_with_the_urls_host_and_tls_name(
    settings, monkeypatch
):
    """One resolution, then the connection to that address: a second DNS answer (rebinding)
    is never asked for. The Host header and the TLS name stay the URL's."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    lookups = []

    def resolve(host, port, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(204)

    real_client = httpx.Client
    monkeypatch.setattr(
        webhooks.httpx,
        "Client",
        lambda **kwargs: real_client(transport=httpx.MockTransport(handler), **kwargs),
    )
    result = attempt("https://hooks.example.org:8443/in?x=1")
    assert result.ok
    (request,) = seen
    assert lookups == ["hooks.example.org"]
    assert request.url.host == "93.184.215.14"
    assert request.url.port == 8443
    assert request.url.raw_path == b"/in?x=1"
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.org"


def test_finished_deliveries_leave_the_log_after_its_days(settings):
    settings.WEBHOOK_LOG_DAYS = 30
    endpoint, _ = endpoint_for(ClinicFactory())
    now = timezone.now()
    old = now - dt.timedelta(days=31)
    rows = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event="patient.created",
            message_id=f"msg_{status}",
            payload={},
            status=status,
            created_at=old,
            retry_until=old,
        )
        for status in ("succeeded", "failed", "pending")
    ]
    assert services.webhook_deliveries_purge(now=now) == 2
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [rows[2].pk]


@pytest.mark.parametrize("url", ["https://ex\x00ample.org/in", "https://[::1/in", "ftp://x.org/"])
def test_a_malformed_url_fails_the_attempt_rather_than_the_worker(url):
    result = attempt(url)
    assert not result.ok
    assert result.error


def test_a_patients_deliveries_can_be_forgotten_for_an_erasure():
    clinic = ClinicFactory()
    endpoint_for(clinic, events=["patient.created"])
    clinic = Clinic.objects.get(pk=clinic.pk)
    kept, gone = (
        services.patient_create(
            clinic=clinic, actor=None, first_name=name, last_name="B", condition="knee_oa"
        )
        for name in ("Kept", "Gone")
    )
    assert services.webhook_deliveries_forget_patient(patient_id=gone.pk) == 1
    assert [d.payload["data"]["patient_id"] for d in deliveries()] == [kept.pk]


def test_a_delivery_whose_endpoint_was_removed_meanwhile_is_not_sent(receiver):
    endpoint, delivery = failing_delivery(receiver)
    services.webhook_endpoint_delete(endpoint=endpoint, actor=None)
    assert services.webhook_deliver(delivery_id=delivery.pk) == "not_claimed"
    assert receiver.received == []
