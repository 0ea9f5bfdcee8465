"""Clinic administration: webhook endpoints, their signing secret (shown once) and delivery log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from rehab import services, webhooks
from rehab.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("clinicians:webhooks")
URL = "https://hooks.example.org/in"


def endpoint_url(endpoint) -> str:
    return reverse("clinicians:webhook", args=[endpoint.pk])


def rotate_url(endpoint) -> str:
    return reverse("clinicians:webhook_rotate", args=[endpoint.pk])


def delete_url(endpoint) -> str:
    return reverse("clinicians:webhook_delete", args=[endpoint.pk])


def log_url(endpoint) -> str:
    return reverse("clinicians:webhook_deliveries", args=[endpoint.pk])


def retry_url(endpoint, delivery) -> str:
    return reverse("clinicians:webhook_delivery_retry", args=[endpoint.pk, delivery.pk])


def add(clinic, url=URL, events=("plan.paused",), **fields) -> WebhookEndpoint:
    endpoint, _ = services.webhook_endpoint_create(
        clinic=clinic, actor=None, url=url, events=list(events), **fields
    )
    return endpoint


def delivery(endpoint, *, status="failed", minutes_ago=0, **fields) -> WebhookDelivery:
    """A delivery row as the worker leaves it (written as the row: nothing is posted)."""
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=fields.pop("event", "plan.paused"),
        message_id=fields.pop("message_id", f"msg_{endpoint.pk}_{minutes_ago}_{status}"),
        payload={"type": "plan.paused", "data": {"patient_id": 1, "note": "PAYLOAD-TEXT"}},
        status=status,
        attempts=fields.pop("attempts", 1),
        created_at=at,
        retry_until=at + dt.timedelta(hours=24),
        **fields,
    )


def new_endpoint(**overrides) -> dict:
    return {
        "url": URL,
        "events": ["plan.paused", "session.logged"],
        "description": "Patient record system",
        **overrides,
    }


@pytest.fixture
def endpoint(clinic):
    return add(clinic, description="Patient record system")


@pytest.fixture
def foreign(db):
    """Another clinic's endpoint and one of its deliveries."""
    other = ClinicianFactory(clinic=ClinicFactory(name="Elsewhere"), is_clinic_admin=True)
    theirs = add(other.clinic, url="https://elsewhere.example.org/hook", description="Theirs")
    return theirs, delivery(theirs)


def every_route(endpoint, row) -> list[tuple[str, str, dict]]:
    """(method, url, body) of every webhooks route, for an endpoint and one of its deliveries."""
    return [
        ("get", LIST, {}),
        ("post", LIST, new_endpoint()),
        ("get", endpoint_url(endpoint), {}),
        ("post", endpoint_url(endpoint), new_endpoint(enabled="on", description="Changed")),
        ("get", rotate_url(endpoint), {}),
        ("post", rotate_url(endpoint), {"overlap_hours": 1}),
        ("get", delete_url(endpoint), {}),
        ("post", delete_url(endpoint), {}),
        ("get", log_url(endpoint), {}),
        ("post", retry_url(endpoint, row), {}),
    ]


def unchanged(endpoint, row) -> None:
    before = endpoint.secret_seed
    endpoint.refresh_from_db()  # raises if it was removed
    row.refresh_from_db()
    assert endpoint.secret_seed == before
    assert endpoint.description != "Changed"
    assert row.status == "failed"


# --- Who may use these pages ---------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, endpoint):
    row = delivery(endpoint)
    for method, url, body in every_route(endpoint, row):
        response = getattr(client, method)(url, body)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("clinicians:login"))
    unchanged(endpoint, row)
    assert WebhookEndpoint.objects.count() == 1


def test_clinician_who_is_not_an_administrator_gets_403(dashboard, endpoint):
    row = delivery(endpoint)
    for method, url, body in every_route(endpoint, row):
        assert getattr(dashboard, method)(url, body).status_code == 403, (method, url)
    unchanged(endpoint, row)
    assert WebhookEndpoint.objects.count() == 1
    assert "Webhooks</a>" not in dashboard.get(reverse("clinicians:today")).content.decode()


def test_patient_user_is_sent_to_the_portal(client, clinic, endpoint):
    row = delivery(endpoint)
    patient = PatientFactory(clinic=clinic, user=UserFactory())
    client.force_login(patient.user)
    for method, url, body in every_route(endpoint, row):
        response = getattr(client, method)(url, body)
        assert response.status_code == 302, (method, url)
        assert response["Location"] == reverse("patients:today")
    unchanged(endpoint, row)


def test_another_clinics_endpoint_and_delivery_are_not_found(admin_dashboard, endpoint, foreign):
    theirs, their_row = foreign
    for method, url, body in every_route(theirs, their_row)[2:]:
        assert getattr(admin_dashboard, method)(url, body).status_code == 404, (method, url)
    unchanged(theirs, their_row)
    # Their delivery through our own endpoint's URL is not ours either.
    assert admin_dashboard.post(retry_url(endpoint, their_row)).status_code == 404
    their_row.refresh_from_db()
    assert their_row.status == "failed"
    body = admin_dashboard.get(LIST).content.decode()
    assert "elsewhere.example.org" not in body
    assert "Theirs" not in body


def test_another_endpoints_delivery_is_not_found_through_this_one(admin_dashboard, clinic):
    first, second = add(clinic), add(clinic, url="https://second.example.org/in")
    row = delivery(second)
    assert admin_dashboard.post(retry_url(first, row)).status_code == 404
    row.refresh_from_db()
    assert row.status == "failed"


def test_administrators_find_the_page_in_the_navigation(admin_dashboard):
    body = admin_dashboard.get(reverse("clinicians:today")).content.decode()
    assert f'<a href="{LIST}">Webhooks</a>' in body
    assert f'<a href="{LIST}" aria-current="page">Webhooks</a>' in (
        admin_dashboard.get(LIST).content.decode()
    )


# --- Adding an endpoint --------------------------------------------------------------------------


def test_new_endpoint_shows_its_secret_once(admin_dashboard, clinic):
    response = admin_dashboard.post(LIST, new_endpoint())
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    secret = re.search(r'id="signing-secret" value="(whsec_[^"]+)"', body).group(1)
    assert "it will not be shown again" in body

    endpoint = WebhookEndpoint.objects.get(clinic=clinic)
    assert endpoint.url == URL
    assert endpoint.events == ["plan.paused", "session.logged"]
    assert endpoint.description == "Patient record system"
    assert secret == webhooks.secret_for(endpoint.secret_seed)  # the secret that signs
    assert AuditEvent.objects.filter(
        action="webhook.create", object_id=str(endpoint.pk), clinic=clinic
    ).exists()
    # Not kept anywhere the browser could show it again: no message, no later page.
    assert not response.cookies.get("messages")
    for url in (LIST, endpoint_url(endpoint), log_url(endpoint), rotate_url(endpoint)):
        page = admin_dashboard.get(url)
        assert page.status_code == 200
        assert secret not in page.content.decode()
        assert "whsec_" not in page.content.decode()


def test_the_list_shows_each_endpoints_state(admin_dashboard, clinic):
    add(clinic, description="Working")
    failing = add(clinic, url="https://failing.example.org/in")
    WebhookEndpoint.objects.filter(pk=failing.pk).update(
        failing_since=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    )
    broken = add(clinic, url="https://broken.example.org/in")
    WebhookEndpoint.objects.filter(pk=broken.pk).update(
        disabled_at=dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.UTC),
        disabled_reason="Every delivery failed for 3 days.",
    )
    body = admin_dashboard.get(LIST).content.decode()
    assert body.count('class="badge badge-ok">Enabled') == 1
    assert "Working" in body
    assert "no attempt has succeeded since 2 Mar 2026, 09:30" in body  # the clinic's zone: UTC
    assert "Disabled</span> since 5 Mar 2026, 09:30: Every delivery failed for 3 days." in body
    assert "<code>plan.paused</code>" in body


def test_the_event_checkboxes_are_labelled(admin_dashboard):
    body = admin_dashboard.get(LIST).content.decode()
    assert "<legend>Events to send</legend>" in body
    assert body.count('type="checkbox" name="events"') == 11
    assert "A plan was paused (with the reason, e.g. a safety signal) (plan.paused)" in body


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"url": "http://hooks.example.org/in"}, "url", "Use an https:// URL"),
        ({"url": "https://10.0.0.7/in"}, "url", "private or reserved address"),
        ({"url": "https://169.254.169.254/latest"}, "url", "private or reserved address"),
        ({"url": "https://localhost/in"}, "url", "points at this server"),
        ({"url": "not a url at all"}, "url", "Enter a valid URL"),
        ({"events": []}, "events", "Choose at least one event"),
        ({"events": ["nothing.happened"]}, "events", "Select a valid choice"),
        ({"description": "two\nlines"}, "description", ""),
    ],
)
def test_bad_input_is_a_field_error_and_keeps_the_input(
    admin_dashboard, clinic, overrides, field, words
):
    response = admin_dashboard.post(LIST, new_endpoint(**overrides))
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body
    assert words in body
    kept = "url" if field == "description" else "description"  # what was typed stays
    assert f'value="{new_endpoint(**overrides)[kept]}"' in body
    assert "whsec_" not in body
    assert not WebhookEndpoint.objects.filter(clinic=clinic).exists()


def test_the_endpoint_limit_is_a_form_error(admin_dashboard, clinic):
    for n in range(services.webhooks.WEBHOOK_ENDPOINTS_MAX):
        add(clinic, url=f"https://hooks.example.org/{n}")
    response = admin_dashboard.post(LIST, new_endpoint())
    assert response.status_code == 400
    assert "at most 20 webhook endpoints" in response.content.decode()


# --- Changing, removing, rotating ------------------------------------------------------------


def test_the_endpoint_page_shows_the_form_filled_in(admin_dashboard, endpoint):
    body = admin_dashboard.get(endpoint_url(endpoint)).content.decode()
    assert f'value="{URL}"' in body
    assert 'value="plan.paused" id="id_events_' in body
    assert re.search(r'value="plan\.paused"[^>]*checked', body)
    assert not re.search(r'value="session\.logged"[^>]*checked', body)
    assert re.search(r'name="enabled"[^>]*checked', body)


def test_an_endpoint_is_changed(admin_dashboard, endpoint):
    response = admin_dashboard.post(
        endpoint_url(endpoint),
        new_endpoint(
            url="https://hooks.example.org/v2",
            events=["report.ready"],
            description="New system",
            enabled="on",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == endpoint_url(endpoint)
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.org/v2"
    assert endpoint.events == ["report.ready"]
    assert endpoint.description == "New system"
    assert endpoint.enabled
    assert AuditEvent.objects.filter(action="webhook.update", object_id=str(endpoint.pk)).exists()
    assert "changes are saved" in admin_dashboard.get(response["Location"]).content.decode()


def test_an_endpoint_is_disabled_and_enabled_again(admin_dashboard, endpoint):
    response = admin_dashboard.post(endpoint_url(endpoint), new_endpoint())  # enabled unticked
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "Disabled</span>" in admin_dashboard.get(LIST).content.decode()
    page = admin_dashboard.get(endpoint_url(endpoint)).content.decode()
    assert "No events are sent to this endpoint." in page
    assert "Disabled by the clinic." in page

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())
    admin_dashboard.post(endpoint_url(endpoint), new_endpoint(enabled="on"))
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert endpoint.failing_since is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "http://hooks.example.org/in"}, "url"),
        ({"url": "https://192.168.1.20/in"}, "url"),
        ({"events": []}, "events"),
    ],
)
def test_a_bad_change_is_a_field_error(admin_dashboard, endpoint, overrides, field):
    response = admin_dashboard.post(endpoint_url(endpoint), new_endpoint(enabled="on", **overrides))
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == URL
    assert endpoint.events == ["plan.paused"]


def test_removing_asks_first_then_removes_with_the_log(admin_dashboard, endpoint):
    row = delivery(endpoint)
    confirm = admin_dashboard.get(delete_url(endpoint))
    assert confirm.status_code == 200
    assert "Remove the endpoint" in confirm.content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()  # asking is not removing

    response = admin_dashboard.post(delete_url(endpoint))
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert "hooks.example.org" not in response.cookies["messages"].value  # it may hold a token
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(action="webhook.delete", object_id=str(endpoint.pk)).exists()
    body = admin_dashboard.get(LIST).content.decode()
    assert "was removed with its delivery log" in body
    assert "No endpoints yet." in body


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_signing(
    admin_dashboard, endpoint
):
    old_seed = endpoint.secret_seed
    form = admin_dashboard.get(rotate_url(endpoint))
    assert form.status_code == 200
    assert 'name="overlap_hours" value="24"' in form.content.decode()

    response = admin_dashboard.post(rotate_url(endpoint), {"overlap_hours": 2})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    secret = re.search(r'id="signing-secret" value="(whsec_[^"]+)"', body).group(1)
    endpoint.refresh_from_db()
    assert secret == webhooks.secret_for(endpoint.secret_seed)
    assert endpoint.previous_secret_seed == old_seed
    assert endpoint.previous_secret_until == pytest.approx(
        timezone.now() + dt.timedelta(hours=2), abs=dt.timedelta(minutes=1)
    )
    assert "Events are signed with both secrets until" in body
    assert AuditEvent.objects.filter(action="webhook.rotate", object_id=str(endpoint.pk)).exists()
    page = admin_dashboard.get(endpoint_url(endpoint)).content.decode()
    assert secret not in page
    assert "The previous secret also signs until" in page


def test_rotating_with_no_overlap_ends_the_old_secret(admin_dashboard, endpoint):
    response = admin_dashboard.post(rotate_url(endpoint), {"overlap_hours": 0})
    assert response.status_code == 200
    assert "The previous secret no longer signs" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_seed == ""


@pytest.mark.parametrize("hours", ["169", "-1", "soon", ""])
def test_a_bad_overlap_is_a_field_error(admin_dashboard, endpoint, hours):
    seed = endpoint.secret_seed
    response = admin_dashboard.post(rotate_url(endpoint), {"overlap_hours": hours})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_overlap_hours_error"' in body
    assert "whsec_" not in body
    endpoint.refresh_from_db()
    assert endpoint.secret_seed == seed


# --- The delivery log ----------------------------------------------------------------------------


def test_the_log_shows_each_attempt_newest_first(admin_dashboard, endpoint):
    delivery(
        endpoint,
        minutes_ago=90,
        event="plan.paused",
        last_status_code=500,
        last_duration_ms=231,
        last_error="The endpoint answered 500.",
        last_attempt_at=timezone.now(),
    )
    delivery(
        endpoint,
        status="succeeded",
        minutes_ago=60,
        event="session.logged",
        last_status_code=204,
        last_duration_ms=12,
    )
    delivery(
        endpoint,
        status="pending",
        minutes_ago=30,
        event="report.ready",
        attempts=2,
        next_attempt_at=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        last_error="No answer within 10 s.",
    )
    response = admin_dashboard.get(log_url(endpoint))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("report.ready") < body.index("session.logged") < body.index("plan.paused")
    assert "Pending</span>" in body
    assert "2 Jan 2030, 03:04:05" in body  # the next attempt, clinic time (UTC)
    assert "Succeeded</span>" in body
    assert ">204<" in body
    assert "12 ms" in body
    assert "Failed</span>" in body
    assert ">500<" in body
    assert "231 ms" in body
    assert "The endpoint answered 500." in body
    assert "No answer within 10 s." in body
    assert "PAYLOAD-TEXT" not in body
    assert body.count(">Send again<") == 2  # the finished ones only


def test_the_log_is_paged(admin_dashboard, endpoint):
    for minutes in range(30):
        delivery(endpoint, minutes_ago=minutes, message_id=f"msg_{minutes:02d}")
    first = admin_dashboard.get(log_url(endpoint)).content.decode()
    assert "msg_00" in first
    assert "msg_24" in first
    assert "msg_25" not in first
    assert "Page 1 of 2" in first
    second = admin_dashboard.get(log_url(endpoint), {"page": 2}).content.decode()
    assert "msg_25" in second
    assert "msg_29" in second
    assert "msg_24" not in second
    assert admin_dashboard.get(log_url(endpoint), {"page": "x"}).status_code == 200


def test_a_finished_delivery_is_sent_again(admin_dashboard, endpoint, clinic):
    row = delivery(endpoint, status="failed")
    response = admin_dashboard.post(retry_url(endpoint, row), {"page": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{log_url(endpoint)}?page=1"
    row.refresh_from_db()
    assert row.status == "pending"
    assert row.next_attempt_at is not None
    assert AuditEvent.objects.filter(
        action="webhook.retry", object_id=str(row.pk), clinic=clinic
    ).exists()
    assert "is being sent again now" in admin_dashboard.get(log_url(endpoint)).content.decode()


def test_a_waiting_delivery_is_not_sent_twice(admin_dashboard, endpoint):
    row = delivery(endpoint, status="pending", next_attempt_at=timezone.now())
    response = admin_dashboard.post(retry_url(endpoint, row))
    assert response.status_code == 409
    body = response.content.decode()
    assert 'class="error-summary" role="alert"' in body
    assert "waiting for its next attempt already" in body
    assert "Delivery log" in body  # the log, not an error page


def test_a_disabled_endpoints_delivery_is_refused_with_a_reason(admin_dashboard, endpoint):
    row = delivery(endpoint, status="failed")
    services.webhook_endpoint_update(endpoint=endpoint, actor=None, enabled=False)
    page = admin_dashboard.get(log_url(endpoint)).content.decode()
    assert ">Send again<" not in page
    assert "enable it</a> to send deliveries again" in page
    response = admin_dashboard.post(retry_url(endpoint, row))
    assert response.status_code == 409
    assert "enable it before sending again" in response.content.decode()
    row.refresh_from_db()
    assert row.status == "failed"


def test_retry_takes_post_only(admin_dashboard, endpoint):
    row = delivery(endpoint)
    assert admin_dashboard.get(retry_url(endpoint, row)).status_code == 405
    row.refresh_from_db()
    assert row.status == "failed"


# --- What the pages cost -------------------------------------------------------------------------


def test_the_list_costs_the_same_queries_for_one_endpoint_or_many(
    admin_dashboard, clinic, django_assert_num_queries
):
    add(clinic)
    admin_dashboard.get(LIST)  # the first request after signing in also saves the session
    # session, user, clinician with clinic, the endpoints
    with django_assert_num_queries(4):
        admin_dashboard.get(LIST)
    for n in range(6):
        add(clinic, url=f"https://hooks.example.org/{n}")
    with django_assert_num_queries(4):
        response = admin_dashboard.get(LIST)
    assert response.content.decode().count("Manage<span") == 7


def test_the_log_costs_the_same_queries_for_few_deliveries_or_many(
    admin_dashboard, endpoint, django_assert_num_queries
):
    for minutes in range(3):
        delivery(endpoint, minutes_ago=minutes)
    admin_dashboard.get(log_url(endpoint))
    # session, user, clinician with clinic, the endpoint, the log's count, the page's rows
    with django_assert_num_queries(6):
        admin_dashboard.get(log_url(endpoint))
    for minutes in range(3, 60):
        delivery(endpoint, minutes_ago=minutes)
    with django_assert_num_queries(6):
        response = admin_dashboard.get(log_url(endpoint), {"page": 2})
    assert response.content.decode().count(">Send again<") == 25
