"""Clinic administration: the team (adding, deactivating, administrator rights) and API keys."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from rehab import notify, services
from rehab.errors import RehabError
from rehab.models import ApiKey, AuditEvent, Clinician, User
from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

TEAM = reverse("clinicians:team")
KEYS = reverse("clinicians:api_keys")


def member_url(clinician) -> str:
    return reverse("clinicians:team_member", args=[clinician.pk])


def revoke_url(api_key) -> str:
    return reverse("clinicians:api_key_revoke", args=[api_key.pk])


@pytest.fixture
def client_factory():
    """More browsers, each with its own session."""
    return Client


@pytest.fixture
def foreign_clinician(db):
    return ClinicianFactory(clinic=ClinicFactory(name="Elsewhere"), user__last_name="Outsider")


@pytest.fixture
def foreign_key(foreign_clinician):
    api_key, _ = services.api_key_create(
        clinic=foreign_clinician.clinic, name="Their EHR", actor=foreign_clinician.user
    )
    return api_key


def new_clinician(**overrides) -> dict:
    return {
        "first_name": "Nia",
        "last_name": "Okafor",
        "email": "nia.okafor@example.org",
        "username": "",
        "title": "Physiotherapist",
        **overrides,
    }


def api_get(client, raw_key: str):
    return client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}")


# --- Who may use these pages ---------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, clinician, foreign_key):
    for url in (TEAM, member_url(clinician), KEYS, revoke_url(foreign_key)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("clinicians:login"))


def test_clinician_who_is_not_an_administrator_gets_403(dashboard, clinician, clinic):
    api_key, _ = services.api_key_create(clinic=clinic, name="EHR", actor=None)
    for url in (TEAM, member_url(clinician), KEYS, revoke_url(api_key)):
        assert dashboard.get(url).status_code == 403
    assert dashboard.post(TEAM, new_clinician()).status_code == 403
    assert dashboard.post(KEYS, {"name": "Sneaky"}).status_code == 403
    assert dashboard.post(revoke_url(api_key)).status_code == 403
    response = dashboard.post(member_url(clinician), {"action": "grant_admin"})
    assert response.status_code == 403
    clinician.refresh_from_db()
    api_key.refresh_from_db()
    assert not clinician.is_clinic_admin
    assert api_key.revoked_at is None
    assert not User.objects.filter(email="nia.okafor@example.org").exists()
    assert ApiKey.objects.filter(clinic=clinic).count() == 1


def test_patient_user_is_sent_to_the_portal(client, clinic):
    patient = PatientFactory(clinic=clinic, user=UserFactory())
    client.force_login(patient.user)
    for url in (TEAM, KEYS):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("patients:today")


def test_another_clinics_clinician_is_not_found(admin_dashboard, foreign_clinician):
    assert admin_dashboard.get(member_url(foreign_clinician)).status_code == 404
    response = admin_dashboard.post(member_url(foreign_clinician), {"action": "deactivate"})
    assert response.status_code == 404
    foreign_clinician.user.refresh_from_db()
    assert foreign_clinician.user.is_active


def test_another_clinics_api_key_is_not_found(admin_dashboard, foreign_key):
    assert admin_dashboard.get(revoke_url(foreign_key)).status_code == 404
    assert admin_dashboard.post(revoke_url(foreign_key)).status_code == 404
    foreign_key.refresh_from_db()
    assert foreign_key.revoked_at is None
    assert "Their EHR" not in admin_dashboard.get(KEYS).content.decode()


# --- The team list -------------------------------------------------------------------------------


def test_team_lists_the_clinics_clinicians_only(
    admin_dashboard, clinician, clinic_admin, foreign_clinician
):
    inactive = ClinicianFactory(clinic=clinician.clinic, user__last_name="Gone")
    inactive.user.is_active = False
    inactive.user.save()
    response = admin_dashboard.get(TEAM)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Priya Patel" in body
    assert clinician.user.username in body
    assert clinician.user.email in body
    assert "Deactivated" in body
    assert "Administrator</span>" in body
    assert "Outsider" not in body


def test_team_list_costs_the_same_queries_for_few_or_many_members(
    admin_dashboard, clinic, django_assert_num_queries
):
    admin_dashboard.get(TEAM)  # the first request after signing in also saves the session
    # session, user, clinician with clinic, the team with their accounts
    with django_assert_num_queries(4):
        admin_dashboard.get(TEAM)
    ClinicianFactory.create_batch(6, clinic=clinic)
    with django_assert_num_queries(4):
        response = admin_dashboard.get(TEAM)
    assert response.content.decode().count("Manage<span") == 7


# --- Adding a clinician --------------------------------------------------------------------------


def test_added_clinician_gets_a_working_set_password_link_and_can_sign_in(
    admin_dashboard, client, clinic, clinic_admin
):
    response = admin_dashboard.post(TEAM, new_clinician(is_clinic_admin="on"))
    assert response.status_code == 302
    assert response["Location"] == TEAM

    clinician = Clinician.objects.get(user__email="nia.okafor@example.org")
    assert clinician.clinic == clinic
    assert clinician.is_clinic_admin
    assert clinician.user.username == "nia.okafor@example.org"  # derived from the e-mail
    assert not clinician.user.has_usable_password()
    assert AuditEvent.objects.filter(
        action="clinician.create", object_id=str(clinician.pk), clinic=clinic
    ).exists()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nia.okafor@example.org"]
    assert "Riverside Physiotherapy" in message.subject
    links = re.findall(re.escape(settings.SITE_URL) + r"(/\S+)", message.body)
    assert len(links) == 1

    client.logout()
    response = client.get(links[0])  # Django swaps the token for a session and redirects
    assert response.status_code == 302
    set_password_url = response["Location"]
    assert client.get(set_password_url).status_code == 200
    response = client.post(
        set_password_url,
        {"new_password1": "backwards-walking-42", "new_password2": "backwards-walking-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("clinicians:password_reset_complete")

    response = client.post(
        reverse("clinicians:login"),
        {"username": "nia.okafor@example.org", "password": "backwards-walking-42"},
    )
    assert response.status_code == 302
    assert client.get(reverse("clinicians:today")).status_code == 200
    # The link works once.
    assert client.get(links[0]).status_code == 200  # the "link expired" page


def test_chosen_username_is_kept(admin_dashboard):
    admin_dashboard.post(TEAM, new_clinician(username="nokafor"))
    assert User.objects.filter(username="nokafor", email="nia.okafor@example.org").exists()


@pytest.mark.parametrize(
    ("field", "taken"),
    [("email", {"email": "Taken@Example.org"}), ("username", {"username": "taken"})],
)
def test_duplicate_email_or_username_is_a_field_error_and_keeps_the_input(
    admin_dashboard, clinic, field, taken
):
    # An address is a field error only within the clinic, whose team list shows it anyway; an
    # address of another clinic's account is not revealed (see the cross-clinic tests below).
    ClinicianFactory(clinic=clinic, user__username="taken", user__email="taken@example.org")
    data = new_clinician(**taken)
    response = admin_dashboard.post(TEAM, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body
    assert f'value="{data[field]}"' in body
    assert 'value="Okafor"' in body
    assert not Clinician.objects.filter(user__last_name="Okafor").exists()
    assert mail.outbox == []


def test_missing_names_and_bad_email_are_field_errors(admin_dashboard):
    response = admin_dashboard.post(TEAM, new_clinician(first_name="", email="not-an-address"))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_first_name_error"' in body
    assert 'id="id_email_error"' in body
    assert 'value="not-an-address"' in body


def test_mail_failure_keeps_nothing_and_says_so(admin_dashboard, monkeypatch):
    def refuse(**kwargs):
        raise notify.TransientSendError("The mail server could not be reached.")

    monkeypatch.setattr(notify, "send_email", refuse)
    response = admin_dashboard.post(TEAM, new_clinician())
    assert response.status_code == 503
    assert "could not be sent" in response.content.decode()
    assert 'value="nia.okafor@example.org"' in response.content.decode()
    assert not User.objects.filter(email="nia.okafor@example.org").exists()
    assert not AuditEvent.objects.filter(action="clinician.create").exists()


def test_a_new_set_password_link_can_be_sent(admin_dashboard, clinician):
    response = admin_dashboard.post(member_url(clinician), {"action": "send_link"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [clinician.user.email]
    assert reverse("clinicians:password_reset_confirm", args=["x", "y"])[:-4] in (
        mail.outbox[0].body
    )


# --- Deactivating and administrator rights -------------------------------------------------------


def test_deactivated_clinician_can_no_longer_sign_in_and_is_signed_out(
    admin_dashboard, clinician, client_factory
):
    own_browser = client_factory()
    own_browser.force_login(clinician.user)
    assert own_browser.get(reverse("clinicians:today")).status_code == 200

    response = admin_dashboard.post(member_url(clinician), {"action": "deactivate"})
    assert response.status_code == 302
    clinician.user.refresh_from_db()
    assert not clinician.user.is_active
    assert AuditEvent.objects.filter(
        action="clinician.deactivate", object_id=str(clinician.pk)
    ).exists()

    response = own_browser.get(reverse("clinicians:today"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("clinicians:login"))
    fresh = client_factory()
    response = fresh.post(
        reverse("clinicians:login"), {"username": clinician.user.username, "password": "pw"}
    )
    assert response.status_code == 200  # the form again, with its error
    assert fresh.get(reverse("clinicians:today")).status_code == 302


def test_reactivated_clinician_can_sign_in_again(admin_dashboard, clinician, client_factory):
    admin_dashboard.post(member_url(clinician), {"action": "deactivate"})
    admin_dashboard.post(member_url(clinician), {"action": "reactivate"})
    browser = client_factory()
    response = browser.post(
        reverse("clinicians:login"), {"username": clinician.user.username, "password": "pw"}
    )
    assert response.status_code == 302
    assert browser.get(reverse("clinicians:today")).status_code == 200


def test_you_cannot_deactivate_yourself(admin_dashboard, clinic_admin):
    response = admin_dashboard.post(member_url(clinic_admin), {"action": "deactivate"})
    assert response.status_code == 409
    assert "your own account" in response.content.decode()
    clinic_admin.user.refresh_from_db()
    assert clinic_admin.user.is_active


def test_the_last_administrator_keeps_their_rights(admin_dashboard, clinic_admin, clinician):
    response = admin_dashboard.post(member_url(clinic_admin), {"action": "remove_admin"})
    assert response.status_code == 409
    assert "only active administrator" in response.content.decode()
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_clinic_admin


def test_a_deactivated_administrator_does_not_count_as_another_one(clinic_admin, clinic):
    retired = ClinicianFactory(clinic=clinic, is_clinic_admin=True)
    retired.user.is_active = False
    retired.user.save()
    with pytest.raises(RehabError) as caught:
        services.clinician_set_admin(clinician=clinic_admin, is_clinic_admin=False, actor=None)
    assert caught.value.code == "last_admin"


def test_the_last_active_administrator_cannot_be_deactivated(clinic_admin):
    with pytest.raises(RehabError) as caught:
        services.clinician_set_active(clinician=clinic_admin, active=False, actor=None)
    assert caught.value.code == "last_admin"
    clinic_admin.user.refresh_from_db()
    assert clinic_admin.user.is_active


def test_granting_rights_lets_the_first_administrator_step_down(
    admin_dashboard, clinic_admin, clinician
):
    response = admin_dashboard.post(member_url(clinician), {"action": "grant_admin"})
    assert response.status_code == 302
    clinician.refresh_from_db()
    assert clinician.is_clinic_admin

    response = admin_dashboard.post(member_url(clinic_admin), {"action": "remove_admin"})
    assert response.status_code == 302
    assert response["Location"] == reverse("clinicians:today")
    clinic_admin.refresh_from_db()
    assert not clinic_admin.is_clinic_admin
    assert admin_dashboard.get(TEAM).status_code == 403


def test_an_unknown_action_changes_nothing(admin_dashboard, clinician):
    response = admin_dashboard.post(member_url(clinician), {"action": "delete_everything"})
    assert response.status_code == 400
    clinician.refresh_from_db()
    assert clinician.user.is_active
    assert not clinician.is_clinic_admin


# --- API keys ------------------------------------------------------------------------------------


def test_new_api_key_is_shown_once_and_works_against_the_api(admin_dashboard, client_factory):
    response = admin_dashboard.post(KEYS, {"name": "Patient record system"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    raw = re.search(r'id="new-api-key" value="(rw_[^"]+)"', body).group(1)
    assert "it will not be shown again" in body
    api_key = ApiKey.objects.get(name="Patient record system")
    assert raw.startswith(f"rw_{api_key.prefix}_")
    assert raw not in api_key.key_hash

    assert raw not in admin_dashboard.get(KEYS).content.decode()
    assert api_get(client_factory(), raw).status_code == 200


def test_revoked_key_is_refused_by_the_api(admin_dashboard, clinic, client_factory):
    api_key, raw = services.api_key_create(clinic=clinic, name="EHR", actor=None)
    assert api_get(client_factory(), raw).status_code == 200

    confirm = admin_dashboard.get(revoke_url(api_key))
    assert confirm.status_code == 200
    assert "Revoke the key" in confirm.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is None  # asking is not revoking

    response = admin_dashboard.post(revoke_url(api_key))
    assert response.status_code == 302
    assert response["Location"] == KEYS
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert api_get(client_factory(), raw).status_code == 401
    assert "Revoked</span>" in admin_dashboard.get(KEYS).content.decode()


@freeze_time("2026-03-02 12:00:00")
def test_key_expiry_is_the_end_of_the_chosen_day_in_clinic_time(admin_dashboard, clinic):
    response = admin_dashboard.post(KEYS, {"name": "Trial", "expires_at": "2026-06-30"})
    assert response.status_code == 201
    expires = ApiKey.objects.get(name="Trial").expires_at
    zone = zoneinfo.ZoneInfo(clinic.timezone)
    assert expires == dt.datetime(2026, 7, 1, tzinfo=zone)


@freeze_time("2026-03-02 12:00:00")
def test_key_expiring_in_the_past_is_a_field_error(admin_dashboard):
    response = admin_dashboard.post(KEYS, {"name": "Old", "expires_at": "2026-02-01"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_expires_at_error"' in body
    assert 'value="Old"' in body
    assert not ApiKey.objects.filter(name="Old").exists()


def test_key_needs_a_name(admin_dashboard):
    response = admin_dashboard.post(KEYS, {"name": ""})
    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode()
    assert not ApiKey.objects.exists()


def test_key_list_shows_status_and_creator(admin_dashboard, clinic, clinic_admin):
    used, _ = services.api_key_create(clinic=clinic, name="EHR", actor=clinic_admin.user)
    used.last_used_at = timezone.now()
    used.save()
    old, _ = services.api_key_create(clinic=clinic, name="Old", actor=None)
    services.api_key_revoke(api_key=old, actor=None)
    body = admin_dashboard.get(KEYS).content.decode()
    assert f"rw_{used.prefix}_" in body
    assert "In use</span>" in body
    assert "Revoked</span>" in body
    assert revoke_url(used) in body
    assert revoke_url(old) not in body


def test_api_key_list_costs_the_same_queries_for_few_or_many_keys(
    admin_dashboard, clinic, clinic_admin, django_assert_num_queries
):
    services.api_key_create(clinic=clinic, name="First", actor=clinic_admin.user)
    admin_dashboard.get(KEYS)  # the first request after signing in also saves the session
    # session, user, clinician with clinic, the keys with their creators
    with django_assert_num_queries(4):
        admin_dashboard.get(KEYS)
    for n in range(5):
        services.api_key_create(clinic=clinic, name=f"Key {n}", actor=clinic_admin.user)
    with django_assert_num_queries(4):
        response = admin_dashboard.get(KEYS)
    assert response.content.decode().count("Revoke<span") == 6


# --- No clinic learns of, or blocks, another clinic's accounts -----------------------------------


def sign_in(username: str, password: str = "pw") -> int:
    return (
        Client()
        .post(reverse("clinicians:login"), {"username": username, "password": password})
        .status_code
    )


def test_an_address_taken_in_another_clinic_looks_like_any_new_address(
    admin_dashboard, foreign_clinician
):
    taken = admin_dashboard.post(
        TEAM, new_clinician(email=foreign_clinician.user.email.upper()), follow=True
    )
    fresh = admin_dashboard.post(
        TEAM, new_clinician(first_name="Ola", email="ola@example.org"), follow=True
    )
    assert taken.status_code == fresh.status_code == 200
    address = foreign_clinician.user.email
    said = [str(m) for m in taken.context["messages"]]
    assert [m.lower() for m in said] == [
        f"nia okafor was added. a link to choose a password was e-mailed to {address}."
    ]
    assert "already" not in taken.content.decode()
    # The address's owner is told, with no link that would set a password for the new account.
    notice, welcome = mail.outbox
    assert [to.lower() for to in notice.to] == [address]
    assert "already has a Retrowalk account" in notice.body
    assert "password-reset" not in notice.body
    assert "password-reset" in welcome.body
    # A new link for the new account also goes nowhere near a password.
    added = Clinician.objects.get(user__first_name="Nia")
    services.clinician_send_password_link(clinician=added, actor=None)
    assert "already has a Retrowalk account" in mail.outbox[-1].body
    # The owner still signs in with the address, in any case.
    assert sign_in(foreign_clinician.user.email) == 302
    assert sign_in(foreign_clinician.user.email.upper()) == 302


def test_a_username_cannot_be_another_clinics_address(admin_dashboard, foreign_clinician):
    address = foreign_clinician.user.email
    response = admin_dashboard.post(TEAM, new_clinician(username=address))
    assert response.status_code == 400
    assert 'id="id_username_error"' in response.content.decode()
    assert not User.objects.filter(username=address).exclude(pk=foreign_clinician.user.pk).exists()
    assert sign_in(address) == 302


def test_an_account_named_like_someone_elses_address_does_not_take_their_sign_in(
    foreign_clinician,
):
    # Made before usernames were checked: a username that is another account's address, with
    # the same password, so a sign-in that reached it would succeed as the wrong person.
    UserFactory(username=foreign_clinician.user.email, email="impostor@example.org")
    browser = Client()
    browser.post(
        reverse("clinicians:login"),
        {"username": foreign_clinician.user.email, "password": "pw"},
    )
    assert browser.session["_auth_user_id"] == str(foreign_clinician.user.pk)
