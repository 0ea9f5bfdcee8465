"""Credentials for machines and scripts: a clinic's API keys and a clinician's personal tokens."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from rehab.access import api_key_hash, password_stamp
from rehab.audit import Actor, as_user, audit_record
from rehab.errors import validation_error
from rehab.models import (
    ApiKey,
    Clinic,
    PersonalToken,
    User,
)
from rehab.services.common import check_row_fields

API_KEY_PREFIX = "rw"


# Recording every use would add a write to every request; a minute's precision is enough to
# see which integration is alive.
API_KEY_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@transaction.atomic
def api_key_create(
    *, clinic: Clinic, name: str, actor: Actor, expires_at: dt.datetime | None = None
) -> tuple[ApiKey, str]:
    """Make a key for a clinic system. Returns the row and the key itself, which is shown once
    and never stored."""
    name = (name or "").strip()
    if not name:
        raise validation_error({"name": "Give the key a name that says which system uses it."})
    check_row_fields(ApiKey(name=name, expires_at=expires_at), "name", "expires_at")
    if expires_at is not None and expires_at <= timezone.now():
        raise validation_error({"expires_at": "The expiry must be in the future."})
    prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        clinic=clinic,
        name=name,
        prefix=prefix,
        key_hash=api_key_hash(raw),
        created_by=as_user(actor),
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        action="api_key.create",
        obj=api_key,
        clinic=clinic,
        detail={"name": api_key.name},
    )
    return api_key, raw


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_key.revoke", obj=api_key, clinic=api_key.clinic)
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic
def personal_token_create(*, user: User, clinic: Clinic) -> tuple[PersonalToken, str]:
    """A new token for a person who just gave their password. Returns the row and the token,
    which is shown once and never stored. Each call makes a new one (a phone and a tablet each
    have their own); every token ends after API_TOKEN_DAYS."""
    raw = secrets.token_urlsafe(32)
    token = PersonalToken.objects.create(
        user=user,
        key_hash=api_key_hash(raw),
        password_stamp=password_stamp(user),
        expires_at=timezone.now() + dt.timedelta(days=django_settings.API_TOKEN_DAYS),
    )
    audit_record(actor=user, action="token.create", obj=token, clinic=clinic)
    return token, raw


@transaction.atomic
def personal_token_revoke(*, token: PersonalToken) -> PersonalToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def personal_tokens_revoke_all(*, user: User) -> int:
    """End every token of an account, e.g. when it is deactivated: reactivating it later must
    not bring old tokens back to life."""
    return PersonalToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def personal_token_touch(*, token: PersonalToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > API_KEY_TOUCH_INTERVAL:
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
