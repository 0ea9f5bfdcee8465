"""Credentials for machines and scripts (rehab.services.keys): a clinic's API keys and a
person's tokens, shown once and kept as a hash, revoked once, and their last use recorded at most
once a minute. The pages and the API: tests/web/clinicians/test_team.py,
tests/api/test_personal_tokens.py."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from rehab import selectors, services
from rehab.access import api_key_hash
from rehab.errors import RehabError
from rehab.models import ApiKey, AuditEvent, PersonalToken

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


# --- API keys -------------------------------------------------------------------------------------


def test_a_key_is_shown_once_kept_as_a_hash_and_audited_with_its_name(clinic, actor):
    api_key, raw = services.api_key_create(clinic=clinic, name="  Riverside EHR ", actor=actor)
    assert raw.startswith(f"rw_{api_key.prefix}_")
    assert api_key.key_hash == api_key_hash(raw)
    assert raw not in api_key.key_hash
    assert (api_key.name, api_key.created_by, api_key.clinic) == ("Riverside EHR", actor, clinic)
    event = AuditEvent.objects.get(action="api_key.create")
    assert (event.actor, event.clinic, event.detail) == (actor, clinic, {"name": "Riverside EHR"})


def test_every_key_is_its_own(clinic, actor):
    first = services.api_key_create(clinic=clinic, name="EHR", actor=actor)
    second = services.api_key_create(clinic=clinic, name="EHR", actor=actor)
    assert first[1] != second[1]
    assert first[0].prefix != second[0].prefix


@pytest.mark.parametrize(
    ("name", "expires_at", "field"),
    [
        (" ", None, "name"),
        ("x" * 101, None, "name"),
        ("EHR", NOW - dt.timedelta(minutes=1), "expires_at"),
        ("EHR", NOW, "expires_at"),
    ],
)
def test_a_key_without_a_name_or_ending_in_the_past_is_refused(
    clinic, actor, name, expires_at, field
):
    with freeze_time(NOW), pytest.raises(RehabError) as refused:
        services.api_key_create(clinic=clinic, name=name, actor=actor, expires_at=expires_at)
    assert field in refused.value.fields
    assert not ApiKey.objects.exists()


def test_a_key_is_revoked_once_and_the_revocation_audited_once(clinic, actor):
    api_key, _ = services.api_key_create(clinic=clinic, name="EHR", actor=actor)
    with freeze_time(NOW):
        services.api_key_revoke(api_key=api_key, actor=actor)
    with freeze_time(NOW + dt.timedelta(days=1)):
        services.api_key_revoke(api_key=api_key, actor=actor)
    api_key.refresh_from_db()
    assert api_key.revoked_at == NOW  # the first revocation's moment is kept
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1


def test_a_keys_use_is_recorded_at_most_once_a_minute(clinic, actor, django_assert_num_queries):
    api_key, _ = services.api_key_create(clinic=clinic, name="EHR", actor=actor)
    with freeze_time(NOW), django_assert_num_queries(1):
        services.api_key_touch(api_key=api_key)
    with freeze_time(NOW + dt.timedelta(seconds=59)), django_assert_num_queries(0):
        services.api_key_touch(api_key=api_key)
    with freeze_time(NOW + dt.timedelta(seconds=61)), django_assert_num_queries(1):
        services.api_key_touch(api_key=api_key)
    api_key.refresh_from_db()
    assert api_key.last_used_at == NOW + dt.timedelta(seconds=61)


# --- Personal tokens ------------------------------------------------------------------------------


def test_a_token_ends_after_the_configured_days_and_its_making_is_audited(clinic, actor, settings):
    settings.API_TOKEN_DAYS = 5
    with freeze_time(NOW):
        token, raw = services.personal_token_create(user=actor, clinic=clinic)
    assert token.expires_at == NOW + dt.timedelta(days=5)
    assert selectors.personal_token_for(raw) == token
    event = AuditEvent.objects.get(action="token.create")
    assert (event.actor, event.clinic, event.object_id) == (actor, clinic, str(token.pk))


def test_revoking_all_of_an_accounts_tokens_counts_only_the_live_ones(clinic, actor):
    kept_apart, _ = services.personal_token_create(user=actor, clinic=clinic)
    services.personal_token_revoke(token=kept_apart)
    services.personal_token_create(user=actor, clinic=clinic)
    services.personal_token_create(user=actor, clinic=clinic)
    assert services.personal_tokens_revoke_all(user=actor) == 2
    assert services.personal_tokens_revoke_all(user=actor) == 0
    assert not PersonalToken.objects.filter(revoked_at__isnull=True).exists()


def test_a_revoked_token_keeps_its_first_revocation(clinic, actor):
    token, _ = services.personal_token_create(user=actor, clinic=clinic)
    with freeze_time(NOW):
        services.personal_token_revoke(token=token)
    with freeze_time(NOW + dt.timedelta(hours=1)):
        services.personal_token_revoke(token=token)
    token.refresh_from_db()
    assert token.revoked_at == NOW


def test_a_tokens_use_is_recorded_at_most_once_a_minute(clinic, actor, django_assert_num_queries):
    token, _ = services.personal_token_create(user=actor, clinic=clinic)
    with freeze_time(NOW), django_assert_num_queries(1):
        services.personal_token_touch(token=token)
    with freeze_time(NOW + dt.timedelta(seconds=30)), django_assert_num_queries(0):
        services.personal_token_touch(token=token)
    token.refresh_from_db()
    assert token.last_used_at == NOW
