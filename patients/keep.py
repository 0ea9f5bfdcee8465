"""A patient's input is never lost to an ended sign-in.

A walk of 25-30 minutes or a long questionnaire can outlast the sign-in (SESSION_COOKIE_AGE of
idleness). The form then arrives without a session. Instead of dropping it on the way to the
sign-in page, the portal keeps it (rehab.services.kept_form_keep: on the server, found by a
random token in an HttpOnly cookie, never in a URL) and, once the same patient has signed in
again and their browser comes back to the page the form was sent to, sends it to that page as
if just posted: saved when valid, shown filled in with its errors when not.

Whose form it is comes from the form itself: every portal form carries `_kept_for`, the
signed-in account's id signed with the site's key ({% kept_for_field %}). A form without a
valid one is not kept, and a kept form is only ever handed to that account: another patient
signing in on the same device has it removed unseen.

CSRF: the form was checked when it arrived (Django's CSRF cookie outlives the session, so a
form from an ended sign-in passes; a form from elsewhere does not and is never kept). Sending it
again after sign-in is the server's own step, not a new request from the browser.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from rehab import services

KEPT_FOR_FIELD = "_kept_for"
KEPT_COOKIE = "portal_kept_form"
COOKIE_PATH = "/portal/"
# Never kept: the CSRF token (checked on arrival) and the binding itself.
_NOT_KEPT = frozenset({"csrfmiddlewaretoken", KEPT_FOR_FIELD})
_SIGNER = signing.Signer(salt="patients.keep.kept_for")


def kept_for_value(user) -> str:
    """The signed id of the account whose page shows a form."""
    return _SIGNER.sign(str(user.pk))


def kept_for_user_id(request: HttpRequest) -> int | None:
    """The account a posted form was filled in for, or None without a valid signature."""
    value = request.POST.get(KEPT_FOR_FIELD, "")
    try:
        return int(_SIGNER.unsign(value))
    except (signing.BadSignature, ValueError):
        return None


def keep_post(request: HttpRequest, response: HttpResponse) -> None:
    """Keep a form posted without a sign-in (the sign-in page's redirect is `response`)."""
    user_id = kept_for_user_id(request)
    token = None
    if user_id is not None:
        data = {name: request.POST.getlist(name) for name in request.POST if name not in _NOT_KEPT}
        token = services.kept_form_keep(user_id=user_id, path=request.path, data=data)
    if token is None:
        messages.info(
            request,
            "You were signed out, so what you sent could not be saved. Please sign in and fill "
            "it in again.",
        )
        return
    response.set_cookie(
        KEPT_COOKIE,
        token,
        max_age=settings.PORTAL_KEPT_FORM_HOURS * 60 * 60,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    messages.info(
        request,
        "You were signed out, because some time had passed. We have kept what you filled in: "
        "sign in again and we will save it for you.",
    )


def posted_by_someone_else(request: HttpRequest) -> bool:
    """A form filled in while another account was signed in on this browser (an old tab):
    saving it would put one patient's answers in another's record."""
    if KEPT_FOR_FIELD not in request.POST:
        return False
    return kept_for_user_id(request) != request.user.pk


def refuse_other_accounts_form(request: HttpRequest) -> HttpResponse:
    messages.error(
        request,
        "That form was filled in while someone else was signed in on this device, so it was not "
        "saved. If it was yours, please fill it in again.",
    )
    return redirect("patients:today")


def replay(request: HttpRequest, view, args, kwargs) -> HttpResponse:
    """After sign-in: the kept form for this page, sent to the view as the POST it was. A kept
    form of another page sends the browser there first, so it is saved right after signing
    in, wherever the patient lands (the sign-in's `next` is usually that page already)."""
    taken = services.kept_form_take(
        token=request.COOKIES.get(KEPT_COOKIE, ""), user=request.user, path=request.path
    )
    state, data = taken.state, taken.data
    if state == services.KEPT_ELSEWHERE:
        return redirect(taken.path)
    if state == services.KEPT_GONE:
        response = view(request, *args, **kwargs)
        response.delete_cookie(KEPT_COOKIE, path=COOKIE_PATH, samesite="Lax")
        return response
    posted = QueryDict(mutable=True)
    for name, values in (data or {}).items():
        posted.setlist(name, [str(value) for value in values])
    posted._mutable = False
    request.method = "POST"
    request.POST = posted
    # Said before the view answers, so that a page shown with errors says it too.
    messages.info(
        request,
        "Welcome back. We kept what you filled in before you were signed out, and have sent it "
        "now.",
    )
    response = view(request, *args, **kwargs)
    if 300 <= response.status_code < 400:
        messages.success(request, "It is saved.")
    response.delete_cookie(KEPT_COOKIE, path=COOKIE_PATH, samesite="Lax")
    return response
