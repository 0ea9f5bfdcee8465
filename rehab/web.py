"""What both doors' pages share: who may open them, the sign-in form and the sign-in and
password-reset routes, and putting a service's refusal on a form. Each door passes what is its
own (its name, "clinicians" or "patients", which picks its URL namespace and its base template;
the kind of person it is for; its words), so the doors never import each other."""

from __future__ import annotations

import time
from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from rehab import two_step
from rehab.access import CLINICIAN, PATIENT, principal_for_user
from rehab.audit import audit_record
from rehab.errors import RehabError
from rehab.models import User

# --- Who may open a door's pages -----------------------------------------------------------------

# Where each kind of person starts: someone signed in who follows an old link to the other door
# belongs at their own, not on a 403.
HOME = {CLINICIAN: "clinicians:today", PATIENT: "patients:today"}


def door_required(
    *,
    kind: str,
    refusal: str,
    login_url: str | None = None,
    staff_without_clinic: bool = False,
    signed_out=None,
    gate=None,
):
    """A decorator for a door's pages, open to one kind of person (rehab.access: CLINICIAN or
    PATIENT), whose principal it puts on the request: what the selectors scope by, so a view
    cannot reach another clinic's or patient's rows even by mistake.

    Someone signed out goes to `login_url` (None: settings.LOGIN_URL), after
    `signed_out(request, response)` has had its say; someone without a principal gets a 403
    saying `refusal`, unless `staff_without_clinic` lets in the Django admin's staff (with
    request.principal None). `gate(request, view, args, kwargs)` may answer in the view's place
    (a door's own rule); None lets the request through."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                response = redirect_to_login(request.get_full_path(), login_url=login_url)
                if signed_out is not None:
                    signed_out(request, response)
                return response
            principal = principal_for_user(request.user)
            if principal is not None and principal.kind != kind:
                return redirect(HOME[principal.kind])
            if principal is None:
                user = request.user
                if not (staff_without_clinic and user.is_staff and user.is_active):
                    raise PermissionDenied(refusal)
                request.principal = None
                return view(request, *args, **kwargs)
            request.principal = principal
            if gate is not None:
                answer = gate(request, view, args, kwargs)
                if answer is not None:
                    return answer
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# --- Signing in ----------------------------------------------------------------------------------


class SignInForm(AuthenticationForm):
    """A door's sign-in: a username or an e-mail address (rehab.backends takes either) and a
    password. A door's form names the first field and words a refusal in its own way."""

    username_label = "Username or e-mail"
    invalid_login = "That username or e-mail and password do not match an account."
    username = forms.CharField(
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.error_messages = {**cls.error_messages, "invalid_login": cls.invalid_login}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = self.username_label


# The session key of a sign-in whose password was right and whose code is still to come. The
# session is not signed in until the code is: no page, API call or admin sees a half sign-in.
TWO_STEP_PENDING = "two_step_pending"


class TwoStepCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6 digits your authenticator app shows for Retrowalk, or one of your "
        "recovery codes.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
    )


class SignInView(auth_views.LoginView):
    """The password step. For a person with an authenticator it does not sign in: it notes who
    they are in the session and asks for the code (two_step_code)."""

    door = ""

    def form_valid(self, form):
        user = form.get_user()
        remember = bool(form.cleaned_data.get("remember"))
        if not two_step.two_step_enrolled(user=user):
            response = super().form_valid(form)
            remember_device(self.request, user, remember=remember)
            return response
        # A new session key: whatever was in the anonymous session before is not carried into
        # the one that will be signed in.
        self.request.session.cycle_key()
        self.request.session[TWO_STEP_PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "since": int(time.time()),
            "next": self.get_success_url(),
            "failures": 0,
            "remember": remember,
        }
        return redirect(f"{self.door}:two_step_code")


def remember_device(request, user: User, *, remember: bool) -> None:
    """A patient who ticked "Keep me signed in on this device" stays signed in until
    PORTAL_REMEMBER_DAYS pass without a visit (the idle middleware keeps extending it, as it
    does the 30 minutes). Only patients: a clinician who ticks it on the portal's page, or
    anyone else, keeps SESSION_COOKIE_AGE, since clinic computers are shared."""
    days = settings.PORTAL_REMEMBER_DAYS
    if not remember or not days:
        return
    principal = principal_for_user(user)
    if principal is None or principal.kind != PATIENT:
        return
    request.session.set_expiry(days * 24 * 60 * 60)
    audit_record(
        actor=user,
        action="portal.remember_device",
        patient=principal.patient,
        clinic=principal.clinic,
        detail={"days": days},
    )


def _pending_sign_in(request) -> tuple[dict, User] | None:
    pending = request.session.get(TWO_STEP_PENDING)
    if not isinstance(pending, dict):
        return None
    if time.time() - pending.get("since", 0) > settings.TWO_STEP_PENDING_SECONDS:
        del request.session[TWO_STEP_PENDING]
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None:
        del request.session[TWO_STEP_PENDING]
        return None
    return pending, user


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def two_step_code(request, *, door: str):
    """The second step: the code from the authenticator, or a recovery code. Only a right code
    signs the session in (and marks it verified for django-otp, which the admin asks for)."""
    found = _pending_sign_in(request)
    if found is None:
        flash.info(request, "Please sign in again.")
        return redirect(f"{door}:login")
    pending, user = found
    form = TwoStepCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        credentials = {"username": user.get_username()}
        # The password step does not clear earlier failures (only a finished sign-in does), so
        # wrong passwords and wrong codes together reach the lockout, which holds here too.
        if AxesProxyHandler.is_locked(request, credentials):
            del request.session[TWO_STEP_PENDING]
            return get_lockout_response(request, credentials=credentials)
        status = 400
        if form.is_valid():
            check = two_step.two_step_verify(user=user, code=form.cleaned_data["code"])
            if check.ok:
                del request.session[TWO_STEP_PENDING]
                auth_login(request, user, backend=pending["backend"])
                otp_login(request, check.device)
                remember_device(request, user, remember=bool(pending.get("remember")))
                if check.recovery_codes_left is not None:
                    flash.warning(
                        request,
                        f"You signed in with a recovery code; {check.recovery_codes_left} "
                        "left. Each works once: make new ones under Two-step sign-in.",
                    )
                return redirect(pending["next"])
            # A wrong code counts towards the account's lockout like a wrong password (the
            # signal is what django-axes listens to); axes' middleware answers with the lockout
            # page once the limit is reached.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            pending["failures"] = pending.get("failures", 0) + 1
            if pending["failures"] >= settings.AXES_FAILURE_LIMIT:
                del request.session[TWO_STEP_PENDING]
                flash.error(request, "Too many wrong codes. Please sign in again.")
                return redirect(f"{door}:login")
            request.session[TWO_STEP_PENDING] = pending
            form.add_error(
                "code",
                "Too many wrong codes in a row: wait a few seconds, then type the code your "
                "app shows now."
                if check.throttled
                else "That code is not right. Type the 6 digits your app shows now, or a "
                "recovery code you have not used.",
            )
    return render(
        request,
        "auth/two_step_code.html",
        {"door": door, "form": form, "next": pending["next"]},
        status=status,
    )


def auth_urlpatterns(*, door: str, form_class: type[forms.Form], home: str) -> list:
    """Sign in, sign out and password reset by e-mail for one door, on the shared templates
    in templates/auth/. Lockout after repeated failures is django-axes (settings.AXES_*)."""
    context = {"door": door}
    return [
        path(
            "login/",
            SignInView.as_view(
                door=door,
                template_name="auth/login.html",
                authentication_form=form_class,
                redirect_authenticated_user=True,
                next_page=home,
                extra_context=context,
            ),
            name="login",
        ),
        path("login/code/", two_step_code, {"door": door}, name="two_step_code"),
        path("logout/", auth_views.LogoutView.as_view(next_page=f"{door}:login"), name="logout"),
        path(
            "password-reset/",
            auth_views.PasswordResetView.as_view(
                template_name="auth/password_reset.html",
                email_template_name="auth/password_reset_email.txt",
                subject_template_name="auth/password_reset_subject.txt",
                success_url=reverse_lazy(f"{door}:password_reset_done"),
                extra_context=context,
                extra_email_context=context,
            ),
            name="password_reset",
        ),
        path(
            "password-reset/sent/",
            auth_views.PasswordResetDoneView.as_view(
                template_name="auth/password_reset_done.html", extra_context=context
            ),
            name="password_reset_done",
        ),
        path(
            "password-reset/<uidb64>/<token>/",
            auth_views.PasswordResetConfirmView.as_view(
                template_name="auth/password_reset_confirm.html",
                success_url=reverse_lazy(f"{door}:password_reset_complete"),
                extra_context=context,
            ),
            name="password_reset_confirm",
        ),
        path(
            "password-reset/done/",
            auth_views.PasswordResetCompleteView.as_view(
                template_name="auth/password_reset_complete.html", extra_context=context
            ),
            name="password_reset_complete",
        ),
    ]


# --- A service's refusal on a form ---------------------------------------------------------------


def apply_errors(
    form: forms.Form,
    error: RehabError,
    *,
    aliases: dict[str, str] | None = None,
    name_other_fields: bool = True,
) -> None:
    """Put a RehabError on a form: field messages on their fields (when the form has them,
    `aliases` mapping a service's field name to the form's), the rest, and the summary, at the
    top. The form keeps everything the user typed. `name_other_fields` prefixes a message about
    a field the form lacks with its name, for clinicians; patients get the plain message."""
    aliases = aliases or {}
    placed = False
    for name, messages in error.fields.items():
        name = aliases.get(name, name)
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
            elif name_other_fields:
                form.add_error(None, f"{name.replace('_', ' ').capitalize()}: {message}")
            else:
                form.add_error(None, message)
            placed = True
    if not placed or error.code != "validation_error":
        form.add_error(None, error.message)


def apply_outcome_errors(form: forms.Form, error: RehabError) -> None:
    """outcome_record's refusal on a questionnaire form (the portal's or the dashboard's): each
    answer's message on its question, in the form's own words (`form.field_for(key)` names the
    field of a service key, `form.message_for(key, message)` words the message), the rest and
    the summary at the top. Everything typed stays on the form."""
    for key, messages in error.fields.items():
        name = form.field_for(key)
        for message in messages:
            words = form.message_for(key, message)
            if name is not None:
                if words not in form.errors.get(name, []):
                    form.add_error(name, words)
            elif words not in form.non_field_errors():
                form.add_error(None, words)
    if not error.fields or error.code != "validation_error":
        form.add_error(None, error.message)
