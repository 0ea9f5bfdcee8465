"""A clinic's team (rehab.services.team): adding a clinician with a set-password link, a new
link, deactivating and reactivating, administrator rights, each change audited. The dashboard's
pages for the same: tests/web/clinicians/test_team.py."""

from __future__ import annotations

import pytest
from django.core import mail

from rehab import services
from rehab.errors import RehabError
from rehab.models import AuditEvent, Clinician, PersonalToken, User
from tests.factories import ClinicFactory, ClinicianFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(clinic):
    return ClinicianFactory(clinic=clinic, is_clinic_admin=True)


def add(clinic, actor, **overrides):
    values = {"first_name": "Nia", "last_name": "Okafor", "email": "nia.okafor@example.org"}
    return services.clinician_create(clinic=clinic, actor=actor, **{**values, **overrides})


def actions(clinician) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(clinician.pk), action__startswith="clinician.")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )


# --- Adding a clinician ---------------------------------------------------------------------------


def test_a_new_clinician_has_no_password_until_they_choose_one_through_the_link(clinic, admin):
    added = add(clinic, admin.user, first_name="  Nia ", title=" Senior physio ")
    user = User.objects.get(pk=added.user_id)
    assert (user.first_name, added.title, added.clinic) == ("Nia", "Senior physio", clinic)
    assert not user.has_usable_password()
    # With no username chosen, the address is the username.
    assert user.username == "nia.okafor@example.org"
    (message,) = mail.outbox
    assert message.to == ["nia.okafor@example.org"]
    assert "/password-reset/" in message.body
    assert admin.user.get_full_name() in message.body  # who gave them the account


def test_adding_a_clinician_is_audited_with_the_username_and_rights(clinic, admin):
    added = add(clinic, admin.user, username="nia", is_clinic_admin=True)
    event = AuditEvent.objects.get(action="clinician.create")
    assert (event.actor, event.clinic, event.object_id) == (admin.user, clinic, str(added.pk))
    assert event.detail == {"username": "nia", "is_clinic_admin": True}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"first_name": " "}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"email": ""}, "email"),
        ({"username": "nia@example.org"}, "username"),
    ],
)
def test_a_missing_name_or_address_or_an_at_sign_in_the_username_is_a_field_error(
    clinic, admin, overrides, field
):
    with pytest.raises(RehabError) as refused:
        add(clinic, admin.user, **overrides)
    assert (refused.value.code, refused.value.status) == ("validation_error", 400)
    assert field in refused.value.fields
    assert not Clinician.objects.filter(user__last_name="Okafor").exists()
    assert mail.outbox == []


def test_an_address_of_the_same_clinic_is_refused_whatever_its_case(clinic, admin):
    add(clinic, admin.user)
    with pytest.raises(RehabError) as refused:
        add(clinic, admin.user, first_name="Other", email="NIA.OKAFOR@example.org")
    assert refused.value.fields == {
        "email": ["A clinician of this clinic already uses this e-mail address."]
    }


def test_an_address_owned_in_another_clinic_gets_no_link_and_its_owner_is_told(clinic, admin):
    owner = ClinicianFactory(clinic=ClinicFactory(name="Elsewhere"))
    added = add(clinic, admin.user, email=owner.user.email)
    # Made as for any new address: this clinic learns nothing of the other one's accounts.
    assert added.user.email == owner.user.email
    (notice,) = mail.outbox
    assert notice.to == [owner.user.email]
    assert notice.subject == f"Retrowalk: {clinic.name} tried to add this address"
    assert "/password-reset/" not in notice.body
    # Nor does a later link, asked for again, go to the address.
    services.clinician_send_password_link(clinician=added, actor=admin.user)
    assert "/password-reset/" not in mail.outbox[-1].body


# --- A new set-password link ----------------------------------------------------------------------


def test_a_new_link_is_mailed_and_audited(clinician, admin):
    services.clinician_send_password_link(clinician=clinician, actor=admin.user)
    (message,) = mail.outbox
    assert message.to == [clinician.user.email]
    assert "/password-reset/" in message.body
    assert actions(clinician) == ["clinician.password_link"]


def test_no_link_for_a_deactivated_clinician(clinician, admin):
    services.clinician_set_active(clinician=clinician, active=False, actor=admin.user)
    with pytest.raises(RehabError) as refused:
        services.clinician_send_password_link(clinician=clinician, actor=admin.user)
    assert (refused.value.code, refused.value.status) == ("clinician_inactive", 409)
    assert mail.outbox == []
    assert "clinician.password_link" not in actions(clinician)


def test_no_link_for_an_account_without_an_address(clinician, admin):
    User.objects.filter(pk=clinician.user_id).update(email="")
    clinician.user.refresh_from_db()
    with pytest.raises(RehabError) as refused:
        services.clinician_send_password_link(clinician=clinician, actor=admin.user)
    assert "email" in refused.value.fields
    assert mail.outbox == []


# --- Deactivating and reactivating ----------------------------------------------------------------


def test_deactivating_ends_every_token_and_reactivating_brings_none_back(clinician, admin):
    for _ in range(2):  # a phone and a tablet
        services.personal_token_create(user=clinician.user, clinic=clinician.clinic)
    services.clinician_set_active(clinician=clinician, active=False, actor=admin.user)
    assert not PersonalToken.objects.filter(user=clinician.user, revoked_at__isnull=True).exists()
    services.clinician_set_active(clinician=clinician, active=True, actor=admin.user)
    clinician.user.refresh_from_db()
    assert clinician.user.is_active
    assert not PersonalToken.objects.filter(user=clinician.user, revoked_at__isnull=True).exists()
    assert actions(clinician) == ["clinician.deactivate", "clinician.activate"]


def test_asking_for_the_state_an_account_is_in_records_nothing(clinician, admin):
    services.clinician_set_active(clinician=clinician, active=True, actor=admin.user)
    services.clinician_set_admin(clinician=clinician, is_clinic_admin=False, actor=admin.user)
    assert actions(clinician) == []


def test_nobody_deactivates_their_own_account(admin, clinic):
    ClinicianFactory(clinic=clinic, is_clinic_admin=True)  # not the last administrator
    with pytest.raises(RehabError) as refused:
        services.clinician_set_active(clinician=admin, active=False, actor=admin.user)
    assert (refused.value.code, refused.value.status) == ("cannot_deactivate_self", 409)
    admin.user.refresh_from_db()
    assert admin.user.is_active


def test_an_administrator_may_be_deactivated_while_another_remains(admin, clinic):
    other = ClinicianFactory(clinic=clinic, is_clinic_admin=True)
    services.clinician_set_active(clinician=admin, active=False, actor=other.user)
    admin.user.refresh_from_db()
    assert not admin.user.is_active
    # The one left is now the last: they keep their rights and their account.
    with pytest.raises(RehabError) as refused:
        services.clinician_set_admin(clinician=other, is_clinic_admin=False, actor=None)
    assert refused.value.code == "last_admin"


# --- Administrator rights -------------------------------------------------------------------------


def test_granting_and_removing_rights_are_audited(clinician, admin):
    services.clinician_set_admin(clinician=clinician, is_clinic_admin=True, actor=admin.user)
    services.clinician_set_admin(clinician=admin, is_clinic_admin=False, actor=clinician.user)
    assert Clinician.objects.get(pk=clinician.pk).is_clinic_admin
    assert not Clinician.objects.get(pk=admin.pk).is_clinic_admin
    assert actions(clinician) == ["clinician.admin_grant"]
    assert actions(admin) == ["clinician.admin_remove"]


def test_a_deactivated_administrator_may_lose_the_rights_they_cannot_use(admin, clinic):
    # The clinic's one active administrator stays; the retired one's flag can go.
    retired = ClinicianFactory(clinic=clinic, is_clinic_admin=True)
    services.clinician_set_active(clinician=retired, active=False, actor=admin.user)
    services.clinician_set_admin(clinician=retired, is_clinic_admin=False, actor=admin.user)
    assert not Clinician.objects.get(pk=retired.pk).is_clinic_admin
