"""/api/v1/webhooks/: a clinic's administrators and systems manage its signed webhooks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from rehab import services
from rehab.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from tests.api.test_api import session_body

URL = "https://hooks.example.org/in"


def create(client, **overrides):
    body = {"url": URL, "events": ["session.logged", "plan.paused"], "description": "EHR"}
    body.update(overrides)
    return client.post("/api/v1/webhooks/", body, format="json")


def token_client(user, clinic):
    _, raw = services.personal_token_create(user=user, clinic=clinic)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def test_an_api_key_creates_an_endpoint_and_sees_its_secret_once(world, api):
    response = create(api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["plan.paused", "session.logged"]
    assert body["enabled"] is True
    assert AuditEvent.objects.filter(action="webhook.create", clinic=world.clinic1).exists()
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/api/v1/webhooks/{body['id']}/").json()


def test_a_clinic_admin_manages_endpoints_update_rotate_delete(world):
    admin = world.clients["admin1"]
    endpoint = create(admin).json()
    path = f"/api/v1/webhooks/{endpoint['id']}/"
    changed = admin.patch(path, {"events": ["report.ready"], "enabled": False}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["events"] == ["report.ready"]
    assert changed.json()["enabled"] is False
    rotated = admin.post(f"{path}rotate-secret/", {"overlap_hours": 2}, format="json")
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["previous_secret_until"] is not None
    assert admin.delete(path).status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint["id"]).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"webhook.update", "webhook.rotate", "webhook.delete"} <= actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["nothing.happened"]}, "events"),
        ({"events": []}, "events"),
        ({"url": "http://hooks.example.org/in"}, "url"),
        ({"url": "https://127.0.0.1/in"}, "url"),
        ({"url": "https://169.254.169.254/latest"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": 5}, "url"),
        ({"description": "two\nlines"}, "description"),
    ],
)
def test_bad_input_is_a_400_with_the_field(world, api, body, field):
    response = create(api, **body)
    assert response.status_code == 400, response.content
    assert field in {name.split(".")[0] for name in response.json()["fields"]}


def test_a_bad_overlap_is_a_400(world, api):
    endpoint = create(api).json()
    response = api.post(
        f"/api/v1/webhooks/{endpoint['id']}/rotate-secret/", {"overlap_hours": 500}, format="json"
    )
    assert response.status_code == 400
    assert "overlap_hours" in response.json()["fields"]


@pytest.mark.parametrize("who", ["clinician1", "patient_a"])
def test_non_admin_clinicians_and_patients_are_refused(world, who):
    client = world.clients[who]
    assert create(client).status_code == 403
    assert client.get("/api/v1/webhooks/").status_code == 403


def test_a_patients_token_and_anonymous_are_refused(world):
    patient = token_client(world.patient_a.user, world.clinic1)
    assert create(patient).status_code == 403
    assert world.clients["anonymous"].get("/api/v1/webhooks/").status_code in (401, 403)


def test_another_clinics_endpoint_and_deliveries_are_404(world, api):
    endpoint = create(world.clients["key2"]).json()
    base = f"/api/v1/webhooks/{endpoint['id']}/"
    assert api.get(base).status_code == 404
    assert api.patch(base, {"description": "x"}, format="json").status_code == 404
    assert api.delete(base).status_code == 404
    assert api.post(f"{base}rotate-secret/", {}, format="json").status_code == 404
    assert api.get(f"{base}deliveries/").status_code == 404
    assert api.post(f"{base}deliveries/1/retry/").status_code == 404
    assert api.get("/api/v1/webhooks/").json()["results"] == []


def test_the_delivery_log_and_a_retry(world, api):
    endpoint = create(api).json()
    assert api.post("/api/v1/sessions/", session_body(world), format="json").status_code == 201
    log = api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"]
    assert [row["event"] for row in log] == ["session.logged"]
    row = log[0]
    assert {
        "event",
        "attempt",
        "status_code",
        "duration_ms",
        "next_attempt_at",
        "status",
        "message_id",
    } <= set(row)
    retry = f"/api/v1/webhooks/{endpoint['id']}/deliveries/{row['id']}/retry/"
    assert api.post(retry).status_code == 409  # still waiting for its first attempt
    WebhookDelivery.objects.filter(pk=row["id"]).update(status="failed", next_attempt_at=None)
    response = api.post(retry)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert AuditEvent.objects.filter(action="webhook.retry").exists()
    # Another endpoint's delivery id through this endpoint's path is not found.
    other = create(api).json()
    assert api.post(
        f"/api/v1/webhooks/{other['id']}/deliveries/{row['id']}/retry/"
    ).status_code == (404)


def post_session(client, world, day):
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/v1/sessions/", session_body(world, date=str(day)))
    assert response.status_code == 201, response.content
    return len(ctx.captured_queries)


def test_logging_a_session_with_an_endpoint_costs_two_queries_more(world, api):
    today = world.patient_a.local_today()
    post_session(api, world, today)  # the key's use recorded once a minute: out of the count
    assert post_session(api, world, today - dt.timedelta(days=1)) == 6  # no endpoint: as pinned
    create(world.clients["admin1"], events=["session.logged"])
    # The enabled endpoints' ids and events, then one INSERT of the delivery rows: 6 + 2.
    assert post_session(api, world, today - dt.timedelta(days=2)) == 8
    assert WebhookDelivery.objects.filter(event="session.logged").count() == 1


def test_an_endpoint_for_other_events_costs_session_logging_nothing(world, api):
    today = world.patient_a.local_today()
    post_session(api, world, today)
    create(world.clients["admin1"], events=["report.ready"])
    assert post_session(api, world, today - dt.timedelta(days=1)) == 6
