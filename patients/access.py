"""Who may use the portal: a signed-in patient, who sees only their own record.

The rule both doors share is rehab.web.door_required; what is the portal's own is keeping a form
that outlived its sign-in (patients/keep.py).
"""

from __future__ import annotations

from patients import keep
from rehab.access import PATIENT
from rehab.web import door_required


def _keep_post(request, response) -> None:
    if request.method == "POST":
        # A form that outlived its sign-in (a long walk, a long questionnaire) is kept for the
        # same patient to sign in again, not dropped.
        keep.keep_post(request, response)


def _kept_form(request, view, args, kwargs):
    """A form posted for another account is refused; one kept over a sign-in is sent again."""
    if request.method == "POST" and keep.posted_by_someone_else(request):
        return keep.refuse_other_accounts_form(request)
    if request.method == "GET" and keep.KEPT_COOKIE in request.COOKIES:
        return keep.replay(request, view, args, kwargs)
    return None


patient_required = door_required(
    kind=PATIENT,
    refusal="This page is for patients.",
    login_url="patients:login",
    signed_out=_keep_post,
    gate=_kept_form,
)
