"""Sign-in by username or e-mail address, for the dashboard, the portal and the API's token."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

from rehab.models import User


def account_for(identifier: str) -> User | None:
    """The account a typed username or e-mail address signs in to, or None.

    An address is first read as an e-mail: it names the one active account with a password that
    uses it (any case, surrounding spaces ignored). Accounts without a password (a clinician
    who has not chosen one yet, or an account another clinic added for an address that was
    already taken) never take an address from its owner, and a username never shadows someone's
    e-mail address: one clinic cannot stop another's clinician signing in. Two accounts with a
    password sharing an address sign in neither: refuse rather than guess whose password it is.
    """
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    if "@" in identifier:
        matches = list(
            User.objects.filter(email__iexact=identifier, is_active=True).exclude(
                password__startswith=UNUSABLE_PASSWORD_PREFIX
            )[:2]
        )
        if matches:
            return matches[0] if len(matches) == 1 else None
    return User.objects.filter(username=identifier).first()


class UsernameOrEmailBackend(ModelBackend):
    """A username or an e-mail address (account_for). Patients remember the address their
    invitation came to, not a generated name."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = account_for(username)
        if user is None:
            # Hash anyway, so an unknown name takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
