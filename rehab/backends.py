"""Sign-in by username or e-mail address, for the dashboard, the portal and the API's token."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from rehab.models import User


class UsernameOrEmailBackend(ModelBackend):
    """A username first; failing that, an e-mail address that belongs to exactly one active
    account. Patients remember the address their invitation came to, not a generated name."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None and "@" in username:
            matches = list(User.objects.filter(email__iexact=username.strip(), is_active=True)[:2])
            # Two accounts sharing an address: refuse rather than guess whose password it is.
            user = matches[0] if len(matches) == 1 else None
        if user is None:
            # Hash anyway, so an unknown name takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
