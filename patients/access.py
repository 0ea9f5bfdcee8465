"""Who may use the portal: a signed-in patient, who sees only their own record."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from rehab.access import PATIENT, principal_for_user


def patient_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url="patients:login")
        principal = principal_for_user(request.user)
        if principal is None or principal.kind != PATIENT:
            if principal is not None:
                return redirect("clinicians:today")
            raise PermissionDenied("This page is for patients.")
        request.principal = principal
        return view(request, *args, **kwargs)

    return wrapper
