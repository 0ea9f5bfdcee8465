"""The team page's selectors (rehab.selectors.team_page): the clinic's clinicians and API keys,
for its administrators only, and a personal token found by its secret."""

from __future__ import annotations

import pytest

from rehab import selectors, services
from rehab.access import principal_for_user
from tests.factories import ClinicFactory, ClinicianFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(clinic):
    return ClinicianFactory(clinic=clinic, is_clinic_admin=True, user__last_name="Adams")


@pytest.fixture
def outsider(db):
    return ClinicianFactory(clinic=ClinicFactory(name="Elsewhere"), is_clinic_admin=True)


def test_the_team_is_the_clinics_clinicians_by_name_for_administrators_only(
    admin, clinician, outsider, django_assert_num_queries
):
    ClinicianFactory(clinic=admin.clinic, user__last_name="Zeller")
    staff = principal_for_user(admin.user)
    with django_assert_num_queries(1):
        team = [c.user.last_name for c in selectors.team_for(staff)]
    assert team == sorted([admin.user.last_name, clinician.user.last_name, "Zeller"])
    assert outsider.user.last_name not in team
    assert not selectors.team_for(principal_for_user(clinician.user)).exists()


def test_api_keys_are_the_clinics_usable_ones_first_for_administrators_only(
    admin, clinician, outsider, django_assert_num_queries
):
    clinic = admin.clinic
    old, _ = services.api_key_create(clinic=clinic, name="Archive", actor=admin.user)
    services.api_key_revoke(api_key=old, actor=admin.user)
    services.api_key_create(clinic=clinic, name="Zeta EHR", actor=admin.user)
    services.api_key_create(clinic=clinic, name="Billing", actor=admin.user)
    services.api_key_create(clinic=outsider.clinic, name="Theirs", actor=outsider.user)
    staff = principal_for_user(admin.user)
    with django_assert_num_queries(1):
        keys = [(k.name, k.created_by.last_name) for k in selectors.api_keys_for(staff)]
    assert keys == [("Billing", "Adams"), ("Zeta EHR", "Adams"), ("Archive", "Adams")]
    assert not selectors.api_keys_for(principal_for_user(clinician.user)).exists()


def test_a_personal_token_is_found_by_its_secret_with_its_account(clinic, actor):
    token, raw = services.personal_token_create(user=actor, clinic=clinic)
    found = selectors.personal_token_for(raw)
    assert (found, found.user) == (token, actor)
    assert selectors.personal_token_for(raw + "x") is None
