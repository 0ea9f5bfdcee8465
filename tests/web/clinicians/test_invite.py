"""Inviting a patient to the portal from the dashboard: one single-use, expiring link by e-mail."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from rehab import notify, selectors, services
from rehab.models import AuditEvent, PortalInvite
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _now(settings):
    settings.SITE_URL = "https://rehab.example.org"
    settings.INVITE_VALID_DAYS = 7
    with freeze_time(NOW):
        yield


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, first_name="Grace", email="Grace.Hopper@example.org")


def invite_url(patient) -> str:
    return reverse("clinicians:patient_invite", args=[patient.pk])


def link_in(message) -> str:
    return re.search(r"https://rehab\.example\.org/\S+", message.body).group(0)


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_invite_sends_one_email_with_a_working_link(
    dashboard, patient, clinician, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard.post(invite_url(patient))
    assert response.status_code == 302
    assert response.url == reverse("clinicians:patient", args=[patient.pk])
    assert messages_of(response) == [
        "Invitation sent to Grace.Hopper@example.org, valid for 7 days."
    ]

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["Grace.Hopper@example.org"]
    assert "Riverside Physiotherapy" in message.subject
    assert "Hello Grace" in message.body
    assert "9 March 2026" in message.body  # the expiry, in words
    link = link_in(message)
    token = token_of(link)
    assert link == "https://rehab.example.org" + reverse("patients:invite_accept", args=[token])
    assert link in message.alternatives[0][0]

    invite = PortalInvite.objects.get(patient=patient)
    assert selectors.portal_invite_for_token(token=token) == invite
    assert token not in invite.token_hash  # only the hash is kept
    assert invite.sent_to == "Grace.Hopper@example.org"
    assert invite.created_by == clinician.user
    assert invite.expires_at == NOW + dt.timedelta(days=7)
    assert invite.state() == "valid"
    event = AuditEvent.objects.get(action="portal.invite")
    assert (event.patient, event.actor) == (patient, clinician.user)

    # The link opens the portal's page for choosing a password.
    page = dashboard.get(reverse("patients:invite_accept", args=[token]))
    assert page.status_code == 200
    assert "Welcome, Grace" in page.content.decode()


def test_a_new_invitation_revokes_the_earlier_link(
    dashboard, patient, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dashboard.post(invite_url(patient))
        dashboard.post(invite_url(patient))
    first, second = (token_of(link_in(m)) for m in mailoutbox)
    assert first != second
    old, new = PortalInvite.objects.order_by("id")
    assert old.revoked_at == NOW
    assert old.state() == "revoked"
    assert new.state() == "valid"
    assert AuditEvent.objects.filter(action="portal.invite").count() == 2
    assert dashboard.get(reverse("patients:invite_accept", args=[first])).status_code == 410
    assert dashboard.get(reverse("patients:invite_accept", args=[second])).status_code == 200


def test_invite_without_an_email_address_is_refused(
    dashboard, clinic, mailoutbox, django_capture_on_commit_callbacks
):
    patient = PatientFactory(clinic=clinic, email="")
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard.post(invite_url(patient))
    assert response.status_code == 302
    assert messages_of(response) == [
        f"{patient.full_name} has no e-mail address; add one to their record first."
    ]
    assert not PortalInvite.objects.exists()
    assert mailoutbox == []


def test_invite_of_a_patient_with_a_portal_account_is_refused(dashboard, clinic, mailoutbox):
    patient = PatientFactory(clinic=clinic, user=UserFactory())
    response = dashboard.post(invite_url(patient))
    assert "already has a portal account" in messages_of(response)[0]
    assert not PortalInvite.objects.exists()


def test_invite_of_an_archived_patient_is_refused(dashboard, patient):
    services.patient_archive(patient=patient, actor=None)
    response = dashboard.post(invite_url(patient))
    assert "is archived" in messages_of(response)[0]
    assert not PortalInvite.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_reported_and_recorded(dashboard, patient, monkeypatch):
    # A real commit (no test transaction around the request): the e-mail goes when the
    # service's transaction commits, before the view reports.
    def refuse(**kwargs):
        raise notify.PermanentSendError("The mail server refused the message.")

    monkeypatch.setattr(notify, "send_email", refuse)
    response = dashboard.post(invite_url(patient))
    assert messages_of(response) == [
        "The invitation to Grace.Hopper@example.org could not be sent (The mail server refused "
        "the message.). Check the address and try again."
    ]
    assert AuditEvent.objects.filter(action="portal.invite_failed", patient=patient).exists()


def test_invite_is_post_only(dashboard, patient):
    assert dashboard.get(invite_url(patient)).status_code == 405
    assert not PortalInvite.objects.exists()


def test_another_clinics_patient_cannot_be_invited(dashboard, stranger, mailoutbox):
    assert dashboard.post(invite_url(stranger)).status_code == 404
    assert not PortalInvite.objects.exists()


def test_anonymous_visitor_cannot_invite(client, patient):
    response = client.post(invite_url(patient))
    assert response.status_code == 302
    assert response.url.startswith(reverse("clinicians:login"))
    assert not PortalInvite.objects.exists()


def test_invite_expires_after_the_configured_days(settings, patient, clinician):
    settings.INVITE_VALID_DAYS = 2
    invite = services.patient_invite(patient=patient, actor=clinician.user)
    assert invite.expires_at == timezone.now() + dt.timedelta(days=2)
    with freeze_time(NOW + dt.timedelta(days=2)):
        assert invite.state() == "expired"


@pytest.mark.django_db(transaction=True)
def test_the_email_goes_when_the_invitation_commits(dashboard, patient, mailoutbox):
    response = dashboard.post(invite_url(patient))
    assert messages_of(response) == [
        "Invitation sent to Grace.Hopper@example.org, valid for 7 days."
    ]
    assert len(mailoutbox) == 1
    token = token_of(link_in(mailoutbox[0]))
    assert selectors.portal_invite_for_token(token=token).patient == patient
