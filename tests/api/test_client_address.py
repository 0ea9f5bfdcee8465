"""The client's address comes from X-Forwarded-For only as far as our own proxies
(TRUSTED_PROXY_COUNT) wrote it: for the anonymous throttle, the lockout and the audit trail."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from rehab.models import AuditEvent

R = "/api/v1"


@pytest.fixture
def anon_rate_of_five():
    cache.clear()
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "5/min"}
    yield
    SimpleRateThrottle.THROTTLE_RATES = original
    cache.clear()


def token_posts(forwarded_for: list[str], remote: str = "192.0.2.10") -> list[int]:
    client = APIClient()
    return [
        client.post(
            f"{R}/auth/token/", {}, format="json", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=hop
        ).status_code
        for hop in forwarded_for
    ]


def test_a_rotating_forwarded_for_header_is_not_a_new_budget(db, anon_rate_of_five):
    codes = token_posts([f"10.0.{n // 250}.{n % 250 + 1}" for n in range(8)])
    assert codes[:5] == [400] * 5  # an empty body: the throttle let it through
    assert codes[5:] == [429] * 3


def test_behind_one_trusted_proxy_each_client_has_its_own_budget(db, anon_rate_of_five, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # Whatever the client wrote itself (the left entries) is ignored; the proxy's entry counts.
    first = token_posts([f"10.9.9.{n}, 203.0.113.5" for n in range(6)], remote="10.0.0.2")
    second = token_posts(["203.0.113.6"], remote="10.0.0.2")
    assert first == [400] * 5 + [429]
    assert second == [400]


def test_an_unreadable_forwarded_for_falls_back_to_the_proxy(db, anon_rate_of_five, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    codes = token_posts(["not-an-address"] * 6, remote="10.0.0.2")
    assert codes == [400] * 5 + [429]


@pytest.mark.parametrize(
    ("proxies", "recorded"), [(0, "10.0.0.2"), (1, "203.0.113.5"), (2, "198.51.100.1")]
)
def test_audit_events_record_the_client_behind_the_trusted_proxies(
    world, settings, proxies, recorded
):
    settings.TRUSTED_PROXY_COUNT = proxies
    AuditEvent.objects.all().delete()
    world.clients["patient_a"].get(
        f"{R}/sessions/{world.session.pk}/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.66, 198.51.100.1, 203.0.113.5",
    )
    assert AuditEvent.objects.get(action="session.read").ip_address == recorded
