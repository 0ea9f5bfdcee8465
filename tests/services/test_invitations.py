"""Portal invitations (rehab.services.invitations): who may be invited, the error a link's
holder reads in each state, and the account an accepted link makes, each step audited. The
pages: tests/web/clinicians/test_invite.py and tests/web/portal/test_invite_accept.py."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from freezegun import freeze_time

from rehab import selectors, services
from rehab.errors import RehabError
from rehab.models import AuditEvent, PortalInvite, User
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
PASSWORD = "walk backwards slowly"


@pytest.fixture(autouse=True)
def clock(settings):
    settings.INVITE_VALID_DAYS = 7
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def grace(clinic):
    return PatientFactory(clinic=clinic, first_name="Grace", email="grace@example.org")


@pytest.fixture
def invite(grace, actor, django_capture_on_commit_callbacks):
    """Invite Grace as the dashboard does; the token, read from the e-mail."""

    def send() -> str:
        with django_capture_on_commit_callbacks(execute=True):
            services.patient_invite(patient=grace, actor=actor)
        return re.search(r"/invite/([\w-]+)/", mail.outbox[-1].body).group(1)

    return send


def refusal(token: str) -> tuple[str, int]:
    with pytest.raises(RehabError) as refused:
        services.invite_check(invite=selectors.portal_invite_for_token(token=token))
    return refused.value.code, refused.value.status


# --- Inviting -------------------------------------------------------------------------------------


def test_only_the_tokens_hash_is_kept_and_the_invitation_is_audited(grace, actor, invite):
    token = invite()
    row = PortalInvite.objects.get()
    assert token not in (row.token_hash, str(row.pk))
    assert (row.sent_to, row.created_by) == ("grace@example.org", actor)
    assert row.expires_at == NOW + dt.timedelta(days=7)
    event = AuditEvent.objects.get(action="portal.invite")
    assert (event.actor, event.patient, event.detail) == (actor, grace, {"revoked_earlier": 0})


def test_a_new_invitation_records_how_many_earlier_links_it_stopped(invite):
    invite()
    invite()
    latest = AuditEvent.objects.filter(action="portal.invite").latest("id")
    assert latest.detail == {"revoked_earlier": 1}
    assert PortalInvite.objects.filter(revoked_at__isnull=True).count() == 1


def test_an_archived_patient_is_not_invited(grace, actor):
    services.patient_archive(patient=grace, actor=actor)
    with pytest.raises(RehabError) as refused:
        services.patient_invite(patient=grace, actor=actor)
    assert (refused.value.code, refused.value.status) == ("patient_archived", 409)
    assert not PortalInvite.objects.exists()


def test_a_patient_without_an_address_or_with_an_account_is_not_invited(grace, actor):
    grace.email = " "
    with pytest.raises(RehabError) as refused:
        services.patient_invite(patient=grace, actor=actor)
    assert refused.value.code == "email_required"
    assert refused.value.fields == {"email": ["An e-mail address is needed for an invitation."]}
    grace.email, grace.user = "grace@example.org", UserFactory()
    with pytest.raises(RehabError) as refused:
        services.patient_invite(patient=grace, actor=actor)
    assert (refused.value.code, refused.value.status) == ("portal_account_exists", 409)
    assert not PortalInvite.objects.exists()


# --- What a link's holder reads -------------------------------------------------------------------


def test_an_unknown_or_overlong_token_is_not_found(db):
    assert refusal("no-such-token") == ("invite_not_found", 404)
    assert selectors.portal_invite_for_token(token="x" * 101) is None


def test_a_link_works_until_its_last_second_then_has_expired(invite, clock):
    token = invite()
    clock.move_to(NOW + dt.timedelta(days=7) - dt.timedelta(seconds=1))
    found = selectors.portal_invite_for_token(token=token)
    assert services.invite_check(invite=found) == found
    clock.move_to(NOW + dt.timedelta(days=7))
    assert refusal(token) == ("invite_expired", 410)


def test_a_replaced_link_and_an_archived_patients_link_are_revoked(grace, actor, invite):
    first = invite()
    second = invite()
    assert refusal(first) == ("invite_revoked", 410)
    services.patient_archive(patient=grace, actor=actor)
    assert refusal(second) == ("invite_revoked", 410)


def test_a_link_for_a_patient_who_got_an_account_otherwise_is_used(grace, invite):
    token = invite()
    grace.user = UserFactory()
    grace.save()
    assert refusal(token) == ("invite_used", 410)


# --- Accepting ------------------------------------------------------------------------------------


def test_accepting_makes_the_account_links_the_record_and_is_audited_as_the_patient(grace, invite):
    user = services.invite_accept(token=invite(), password=PASSWORD)
    grace.refresh_from_db()
    assert grace.user == user
    assert (user.username, user.email, user.first_name) == (
        "grace@example.org",
        "grace@example.org",
        "Grace",
    )
    assert user.check_password(PASSWORD)
    assert PortalInvite.objects.get().used_at == NOW
    event = AuditEvent.objects.get(action="portal.invite_accept")
    assert (event.actor, event.patient) == (user, grace)


def test_a_link_is_used_once(invite):
    token = invite()
    services.invite_accept(token=token, password=PASSWORD)
    with pytest.raises(RehabError) as refused:
        services.invite_accept(token=token, password="another slow walk")
    assert (refused.value.code, refused.value.status) == ("invite_used", 410)
    assert User.objects.filter(email="grace@example.org").count() == 1


def test_a_weak_password_is_a_field_error_and_the_link_still_works(invite):
    token = invite()
    with pytest.raises(RehabError) as refused:
        services.invite_accept(token=token, password="grace")
    assert "password" in refused.value.fields
    assert PortalInvite.objects.get().used_at is None
    assert services.invite_accept(token=token, password=PASSWORD).is_active


def test_a_chosen_username_is_kept(invite):
    user = services.invite_accept(token=invite(), password=PASSWORD, username="  grace.h ")
    assert user.username == "grace.h"


def test_an_expired_link_makes_no_account(invite, clock):
    token = invite()
    clock.move_to(NOW + dt.timedelta(days=8))
    with pytest.raises(RehabError) as refused:
        services.invite_accept(token=token, password=PASSWORD)
    assert refused.value.code == "invite_expired"
    assert not User.objects.filter(email="grace@example.org").exists()
    assert not AuditEvent.objects.filter(action="portal.invite_accept").exists()
