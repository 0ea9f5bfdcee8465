"""Clinic administration, for the clinic's administrators only: its clinicians, the API keys
its other systems use, and how patients reach the clinic."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from clinicians.access import clinic_admin_required
from clinicians.forms.team import ApiKeyForm, ClinicContactForm, ClinicianForm
from rehab import selectors, services
from rehab.errors import RehabError
from rehab.models import ApiKey, Clinician
from rehab.web import apply_errors

# --- Team ----------------------------------------------------------------------------------------


def _render_team(request, form, status=200):
    return render(
        request,
        "clinicians/team/list.html",
        {
            "nav": "team",
            "members": list(selectors.team_for(request.principal)),
            "form": form,
            "link_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        },
        status=status,
    )


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def team(request):
    if request.method != "POST":
        return _render_team(request, ClinicianForm())
    form = ClinicianForm(request.POST)
    if not form.is_valid():
        return _render_team(request, form, status=400)
    try:
        clinician = services.clinician_create(
            clinic=request.principal.clinic,
            actor=request.principal.actor,
            **form.cleaned_data,
        )
    except RehabError as error:
        apply_errors(form, error)
        return _render_team(request, form, status=error.status)
    messages.success(
        request,
        f"{clinician} was added. A link to choose a password was e-mailed to "
        f"{clinician.user.email}.",
    )
    return redirect("clinicians:team")


def _member_or_404(request, pk: int) -> Clinician:
    try:
        return selectors.team_for(request.principal).get(pk=pk)
    except Clinician.DoesNotExist:
        raise Http404("No such clinician in this clinic.") from None


# action -> (service call, message on success)
MEMBER_ACTIONS = {
    "deactivate": (
        lambda member, actor: services.clinician_set_active(
            clinician=member, active=False, actor=actor
        ),
        "{name} was deactivated and can no longer sign in. Their records are kept.",
    ),
    "reactivate": (
        lambda member, actor: services.clinician_set_active(
            clinician=member, active=True, actor=actor
        ),
        "{name} was reactivated and can sign in again.",
    ),
    "grant_admin": (
        lambda member, actor: services.clinician_set_admin(
            clinician=member, is_clinic_admin=True, actor=actor
        ),
        "{name} is now a clinic administrator.",
    ),
    "remove_admin": (
        lambda member, actor: services.clinician_set_admin(
            clinician=member, is_clinic_admin=False, actor=actor
        ),
        "{name} is no longer a clinic administrator.",
    ),
    "send_link": (
        lambda member, actor: services.clinician_send_password_link(clinician=member, actor=actor),
        "A new link to choose a password was e-mailed to {email}.",
    ),
}


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def team_member(request, pk):
    member = _member_or_404(request, pk)
    error = None
    status = 200
    if request.method == "POST":
        action = MEMBER_ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            error, status = "Choose one of the actions on this page.", 400
        else:
            call, success = action
            try:
                call(member, request.principal.actor)
            except RehabError as exc:
                error, status = exc.message, exc.status
            else:
                messages.success(request, success.format(name=member, email=member.user.email))
                if member.user_id == request.user.pk and request.POST["action"] == "remove_admin":
                    # They just gave up the rights this page needs.
                    return redirect("clinicians:today")
                return redirect("clinicians:team_member", pk=member.pk)
    return render(
        request,
        "clinicians/team/member.html",
        {
            "nav": "team",
            "member": member,
            "is_self": member.user_id == request.user.pk,
            "error": error,
            "link_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        },
        status=status,
    )


# --- Clinic details ------------------------------------------------------------------------------


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def clinic_details(request):
    clinic = request.principal.clinic
    status = 200
    if request.method == "POST":
        form = ClinicContactForm(request.POST)
        if form.is_valid():
            try:
                services.clinic_update_contact(
                    clinic=clinic, actor=request.principal.actor, **form.cleaned_data
                )
            except RehabError as error:
                apply_errors(form, error)
                status = error.status
            else:
                messages.success(request, "The clinic's contact details are saved.")
                return redirect("clinicians:clinic_details")
        else:
            status = 400
    else:
        form = ClinicContactForm(
            initial={name: getattr(clinic, name) for name in services.CLINIC_CONTACT_FIELDS}
        )
    return render(
        request,
        "clinicians/team/clinic.html",
        {"nav": "clinic_details", "form": form, "clinic": clinic},
        status=status,
    )


# --- API keys ------------------------------------------------------------------------------------


def _end_of_day(request, day: dt.date) -> dt.datetime:
    """The moment a key given a last day stops working: the following midnight, clinic time."""
    zone = zoneinfo.ZoneInfo(request.principal.clinic.timezone)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def _render_keys(request, form, *, new_key=None, raw_key=None, status=200):
    response = render(
        request,
        "clinicians/team/api_keys.html",
        {
            "nav": "api_keys",
            "keys": list(selectors.api_keys_for(request.principal)),
            "form": form,
            "new_key": new_key,
            "raw_key": raw_key,
        },
        status=status,
    )
    if raw_key:
        # The only time the key exists outside its owner's hands: keep it out of every cache.
        response["Cache-Control"] = "no-store"
    return response


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def api_keys(request):
    if request.method != "POST":
        return _render_keys(request, ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render_keys(request, form, status=400)
    expires_on = form.cleaned_data["expires_at"]
    try:
        api_key, raw = services.api_key_create(
            clinic=request.principal.clinic,
            name=form.cleaned_data["name"],
            actor=request.principal.actor,
            expires_at=_end_of_day(request, expires_on) if expires_on else None,
        )
    except RehabError as error:
        apply_errors(form, error)
        return _render_keys(request, form, status=error.status)
    # Shown on this response only: no redirect, because that would mean storing the key.
    return _render_keys(request, ApiKeyForm(), new_key=api_key, raw_key=raw, status=201)


def _key_or_404(request, pk: int) -> ApiKey:
    try:
        return selectors.api_keys_for(request.principal).get(pk=pk)
    except ApiKey.DoesNotExist:
        raise Http404("No such API key in this clinic.") from None


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def api_key_revoke(request, pk):
    api_key = _key_or_404(request, pk)
    if request.method == "POST":
        services.api_key_revoke(api_key=api_key, actor=request.principal.actor)
        messages.success(
            request, f"The key “{api_key.name}” was revoked. Systems using it are now refused."
        )
        return redirect("clinicians:api_keys")
    return render(
        request, "clinicians/team/api_key_revoke.html", {"nav": "api_keys", "api_key": api_key}
    )


urlpatterns = [
    path("team/", team, name="team"),
    path("team/<int:pk>/", team_member, name="team_member"),
    path("team/clinic/", clinic_details, name="clinic_details"),
    path("api-keys/", api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", api_key_revoke, name="api_key_revoke"),
]
