"""The portal invitation's form: the patient chooses a password."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation


class ChoosePasswordForm(forms.Form):
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    password_confirm = forms.CharField(
        label="Type the same password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rules = " ".join(password_validation.password_validators_help_texts())
        self.fields[
            "password"
        ].help_text = f"{rules} A few unrelated words are easy to remember and hard to guess."

    def clean(self):
        data = super().clean()
        first, second = data.get("password"), data.get("password_confirm")
        if first and second and first != second:
            self.add_error("password_confirm", "The two passwords are not the same.")
        return data
