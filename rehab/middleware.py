"""Idle session timeout without a database write on every request; no-store for signed-in
pages; health probes answered before the host check."""

from __future__ import annotations

import time

from django.urls import Resolver404, resolve

# A session is extended at most this often; so it ends between SESSION_COOKIE_AGE minus this
# and SESSION_COOKIE_AGE after the last request.
REFRESH_EVERY_SECONDS = 300


class SessionIdleTimeoutMiddleware:
    """Extends a signed-in session while it is in use, so it expires after
    SESSION_COOKIE_AGE of inactivity. Django's SESSION_SAVE_EVERY_REQUEST would do the same
    with a session write on every request; this writes at most once every five minutes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # The session's own sign-in, not request.user: an API key or token request has a user
        # but no session worth extending (and must not be given one).
        if session is not None and session.get("_auth_user_id"):
            now = int(time.time())
            if now - session.get("_seen", 0) >= REFRESH_EVERY_SECONDS:
                # Marks the session modified: SessionMiddleware saves it and resends the cookie
                # with a fresh expiry.
                session["_seen"] = now
        return response


def stamp_session_on_login(sender, request, user, **kwargs) -> None:
    """A fresh sign-in starts the idle clock, so its first page costs no extra session write."""
    if request is not None and hasattr(request, "session"):
        request.session["_seen"] = int(time.time())


class NoStoreWhenSignedInMiddleware:
    """Pages shown to a signed-in person carry health data: no browser or proxy may keep a
    copy, so the back button on a shared clinic computer shows nothing after signing out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        signed_in = session is not None and session.get("_auth_user_id")
        if signed_in and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


# The probes docker compose and load balancers ask: /healthz (liveness, rehab/urls.py) and
# /readyz (readiness).
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


class HealthCheckMiddleware:
    """Answers the health probes before the Host header is checked or HTTPS is enforced.

    A probe asks by address over plain HTTP (docker's healthcheck asks
    http://127.0.0.1:8000/healthz inside the container), which is in no deployment's
    ALLOWED_HOSTS: CommonMiddleware would answer 400 DisallowedHost and SecurityMiddleware a
    redirect to HTTPS, and the container would be marked unhealthy for ever. Sending a Host
    header the settings allow would tie the compose file to each site's host names instead.
    Only these paths skip the checks; their views read no patient data and need no session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in HEALTH_PATHS:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
