"""Who may use the portal: a signed-in patient, who sees only their own record."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from patients import keep
from rehab.access import PATIENT, principal_for_user


def patient_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            response = redirect_to_login(request.get_full_path(), login_url="patients:login")
            if request.method == "POST":
                # A form that outlived its sign-in (a long walk, a long questionnaire) is kept
                # for the same patient to sign in again, not dropped (patients/keep.py).
                keep.keep_post(request, response)
            return response
        principal = principal_for_user(request.user)
        if principal is None or principal.kind != PATIENT:
            if principal is not None:
                return redirect("clinicians:today")
            raise PermissionDenied("This page is for patients.")
        request.principal = principal
        if request.method == "POST" and keep.posted_by_someone_else(request):
            return keep.refuse_other_accounts_form(request)
        if request.method == "GET" and keep.KEPT_COOKIE in request.COOKIES:
            return keep.replay(request, view, args, kwargs)
        return view(request, *args, **kwargs)

    return wrapper
