"""Sign-in names for new accounts (rehab.selectors.invitations.portal_username_for): the address in
lower case, numbered when an account already uses it, whatever its case."""

from __future__ import annotations

import pytest

from rehab import selectors
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_free_address_is_the_username_in_lower_case(db):
    assert selectors.portal_username_for(email="  Grace@Example.org ") == "grace@example.org"


def test_a_taken_address_gets_the_first_free_number(db):
    UserFactory(username="Grace@Example.org")
    UserFactory(username="grace@example.org-2")
    assert selectors.portal_username_for(email="grace@example.org") == "grace@example.org-3"


def test_no_address_gives_a_plain_name(db):
    assert selectors.portal_username_for(email=" ") == "patient"
