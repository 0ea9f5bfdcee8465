"""Two-step sign-in's forms: confirming an authenticator, removing it, the clinic's rule."""

from __future__ import annotations

from django import forms


class ConfirmCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=32,
        help_text="The 6 digits the app shows for Retrowalk now.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class RemoveForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        help_text="Asked again so that no one else at an open computer can remove it.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RequireForm(forms.Form):
    require_two_step = forms.BooleanField(
        label="Require two-step sign-in for every clinician of this clinic", required=False
    )
