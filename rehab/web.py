"""What both doors' pages share: the sign-in and password-reset routes, and putting a service's
refusal on a form. Each door passes its own name ("clinicians" or "patients"), which picks its
URL namespace and its base template, so the doors never import each other."""

from __future__ import annotations

from django import forms
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from rehab.errors import RehabError


def auth_urlpatterns(*, door: str, form_class: type[forms.Form], home: str) -> list:
    """Sign in, sign out and password reset by e-mail for one door, on the shared templates
    in templates/auth/. Lockout after repeated failures is django-axes (settings.AXES_*)."""
    context = {"door": door}
    return [
        path(
            "login/",
            auth_views.LoginView.as_view(
                template_name="auth/login.html",
                authentication_form=form_class,
                redirect_authenticated_user=True,
                next_page=home,
                extra_context=context,
            ),
            name="login",
        ),
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
