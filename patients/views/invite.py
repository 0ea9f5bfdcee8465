"""The portal invitation: a patient follows the link from their e-mail and chooses a password.

The link works once and expires; an unusable link gets a calm page that says what to do, with
404 (never valid) or 410 (used, replaced or expired).
"""

from __future__ import annotations

from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from patients.forms.invite import ChoosePasswordForm
from rehab import selectors, services
from rehab.audit import audit_record
from rehab.errors import RehabError

BACKEND = "rehab.backends.UsernameOrEmailBackend"


def _refused(request, error: RehabError):
    return render(request, "patients/invite_invalid.html", {"error": error}, status=error.status)


@never_cache
@sensitive_post_parameters("password", "password_confirm")
def invite_accept(request, token: str):
    invite = selectors.portal_invite_for_token(token=token)
    try:
        services.invite_check(invite=invite)
    except RehabError as err:
        return _refused(request, err)
    patient = invite.patient
    status = 200
    if request.method == "POST":
        form = ChoosePasswordForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                user = services.invite_accept(token=token, password=form.cleaned_data["password"])
            except RehabError as err:
                if err.status in (404, 410):
                    return _refused(request, err)
                for message in err.fields.get("password", []):
                    form.add_error("password", message)
                if not err.fields.get("password"):
                    form.add_error(None, err.message)
                status = err.status
            else:
                login(request, user, backend=BACKEND)
                return redirect("patients:today")
    else:
        form = ChoosePasswordForm()
        # Showing the page tells its reader the patient's name and address.
        audit_record(actor=None, action="portal.invite_view", obj=invite, patient=patient)
    return render(
        request,
        "patients/invite_accept.html",
        {
            "form": form,
            "patient": patient,
            "clinic": patient.clinic,
            "sign_in_name": selectors.portal_username_for(email=invite.sent_to),
            "email": invite.sent_to,
        },
        status=status,
    )


urlpatterns = [path("invite/<str:token>/", invite_accept, name="invite_accept")]
