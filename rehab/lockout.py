"""The sign-in lockout's keys and limits, plugged into django-axes (settings.AXES_*).

axes counts failures per "username" and per address. The username it is given here is the
ACCOUNT a typed name resolves to (rehab.backends.account_for), not the typed string: sign-in
takes the e-mail address in any case and with spaces, so counting per string gave every
spelling of one address its own five tries. A string that names no account is counted under
its normalised spelling, so a guesser learns nothing from which strings lock.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum

from rehab.backends import account_for


def lockout_username(request, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the account's username for a typed username or e-mail address."""
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        typed = getattr(request, "POST", {}).get("username")
    if typed is None:
        return None
    # axes asks several times per sign-in; the answer costs a query, so it is kept.
    known = getattr(request, "_rehab_lockout_keys", None)
    if known is None:
        known = {}
        if request is not None:
            request._rehab_lockout_keys = known
    if typed not in known:
        account = account_for(typed)
        known[typed] = account.get_username() if account else " ".join(typed.split()).lower()
    return known[typed]


class AccountAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler with two limits: AXES_FAILURE_LIMIT failures for one account, and
    LOGIN_ADDRESS_FAILURE_LIMIT failures from one address over all accounts."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # axes compares this one number with AXES_FAILURE_LIMIT, both before a sign-in and
        # after a failure. An address over its own (higher) limit counts as a full account limit.
        account, address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(account, settings.AXES_FAILURE_LIMIT)
        return account

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        # A success forgives the account's failures, not the address's: a sprayer with one
        # account of their own must not wipe the address count by signing in to it.
        account_attempts = self.filter_user_attempts(request, credentials)[0]
        count, _ = account_attempts.delete()
        return count
