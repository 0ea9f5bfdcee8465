"""Accepting a portal invitation: choose a password, get signed in, the link is used up."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from rehab.models import AuditEvent, PortalInvite, User
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
GOOD_PASSWORD = "walk backwards slowly"


@pytest.fixture(autouse=True)
def _now(settings):
    settings.INVITE_VALID_DAYS = 7
    with freeze_time(NOW):
        yield


@pytest.fixture
def patient(clinic):
    return PatientFactory(
        clinic=clinic, first_name="Grace", last_name="Hopper", email="Grace@Example.org"
    )


@pytest.fixture
def send_invite(clinician, mailoutbox, django_capture_on_commit_callbacks):
    """Invite a patient the way the dashboard does; returns the token from the e-mail."""

    def send(patient) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            services.patient_invite(patient=patient, actor=clinician.user)
        link = re.search(r"https?://\S+/invite/([\w-]+)/", mailoutbox[-1].body)
        return link.group(1)

    return send


def url(token: str) -> str:
    return reverse("patients:invite_accept", args=[token])


def choose(client, token, password=GOOD_PASSWORD, confirm=None):
    return client.post(
        url(token),
        {"password": password, "password_confirm": password if confirm is None else confirm},
    )


def test_invite_page_welcomes_the_patient_by_name(client, patient, send_invite):
    token = send_invite(patient)
    response = client.get(url(token))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Welcome, Grace" in html
    assert "grace@example.org" in html.lower()
    assert 'type="password"' in html
    assert AuditEvent.objects.filter(action="portal.invite_view", patient=patient).count() == 1


def test_accepting_creates_the_account_links_the_patient_and_signs_in(client, patient, send_invite):
    token = send_invite(patient)
    response = choose(client, token)
    assert response.status_code == 302
    assert response.url == reverse("patients:today")

    patient.refresh_from_db()
    user = patient.user
    assert user.username == "grace@example.org"
    assert user.email == "Grace@example.org"  # the domain part is normalised
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    assert user.check_password(GOOD_PASSWORD)
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.get(reverse("patients:today")).status_code == 200

    invite = PortalInvite.objects.get()
    assert invite.used_at == NOW
    event = AuditEvent.objects.get(action="portal.invite_accept")
    assert (event.actor, event.patient) == (user, patient)

    # The patient can sign in again later with the e-mail address the invitation came to.
    client.logout()
    signed_in = client.post(
        reverse("patients:login"), {"username": "grace@example.org", "password": GOOD_PASSWORD}
    )
    assert signed_in.status_code == 302


def test_the_link_works_once(client, patient, send_invite):
    token = send_invite(patient)
    assert choose(client, token).status_code == 302
    client.logout()

    again = client.get(url(token))
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert choose(client, token, password="another long password").status_code == 410
    assert User.objects.filter(patient__isnull=False).count() == 1


def test_an_expired_link_asks_for_a_new_one(client, patient, send_invite):
    token = send_invite(patient)
    with freeze_time(NOW + dt.timedelta(days=7, seconds=1)):
        response = client.get(url(token))
        assert response.status_code == 410
        assert "This invitation has expired. Ask your clinic to send a new one." in (
            response.content.decode()
        )
        assert choose(client, token).status_code == 410
    patient.refresh_from_db()
    assert patient.user is None


def test_a_link_still_works_just_before_it_expires(client, patient, send_invite):
    token = send_invite(patient)
    with freeze_time(NOW + dt.timedelta(days=7, seconds=-1)):
        assert choose(client, token).status_code == 302


def test_a_replaced_link_no_longer_works(client, patient, send_invite):
    first = send_invite(patient)
    second = send_invite(patient)
    response = client.get(url(first))
    assert response.status_code == 410
    assert "a newer one may have been sent" in response.content.decode()
    assert choose(client, second).status_code == 302


def test_an_unknown_link_is_not_found(client, db):
    response = client.get(url("not-a-real-token"))
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_different_passwords_are_refused_and_nothing_is_created(client, patient, send_invite):
    token = send_invite(patient)
    response = choose(client, token, confirm="walk forwards slowly")
    html = response.content.decode()
    assert response.status_code == 400
    assert "The two passwords are not the same." in html
    assert GOOD_PASSWORD not in html  # a password is never sent back
    patient.refresh_from_db()
    assert patient.user is None
    assert PortalInvite.objects.get().used_at is None


def test_a_weak_password_is_refused_and_the_link_still_works(client, patient, send_invite):
    token = send_invite(patient)
    response = choose(client, token, password="password")
    html = response.content.decode()
    assert response.status_code == 400
    assert "This password is too common." in html
    assert "for your safety it is not kept" in html
    assert 'value="password"' not in html
    assert not User.objects.filter(username="grace@example.org").exists()
    assert choose(client, token).status_code == 302


def test_an_address_used_as_a_username_gets_a_numbered_username(client, patient, send_invite):
    UserFactory(username="grace@example.org", email="someone.else@example.org")
    token = send_invite(patient)
    assert (
        "the username <strong>grace@example.org-2</strong>"
        in client.get(url(token)).content.decode()
    )
    assert choose(client, token).status_code == 302
    patient.refresh_from_db()
    assert patient.user.username == "grace@example.org-2"


def test_an_address_changed_after_the_invitation_voids_the_link(client, patient, send_invite):
    token = send_invite(patient)
    services.patient_update(patient=patient, actor=None, email="grace.new@example.org")
    assert client.get(url(token)).status_code == 410
    assert choose(client, token).status_code == 410


def test_the_accept_page_query_count(client, patient, send_invite, django_assert_num_queries):
    token = send_invite(patient)
    # The invite with its patient and clinic, the username check, the audit insert.
    with django_assert_num_queries(3):
        client.get(url(token))
