"""Who may use the dashboard: a signed-in clinician, scoped to their clinic by a Principal.

Every dashboard view is wrapped in `clinician_required`; the principal it puts on the request is
what the selectors scope by, so a view cannot reach another clinic's rows even by mistake.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone

from rehab.access import CLINICIAN, principal_for_user


def clinician_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        principal = principal_for_user(request.user)
        if principal is None or principal.kind != CLINICIAN:
            if principal is not None:
                # A patient who followed an old link belongs in the portal, not on a 403.
                return redirect("patients:today")
            raise PermissionDenied("This page is for the clinic's staff.")
        request.principal = principal
        return view(request, *args, **kwargs)

    return wrapper


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
