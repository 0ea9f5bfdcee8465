"""The sign-in lockout counts per account and per address, at every door: the dashboard, the
portal, the Django admin and the API's token endpoint."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from tests.factories import ClinicianFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "patel@example.org"


def spellings(address: str, count: int) -> list[str]:
    """`count` different spellings of one address: upper and lower case letters mixed, some
    with spaces around. Each is typed once, as a guesser would to stay under a per-string limit."""
    letters = [i for i, c in enumerate(address) if c.isalpha()]
    out = []
    for n in itertools.count(1):
        chars = list(address)
        for bit, i in enumerate(letters):
            if n >> bit & 1:
                chars[i] = chars[i].upper()
        spelled = "".join(chars)
        out.append(f" {spelled} " if n % 3 == 0 else spelled)
        if len(out) == count:
            return out
    raise AssertionError


def sign_in(door: str, username: str, password: str, client=None, **extra) -> int:
    client = client or Client()
    if door == "api":
        response = client.post(
            "/api/v1/auth/token/",
            {"username": username, "password": password},
            content_type="application/json",
            **extra,
        )
    else:
        response = client.post(
            f"{door}login/", {"username": username, "password": password}, **extra
        )
    return response.status_code


@pytest.fixture
def patel(db):
    """An account that may use every door: a clinician who is also a Django staff user."""
    return ClinicianFactory(
        user__username="ppatel", user__email="Patel@Example.org", user__is_staff=True
    ).user


DOORS = ["/clinic/", "/portal/", "/admin/", "api"]


@pytest.fixture(autouse=True)
def _admin_takes_passwords(settings):
    # Outside DEBUG the admin's sign-in is the dashboard's (rehab/admin_site.py: staff need their
    # second step); with DEBUG on, as in `make run`, /admin/login/ takes a password itself, and
    # that door must count failures like the others.
    settings.DEBUG = True


SIGNED_IN = {"/clinic/": 302, "/portal/": 302, "/admin/": 302, "api": 200}


@pytest.mark.parametrize("door", DOORS)
def test_forty_spellings_of_one_address_lock_the_account(patel, door):
    for spelled in spellings(ADDRESS, 40):
        assert sign_in(door, spelled, "wrong") != SIGNED_IN[door]
    # The right password, by username, from another address, is refused for the cool-off.
    assert sign_in(door, "ppatel", "pw", REMOTE_ADDR="198.51.100.7") == 429


@pytest.mark.parametrize("door", DOORS)
def test_failures_at_one_door_count_at_the_others(patel, door, settings):
    for door_used in itertools.islice(itertools.cycle(DOORS), settings.AXES_FAILURE_LIMIT):
        sign_in(door_used, ADDRESS.upper(), "wrong")
    assert sign_in(door, ADDRESS, "pw") == 429


def test_a_locked_token_request_says_so_in_the_api_error_shape(patel, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("api", "ppatel", "wrong")
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": "ppatel", "password": "pw"},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"


def test_an_unknown_name_is_counted_by_its_normalised_spelling(db, settings):
    for spelled in spellings("nobody@example.org", settings.AXES_FAILURE_LIMIT):
        sign_in("/portal/", spelled, "wrong", REMOTE_ADDR=f"198.51.100.{len(spelled)}")
    # A name of no account locks like an account's (in any spelling, from any address), so
    # the lock does not tell a guesser which names are accounts.
    assert sign_in("/portal/", "NOBODY@example.org", "wrong") == 429


def test_one_address_spraying_many_accounts_is_locked(patel, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for n in range(12):
        UserFactory(username=f"member{n}")
        sign_in("/clinic/", f"member{n}", "wrong", REMOTE_ADDR="203.0.113.5")
    # Each account had one failure only, yet the address is locked, for any account...
    assert sign_in("/clinic/", "ppatel", "pw", REMOTE_ADDR="203.0.113.5") == 429
    assert sign_in("api", "ppatel", "pw", REMOTE_ADDR="203.0.113.5") == 429
    # ...and a made-up X-Forwarded-For does not make it another address.
    assert (
        sign_in(
            "/clinic/", "ppatel", "pw", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.9.9.9"
        )
        == 429
    )
    # Other addresses are not affected.
    assert sign_in("/clinic/", "ppatel", "pw", REMOTE_ADDR="198.51.100.7") == 302


def test_a_sprayer_cannot_clear_the_address_count_by_signing_in_to_their_own_account(
    patel, settings
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    own = PatientFactory(user=UserFactory(username="mine")).user
    for n in range(7):
        UserFactory(username=f"member{n}")
        sign_in("/portal/", f"member{n}", "wrong", REMOTE_ADDR="203.0.113.5")
    assert sign_in("/portal/", own.username, "pw", REMOTE_ADDR="203.0.113.5") == 302
    sign_in("/portal/", "member0", "wrong", REMOTE_ADDR="203.0.113.5")
    assert sign_in("/clinic/", "ppatel", "pw", REMOTE_ADDR="203.0.113.5") == 429


def test_a_clinic_behind_one_address_is_not_locked_out_by_typos(patel, settings):
    colleagues = [ClinicianFactory().user for _ in range(6)]
    for user in colleagues:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in("/clinic/", user.username, "typo", REMOTE_ADDR="192.0.2.1")
    assert sign_in("/clinic/", "ppatel", "pw", REMOTE_ADDR="192.0.2.1") == 302


def test_the_address_behind_a_trusted_proxy_is_the_one_counted(patel, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(6):
        UserFactory(username=f"member{n}")
        sign_in("/clinic/", f"member{n}", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    # The sprayer's address is locked; another client behind the same proxy is not.
    assert sign_in("/clinic/", "ppatel", "pw", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy) == 429
    assert sign_in("/clinic/", "ppatel", "pw", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy) == 302
