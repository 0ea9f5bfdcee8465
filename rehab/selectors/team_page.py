"""The dashboard's team page: the clinic's clinicians, personal tokens and API keys."""

from __future__ import annotations

from django.db.models import (
    F,
    QuerySet,
)

from rehab.access import Principal, api_key_hash
from rehab.models import (
    ApiKey,
    Clinician,
    PersonalToken,
)


def team_for(principal: Principal) -> QuerySet[Clinician]:
    """The clinic's clinicians with their accounts, for its administrators only."""
    if not principal.is_clinic_admin:
        return Clinician.objects.none()
    return (
        Clinician.objects.filter(clinic=principal.clinic)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )


def personal_token_for(raw_token: str) -> PersonalToken | None:
    """The personal token a caller presented, found by its hash (a hash lookup reveals nothing
    about other tokens), with its account."""
    return (
        PersonalToken.objects.select_related("user")
        .filter(key_hash=api_key_hash(raw_token))
        .first()
    )


def api_keys_for(principal: Principal) -> QuerySet[ApiKey]:
    """The clinic's API keys (never their secrets), for its administrators only: usable ones
    first, then revoked ones."""
    if not principal.is_clinic_admin:
        return ApiKey.objects.none()
    return (
        ApiKey.objects.filter(clinic=principal.clinic)
        .select_related("created_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "name", "pk")
    )
