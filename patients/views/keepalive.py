"""The guided timer's keepalive: a walk of 25-30 minutes must not outlast the sign-in."""

from __future__ import annotations

import time

from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_POST

from rehab.access import PATIENT, principal_for_user


@require_POST
def keepalive(request):
    """Called by static/js/keepalive.js while the timer runs. Extends the signed-in session
    (its idle clock starts again) and answers 204; 401 when the sign-in has already ended, so
    the page can stop asking. Reads and changes no patient data, so it is not audited: the walk
    itself is, when it is saved. A POST with the CSRF token, as it changes the session."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False}, status=401)
    principal = principal_for_user(request.user)
    if principal is None or principal.kind != PATIENT:
        return JsonResponse({"detail": "This is for patients."}, status=403)
    # Marks the session modified, unlike the idle middleware's at most once in five minutes:
    # SessionMiddleware saves it and re-sends its cookie with a fresh expiry.
    request.session["_seen"] = int(time.time())
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [path("keepalive/", keepalive, name="keepalive")]
