"""Credentials: clinic API keys (`Authorization: Api-Key <key>`) and patients' personal tokens
(`Authorization: Token <token>`). Signed-in sessions work too (DRF's SessionAuthentication)."""

from __future__ import annotations

import hmac

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from rehab import selectors, services
from rehab.access import (
    CLINICIAN,
    Principal,
    password_stamp,
    principal_for_api_key,
    principal_for_user,
)
from rehab.models import ApiKey, User


class ApiKeyUser:
    """What request.user is for a clinic system: authenticated, but no person."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    pk = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return f"api-key:{self.api_key.name}"


def _credential(request, keyword: str, noun: str) -> str | None:
    """The credential of `Authorization: <keyword> <credential>`; None when the header names
    another scheme (another authentication class may take it)."""
    header = get_authorization_header(request).decode("latin-1")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != keyword.lower():
        return None
    raw = raw.strip()
    if not raw or " " in raw:
        raise AuthenticationFailed(f"Send the {noun} as 'Authorization: {keyword} <{noun}>'.")
    return raw


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        raw = _credential(request, self.keyword, "key")
        if raw is None:
            return None
        api_key = selectors.api_key_for(raw)
        if api_key is None:
            raise AuthenticationFailed("This API key is not known.")
        if api_key.revoked_at is not None:
            raise AuthenticationFailed("This API key was revoked.")
        if api_key.expires_at is not None and api_key.expires_at <= timezone.now():
            raise AuthenticationFailed("This API key has expired.")
        services.api_key_touch(api_key=api_key)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


class PersonalTokenAuthentication(BaseAuthentication):
    """A person's own token, e.g. for a patient's mobile app (POST /api/v1/auth/token/)."""

    keyword = "Token"

    def authenticate(self, request):
        raw = _credential(request, self.keyword, "token")
        if raw is None:
            return None
        token = selectors.personal_token_for(raw)
        if token is None or token.revoked_at is not None:
            raise AuthenticationFailed("This token is not valid; ask for a new one.")
        if token.expires_at <= timezone.now():
            raise AuthenticationFailed("This token has expired; ask for a new one.")
        user = token.user
        # A password changed since the token was made (through any door) ends it.
        if not hmac.compare_digest(token.password_stamp, password_stamp(user)):
            raise AuthenticationFailed(
                "This token ended when the password changed; ask for a new one."
            )
        if not user.is_active:
            raise AuthenticationFailed("This account is deactivated.")
        services.personal_token_touch(token=token)
        return user, token

    def authenticate_header(self, request):
        return self.keyword


def principal_of(request) -> Principal | None:
    """The acting principal of an API request, worked out once per request."""
    if not hasattr(request, "_rehab_principal"):
        if isinstance(request.auth, ApiKey):
            principal = principal_for_api_key(request.auth)
        else:
            user = request.user if isinstance(request.user, User) else None
            principal = principal_for_user(user)
            if principal is not None and _session_lacks_second_step(request, principal):
                principal = None
        request._rehab_principal = principal
    return request._rehab_principal


def _session_lacks_second_step(request, principal: Principal) -> bool:
    """A browser session of a clinician whose clinic requires two-step sign-in reaches the API
    only once it passed the code step, as it reaches the dashboard (the clinic comes with the
    principal: no query for a clinic that does not require it)."""
    return (
        request.auth is None
        and principal.kind == CLINICIAN
        and principal.clinic.require_two_step
        and not request.user.is_verified()
    )
