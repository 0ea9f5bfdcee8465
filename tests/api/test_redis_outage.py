"""The API while Redis is down: a real redis-server, started for this module, killed for real.

The cache (throttle counts) and the Celery broker point at it. With it gone the API still
answers: sessions are saved, throttling counts per process, errors are JSON, and /readyz tells
a load balancer or compose which dependency is missing."""

from __future__ import annotations

import logging
import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from rehab.api import throttling
from rehab.celery import app as celery_app
from rehab.models import SessionLog
from tests.api.test_api import session_body
from tests.redis_server import redis_server_or_skip

pytestmark = pytest.mark.django_db
R = "/api/v1"


@pytest.fixture(scope="module")
def redis_server():
    server = redis_server_or_skip()
    yield server
    server.kill()


@pytest.fixture
def on_redis(redis_server, settings):
    """Cache and broker on the private Redis, which is running when the test starts."""
    if not redis_server.running:
        redis_server.start()
    settings.REDIS_URL = redis_server.url()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url(1),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    saved = celery_app.conf.broker_url, celery_app.conf.broker_transport_options
    celery_app.conf.broker_url = redis_server.url()
    celery_app.conf.broker_transport_options = {}
    yield redis_server
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved


@pytest.fixture
def redis_down(on_redis):
    on_redis.kill()
    throttling._local_counts.clear()  # each test counts from zero, as a fresh process would
    yield on_redis
    on_redis.start()


def test_a_session_logged_while_redis_is_down_is_saved_and_answers_201(world, redis_down):
    before = SessionLog.objects.filter(plan=world.plan).count()
    response = world.clients["key1"].post(f"{R}/sessions/", session_body(world))
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response.json()["plan"] == world.plan.pk
    assert SessionLog.objects.filter(plan=world.plan).count() == before + 1


def test_reads_and_sign_in_work_while_redis_is_down(world, redis_down):
    """Every door that might touch the cache on a request: throttles (per caller and
    anonymous), django-axes and the session behind a signed-in API call."""
    assert world.clients["key1"].get(f"{R}/patients/").status_code == 200
    assert world.clients["clinician1"].get(f"{R}/patients/").status_code == 200
    username = world.patient_a.user.username
    client = APIClient()
    refused = client.post(f"{R}/auth/token/", {"username": username, "password": "nope"})
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/json"
    token = client.post(f"{R}/auth/token/", {"username": username, "password": "pw"})
    assert token.status_code == 200
    assert token.json()["token"]


def test_the_outage_is_logged_once_not_per_request_and_names_no_caller(
    world, redis_down, caplog, monkeypatch
):
    monkeypatch.setattr(throttling.outage_warning, "last", None)  # no earlier test's warning
    with caplog.at_level(logging.WARNING, logger="rehab.api.throttling"):
        for _ in range(5):
            assert world.clients["key1"].get(f"{R}/patients/").status_code == 200
    warnings = [r for r in caplog.records if r.name == "rehab.api.throttling"]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "per process" in message
    assert "throttle_" not in message  # no cache key, so no caller's id
    assert world.patient_a.last_name not in message


def test_throttling_still_limits_per_process_while_redis_is_down(world, redis_down, monkeypatch):
    from rest_framework.settings import api_settings

    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {**api_settings.DEFAULT_THROTTLE_RATES, "principal": "3/min"},
    )
    api = world.clients["key2"]
    codes = [api.get(f"{R}/patients/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    last = api.get(f"{R}/patients/")
    assert int(last["Retry-After"]) > 0
    assert last.json()["code"] == "throttled"


def test_throttling_is_shared_again_once_redis_is_back(world, on_redis, monkeypatch):
    from rest_framework.settings import api_settings

    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {**api_settings.DEFAULT_THROTTLE_RATES, "principal": "2/min"},
    )
    cache.clear()
    api = world.clients["admin1"]
    assert [api.get(f"{R}/patients/").status_code for _ in range(3)] == [200, 200, 429]
    assert any(key.startswith(b":1:throttle_principal_") for key in _redis_keys(on_redis))


def _redis_keys(server) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(server.url(1))
    try:
        return client.keys("*")
    finally:
        client.close()


class CacheReadingMiddleware:
    """Reads the shared cache on every request, as a future middleware might: with Redis down
    it raises a real redis ConnectionError outside DRF's exception handling."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cache.get("anything")
        return self.get_response(request)


def test_a_dependency_down_in_a_middleware_answers_json_503_with_retry_after(
    world, redis_down, settings, caplog
):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.CacheReadingMiddleware"]
    client = world.clients["key1"]
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(f"{R}/sessions/", session_body(world))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["fields"] == {}
    # Still logged for the operator, with its traceback, and without the request's body.
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None
    assert "ConnectionError" in record.exc_info[0].__name__
    assert "treadmill" not in caplog.text
    # People outside the API still get a page, not JSON.
    page = world.clients["patient_a"]
    page.raise_request_exception = False
    assert "text/html" in page.get("/portal/")["Content-Type"]


def test_an_unexpected_error_in_a_view_answers_json_500_and_is_logged(world, monkeypatch, caplog):
    from rehab import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "patients_for", broken)
    client = world.clients["key1"]
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get(f"{R}/patients/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "server_error",
        "message": "Something went wrong on our side; it has been logged. Please try again.",
        "fields": {},
    }
    assert "Retry-After" not in response
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info[0] is RuntimeError


def test_an_unknown_api_url_answers_json_404(world):
    response = world.clients["key1"].get(f"{R}/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    # Outside the API, people still get the page.
    assert "text/html" in world.clients["clinician1"].get("/clinic/no-such-thing/")["Content-Type"]


def test_readyz_reports_each_dependency_and_follows_redis_down_and_back(db, on_redis, client):
    up = client.get("/readyz")
    assert up.status_code == 200
    assert up.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
    }

    on_redis.kill()
    started = time.monotonic()
    down = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert down.status_code == 503
    assert down["Cache-Control"] == "no-store"
    body = down.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "OperationalError"
    assert body["checks"]["cache"] == "ConnectionError"
    # Liveness knows nothing of dependencies: the process is alive, do not restart it.
    assert client.get("/healthz").status_code == 200

    on_redis.start()
    assert client.get("/readyz").status_code == 200


def test_readyz_answers_a_host_header_exactly_as_healthz_does(db, client):
    for host in ("127.0.0.1", "web:8000", "not-allowed.example"):
        health = client.get("/healthz", HTTP_HOST=host)
        ready = client.get("/readyz", HTTP_HOST=host)
        assert ready.status_code == health.status_code, host


def test_readyz_in_embedded_mode_is_ready(db, client, settings):
    """No Redis at all: the filesystem broker and the in-process cache are ready with the
    process."""
    if settings.REDIS_URL:
        pytest.skip("embedded mode only: this run has REDIS_URL set")
    assert celery_app.conf.broker_url.startswith("filesystem")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert set(response.json()["checks"].values()) == {"ok"}


def test_a_request_django_refuses_before_the_api_answers_json_400(world):
    """A Host outside ALLOWED_HOSTS is refused by Django's middleware, before DRF sees it."""
    response = world.clients["key1"].get(f"{R}/patients/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "bad_request"
