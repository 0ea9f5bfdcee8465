"""Two-step sign-in: a person's own authenticator and recovery codes (clinicians and the Django
admin's staff), and the clinic administrator's switch that requires it of every clinician."""

from __future__ import annotations

from base64 import b32encode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from clinicians.access import account_required, allowed_before_two_step, clinic_admin_required
from clinicians.forms.two_step import ConfirmCodeForm, RemoveForm, RequireForm
from rehab import two_step
from rehab.errors import RehabError
from rehab.web import apply_errors

# --- The person's own -------------------------------------------------------------------------


def _codes_response(request, codes: list[str], *, status: int = 200):
    response = render(
        request,
        "clinicians/two_step/codes.html",
        {"nav": "two_step", "codes": codes},
        status=status,
    )
    # Shown once: no browser or proxy may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


def _render_status(request, remove_form, *, status=200):
    user = request.user
    return render(
        request,
        "clinicians/two_step/status.html",
        {
            "nav": "two_step",
            "enrolled": two_step.two_step_enrolled(user=user),
            "required": request.principal is not None and request.principal.clinic.require_two_step,
            "codes_left": two_step.two_step_recovery_codes_left(user=user),
            "remove_form": remove_form,
        },
        status=status,
    )


@account_required
@require_http_methods(["GET"])
def status_page(request):
    return _render_status(request, RemoveForm())


def _render_setup(request, device, form, *, status=200):
    url = device.config_url
    secret = b32encode(device.bin_key).decode()
    response = render(
        request,
        "clinicians/two_step/setup.html",
        {
            "nav": "two_step",
            "form": form,
            "qr_svg": two_step.two_step_qr_svg(url),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "otpauth_url": url,
            "required": request.principal is not None and request.principal.clinic.require_two_step,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"  # the page carries the secret
    return response


@sensitive_post_parameters("code")
@account_required
@allowed_before_two_step
@require_http_methods(["GET", "POST"])
def setup(request):
    try:
        device = two_step.two_step_enrol_start(user=request.user)
    except RehabError as error:
        messages.info(request, error.message)
        return redirect("clinicians:two_step")
    if request.method != "POST":
        return _render_setup(request, device, ConfirmCodeForm())
    form = ConfirmCodeForm(request.POST)
    if not form.is_valid():
        return _render_setup(request, device, form, status=400)
    try:
        device, codes = two_step.two_step_enrol_confirm(
            user=request.user, code=form.cleaned_data["code"], actor=request.user
        )
    except RehabError as error:
        apply_errors(form, error)
        return _render_setup(request, device, form, status=error.status)
    # The code just typed proves this session holds the second factor.
    otp_login(request, device)
    return _codes_response(request, codes, status=201)


@sensitive_post_parameters("password")
@account_required
@require_POST
def remove(request):
    form = RemoveForm(request.POST)
    if not form.is_valid():
        return _render_status(request, form, status=400)
    try:
        two_step.two_step_remove(
            user=request.user, password=form.cleaned_data["password"], actor=request.user
        )
    except RehabError as error:
        apply_errors(form, error)
        return _render_status(request, form, status=error.status)
    messages.success(
        request, "Two-step sign-in was removed. Your sign-in asks for the password only."
    )
    return redirect("clinicians:two_step")


@account_required
@require_POST
def recovery_regenerate(request):
    try:
        codes = two_step.two_step_recovery_regenerate(user=request.user, actor=request.user)
    except RehabError as error:
        messages.error(request, error.message)
        return redirect("clinicians:two_step")
    return _codes_response(request, codes)


# --- The clinic's rule ------------------------------------------------------------------------


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def clinic_rule(request):
    clinic = request.principal.clinic
    status = 200
    if request.method == "POST":
        form = RequireForm(request.POST)
        if form.is_valid():
            required = form.cleaned_data["require_two_step"]
            two_step.clinic_set_two_step_required(
                clinic=clinic, required=required, actor=request.principal.actor
            )
            messages.success(
                request,
                "Every clinician now signs in with a code from an authenticator app; those "
                "without one set it up at their next page."
                if required
                else "Two-step sign-in is now each clinician's choice.",
            )
            return redirect("clinicians:two_step_clinic")
        status = 400
    else:
        form = RequireForm(initial={"require_two_step": clinic.require_two_step})
    members = two_step.two_step_team(clinic=clinic)
    return render(
        request,
        "clinicians/two_step/clinic.html",
        {"nav": "two_step_clinic", "form": form, "members": members},
        status=status,
    )


urlpatterns = [
    path("account/two-step/", status_page, name="two_step"),
    path("account/two-step/set-up/", setup, name="two_step_setup"),
    path("account/two-step/remove/", remove, name="two_step_remove"),
    path("account/two-step/recovery-codes/", recovery_regenerate, name="two_step_recovery"),
    path("team/two-step/", clinic_rule, name="two_step_clinic"),
]
