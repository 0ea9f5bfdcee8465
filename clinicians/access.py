"""Who may use the dashboard: a signed-in clinician, scoped to their clinic by a Principal.

Every dashboard view is wrapped in `clinician_required`; the principal it puts on the request is
what the selectors scope by, so a view cannot reach another clinic's rows even by mistake. The
rule both doors share is rehab.web.door_required; what is the dashboard's own is its two-step
gate.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import wraps

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone

from rehab.access import CLINICIAN
from rehab.two_step import two_step_enrolled
from rehab.web import door_required

REFUSAL = "This page is for the clinic's staff."


def _two_step_gate(request, view, args, kwargs):
    """A clinic that requires two-step sign-in: a clinician without an authenticator sets one
    up before any other page; a session that was not verified with a code (it began before the
    authenticator was set up elsewhere) signs in again. The clinic comes with the principal, so
    a clinic that does not require it costs no query here."""
    if not request.principal.clinic.require_two_step or request.user.is_verified():
        return None
    if not two_step_enrolled(user=request.user):
        if getattr(view, "two_step_setup", False):
            return None
        return redirect("clinicians:two_step_setup")
    logout(request)
    return redirect_to_login(request.get_full_path())


clinician_required = door_required(kind=CLINICIAN, refusal=REFUSAL, gate=_two_step_gate)

# The person's own account pages: clinicians, and staff of the Django admin (who have no
# clinic, but must set up their second step somewhere). request.principal is None for them.
account_required = door_required(
    kind=CLINICIAN, refusal=REFUSAL, staff_without_clinic=True, gate=_two_step_gate
)


def allowed_before_two_step(view):
    """Marks the views a clinician must reach to set up the second step their clinic asks for."""
    view.two_step_setup = True
    return view


def clinic_admin_required(view):
    @clinician_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.principal.is_clinic_admin:
            raise PermissionDenied("Only the clinic's administrators can do this.")
        return view(request, *args, **kwargs)

    return wrapper


def clinic_today(request) -> dt.date:
    """The clinic's calendar day: what 'today' means on the dashboard."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(request.principal.clinic.timezone)).date()
