"""The portal's sign-in form."""

from __future__ import annotations

from django import forms
from django.conf import settings

from rehab import web


class SignInForm(web.SignInForm):
    username_label = "Your e-mail address or username"
    invalid_login = (
        "We could not sign you in with that e-mail and password. "
        "Check them and try again, or choose “Forgotten your password?”."
    )
    # Off unless ticked: a shared computer keeps the idle rule (rehab.web.remember_device).
    remember = forms.BooleanField(label="Keep me signed in on this device", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        days = settings.PORTAL_REMEMBER_DAYS
        if not days:
            del self.fields["remember"]
            return
        minutes = max(1, settings.SESSION_COOKIE_AGE // 60)
        self.fields["remember"].help_text = (
            f"Only on your own phone or computer: you stay signed in for {days} day"
            f"{'' if days == 1 else 's'} after your last visit. Leave it unticked on a shared "
            f"computer: you are then signed out after {minutes} minute"
            f"{'' if minutes == 1 else 's'} without use."
        )
