"""Forms shared across the dashboard. Each area keeps its own forms beside its views."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label="Username or e-mail",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username or e-mail and password do not match an account. "
        "Passwords are case-sensitive.",
    }


def apply_errors(form: forms.Form, error) -> None:
    """Put a RehabError on a form: field messages on their fields (when the form has them),
    the rest, and the summary, at the top. The form keeps everything the user typed."""
    placed = False
    for name, messages in error.fields.items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
                placed = True
            else:
                form.add_error(None, f"{name.replace('_', ' ').capitalize()}: {message}")
                placed = True
    if not placed or error.code != "validation_error":
        form.add_error(None, error.message)
