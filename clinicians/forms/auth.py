"""The dashboard's sign-in form."""

from __future__ import annotations

from rehab import web


class SignInForm(web.SignInForm):
    username_label = "Username or e-mail"
    invalid_login = (
        "That username or e-mail and password do not match an account. "
        "Passwords are case-sensitive."
    )
