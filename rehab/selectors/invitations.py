"""Portal invitations and sign-in names: finding an invitation by its token."""

from __future__ import annotations

from rehab.access import api_key_hash
from rehab.models import (
    Patient,
    PortalInvite,
    User,
)


def invite_token_hash(token: str) -> str:
    """The same SHA-256 as API keys: the token is long and random, so a plain hash suffices."""
    return api_key_hash(token)


# A token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
INVITE_TOKEN_MAX_LENGTH = 100


def portal_invite_for_token(*, token: str) -> PortalInvite | None:
    """The invitation a link carries, found by its token's hash; None for an unknown token."""
    if not token or len(token) > INVITE_TOKEN_MAX_LENGTH:
        return None
    return (
        PortalInvite.objects.select_related("patient__clinic")
        .filter(token_hash=invite_token_hash(token))
        .first()
    )


def portal_invite_latest(*, patient: Patient) -> PortalInvite | None:
    """The patient's most recent invitation, whatever its state."""
    return PortalInvite.objects.filter(patient=patient).order_by("-created_at", "-id").first()


def portal_username_for(*, email: str) -> str:
    """The username a patient's new portal account gets: the e-mail address in lower case when
    no account uses it as a username yet, otherwise the address with a number added."""
    base = email.strip().lower()[:140] or "patient"
    names = User.objects.filter(username__istartswith=base).values_list("username", flat=True)
    taken = {name.lower() for name in names}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
