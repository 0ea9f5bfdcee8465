"""Two-step sign-in for staff: enrolment with a real authenticator code, the code step after
the password, recovery codes, the clinic's requirement, the Django admin outside DEBUG, the API
token, and patients left alone."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from axes.models import AccessAttempt
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from rehab import two_step
from rehab.models import AuditEvent
from tests.factories import (
    ClinicFactory,
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    authenticator_for,
    current_code,
    force_login_verified,
)

pytestmark = pytest.mark.django_db

CODES = re.compile(r"<li><code>([a-z2-7]{8})</code></li>")


@pytest.fixture
def priya(clinic):
    return ClinicianFactory(clinic=clinic, user__username="priya").user


@pytest.fixture
def enrolled(priya):
    """Priya with an authenticator and her ten recovery codes, set up half a minute ago: a
    code is accepted once (django-otp refuses a replay of the same 30-second step), so the
    test's sign-in needs the code the app shows now, as it would in life."""
    with freeze_time(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)):
        device = two_step.two_step_enrol_start(user=priya)
        device, codes = two_step.two_step_enrol_confirm(
            user=priya, code=current_code(device), actor=priya
        )
    return device, codes


def sign_in(client, username="priya", password="pw", door="/clinic/", **extra):
    return client.post(f"{door}login/", {"username": username, "password": password, **extra})


def send_code(client, code, door="/clinic/"):
    return client.post(f"{door}login/code/", {"code": code})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Enrolment ---------------------------------------------------------------------------------


def test_a_clinician_enrols_with_a_code_from_the_app_and_gets_ten_recovery_codes(client, priya):
    client.force_login(priya)
    page = client.get("/clinic/account/two-step/set-up/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html  # the QR code
    device = TOTPDevice.objects.get(user=priya, confirmed=False)
    # The secret in text, for people who type it, and the otpauth:// address.
    assert "otpauth://totp/" in html
    assert page["Cache-Control"] == "no-store"
    # Reloading shows the same secret: the phone that scanned it stays right.
    assert (
        client.get("/clinic/account/two-step/set-up/")
        .content.decode()
        .count(device.config_url.replace("&", "&amp;"))
        == 1
    )

    response = client.post("/clinic/account/two-step/set-up/", {"code": current_code(device)})
    assert response.status_code == 201
    codes = CODES.findall(response.content.decode())
    assert len(set(codes)) == 10
    assert response["Cache-Control"] == "no-store"
    device.refresh_from_db()
    assert device.confirmed
    # The code just typed verifies this session too.
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    event = AuditEvent.objects.get(action="two_step.enrol")
    assert event.actor == priya
    assert event.clinic == priya.clinician.clinic
    assert device.key not in str(event.detail)


def test_a_wrong_code_at_enrolment_is_a_400_with_the_error_on_the_field(client, priya):
    client.force_login(priya)
    client.get("/clinic/account/two-step/set-up/")
    device = TOTPDevice.objects.get(user=priya)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = client.post("/clinic/account/two-step/set-up/", {"code": wrong})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_code_error"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_code_helptext id_code_error"' in html
    assert f'value="{wrong}"' in html  # the form keeps what was typed
    assert "<svg" in html  # and the QR code is still there to scan
    assert not TOTPDevice.objects.filter(user=priya, confirmed=True).exists()


@pytest.mark.parametrize("code", ["", "abc", "1" * 40, "12345\x00"])
def test_nonsense_at_enrolment_is_a_400_never_a_500(client, priya, code):
    client.force_login(priya)
    client.get("/clinic/account/two-step/set-up/")
    assert client.post("/clinic/account/two-step/set-up/", {"code": code}).status_code == 400


def test_an_enrolled_clinician_cannot_start_a_second_setup(client, priya, enrolled):
    client.force_login(priya)
    response = client.get("/clinic/account/two-step/set-up/")
    assert response.status_code == 302
    assert response["Location"] == "/clinic/account/two-step/"


# --- Signing in --------------------------------------------------------------------------------


def test_the_password_alone_does_not_sign_in_an_enrolled_clinician(client, enrolled):
    response = sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == "/clinic/login/code/"
    assert not signed_in(client)
    assert client.get("/clinic/").status_code == 302
    assert client.get("/api/v1/patients/").status_code in (401, 403)


def test_the_code_from_the_app_completes_the_sign_in(client, priya, enrolled):
    device, _ = enrolled
    sign_in(client, next="/clinic/patients/new/")
    page = client.get("/clinic/login/code/")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()
    response = send_code(client, current_code(device))
    assert response.status_code == 302
    assert response["Location"] == "/clinic/patients/new/"
    assert int(client.session["_auth_user_id"]) == priya.pk
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/clinic/").status_code == 200


def test_a_wrong_code_is_a_400_audited_without_the_code(client, enrolled):
    device, _ = enrolled
    sign_in(client)
    wrong = f"{(int(current_code(device)) + 7) % 1_000_000:06d}"
    response = send_code(client, wrong)
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not signed_in(client)
    event = AuditEvent.objects.get(action="two_step.code_failed")
    assert event.detail == {"kind": "authenticator", "throttled": False}
    assert wrong not in str(event.detail)


def test_wrong_codes_count_towards_the_lockout(client, enrolled, settings):
    device, _ = enrolled
    sign_in(client)
    with freeze_time() as frozen:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            frozen.tick(20)  # past the growing wait django-otp imposes (1, 2, 4, 8 s)
            assert send_code(client, "000000").status_code == 400
        assert AccessAttempt.objects.get(username="priya").failures_since_start == (
            settings.AXES_FAILURE_LIMIT - 1
        )
        frozen.tick(20)
        response = send_code(client, "000000")
        # The last failure locks the account: the lockout page, and the right password with
        # the right code is refused until the cool-off ends.
        assert response.status_code == 429
        frozen.tick(60)
        assert sign_in(client).status_code == 429
        assert send_code(client, current_code(device)).status_code == 302  # back to sign-in
        assert not signed_in(client)


def test_wrong_passwords_and_wrong_codes_add_up_to_the_lockout(client, enrolled, settings):
    device, _ = enrolled
    with freeze_time() as frozen:
        for _ in range(settings.AXES_FAILURE_LIMIT - 2):
            sign_in(client, password="wrong")
        sign_in(client)  # the right password does not forgive them: the sign-in is not done
        for _ in range(2):
            frozen.tick(20)
            send_code(client, "000000")
        frozen.tick(20)
        response = send_code(client, current_code(device))
        assert response.status_code == 429
        assert not signed_in(client)


def test_django_otp_throttles_a_quick_retry_after_a_wrong_code(client, enrolled):
    device, _ = enrolled
    with freeze_time() as frozen:
        sign_in(client)
        send_code(client, "000000")
        response = send_code(client, current_code(device))  # the same second
        assert response.status_code == 400
        assert "wait a few seconds" in response.content.decode()
        frozen.tick(5)
        assert send_code(client, current_code(device)).status_code == 302
    assert signed_in(client)


def test_a_recovery_code_signs_in_once(client, enrolled):
    _, codes = enrolled
    sign_in(client)
    response = send_code(client, codes[0].upper())
    assert response.status_code == 302
    assert signed_in(client)
    assert "9 left" in client.get("/clinic/").content.decode()
    assert AuditEvent.objects.get(action="two_step.recovery_used").detail == {"left": 9}

    client.logout()
    with freeze_time() as frozen:
        frozen.tick(60)
        sign_in(client)
        assert send_code(client, codes[0]).status_code == 400
        assert not signed_in(client)
        frozen.tick(60)
        assert send_code(client, codes[1]).status_code == 302


def test_the_code_page_without_a_password_first_sends_to_sign_in(client, enrolled):
    device, _ = enrolled
    response = send_code(client, current_code(device))
    assert response.status_code == 302
    assert response["Location"] == "/clinic/login/"
    assert not signed_in(client)


def test_a_password_step_is_forgotten_after_five_minutes(client, enrolled):
    device, _ = enrolled
    with freeze_time() as frozen:
        sign_in(client)
        frozen.tick(301)
        assert send_code(client, current_code(device))["Location"] == "/clinic/login/"
    assert not signed_in(client)


def test_a_clinician_without_an_authenticator_signs_in_with_the_password(client, priya):
    response = sign_in(client)
    assert response["Location"] == "/clinic/"
    assert signed_in(client)


def test_the_verified_state_survives_the_idle_clock(client, settings):
    """The idle timeout extends a session in use; the session keeps its second step with it,
    and ends with it."""
    settings.DEBUG = False
    staff = UserFactory(is_staff=True, is_superuser=True)
    start = time.time()
    with freeze_time() as frozen:
        force_login_verified(client, staff)
        for _ in range(3):
            frozen.tick(settings.SESSION_COOKIE_AGE - 60)
            assert client.get("/admin/").status_code == 200
        assert client.session["_seen"] > start
        frozen.tick(settings.SESSION_COOKIE_AGE + 1)
        assert client.get("/admin/").status_code == 302


# --- Recovery codes and removal -----------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(client, priya, enrolled):
    _, old = enrolled
    client.force_login(priya)
    response = client.post("/clinic/account/two-step/recovery-codes/")
    new = CODES.findall(response.content.decode())
    assert response.status_code == 200
    assert len(set(new)) == 10
    assert response["Cache-Control"] == "no-store"
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)
    assert not set(old) & set(new)
    assert AuditEvent.objects.filter(action="two_step.recovery_regenerate").count() == 1


def test_removing_asks_for_the_password(client, priya, enrolled):
    client.force_login(priya)
    response = client.post("/clinic/account/two-step/remove/", {"password": "nope"})
    assert response.status_code == 400
    assert "That is not your password" in response.content.decode()
    assert two_step.two_step_enrolled(user=priya)

    response = client.post("/clinic/account/two-step/remove/", {"password": "pw"})
    assert response.status_code == 302
    assert not two_step.two_step_enrolled(user=priya)
    assert not StaticToken.objects.exists()
    assert AuditEvent.objects.filter(action="two_step.remove").count() == 1
    client.logout()
    assert sign_in(client)["Location"] == "/clinic/"


def test_the_status_page_says_whether_it_is_on(client, priya):
    client.force_login(priya)
    assert "Set up two-step sign-in" in client.get("/clinic/account/two-step/").content.decode()


# --- The clinic's requirement ---------------------------------------------------------------------


def test_a_clinic_admin_requires_two_step_sign_in(client, clinic, clinic_admin, priya):
    client.force_login(clinic_admin.user)
    page = client.get("/clinic/team/two-step/")
    assert page.status_code == 200
    assert "Not yet" in page.content.decode()
    response = client.post("/clinic/team/two-step/", {"require_two_step": "on"})
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.require_two_step
    assert AuditEvent.objects.filter(action="clinic.two_step_required").count() == 1


def test_only_clinic_admins_change_the_requirement(client, clinic, priya):
    client.force_login(priya)
    assert client.post("/clinic/team/two-step/", {"require_two_step": "on"}).status_code == 403
    clinic.refresh_from_db()
    assert not clinic.require_two_step


@pytest.mark.parametrize(
    "path", ["/clinic/", "/clinic/patients/new/", "/clinic/protocols/", "/clinic/account/two-step/"]
)
def test_a_required_clinic_sends_a_clinician_without_an_authenticator_to_set_it_up(
    client, clinic, priya, path
):
    clinic.require_two_step = True
    clinic.save()
    sign_in(client)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/clinic/account/two-step/set-up/"
    # Once set up, the pages open.
    client.get("/clinic/account/two-step/set-up/")
    device = TOTPDevice.objects.get(user=priya)
    assert (
        client.post("/clinic/account/two-step/set-up/", {"code": current_code(device)}).status_code
        == 201
    )
    assert client.get(path).status_code == 200


def test_a_required_clinic_keeps_an_unverified_session_out_of_the_api(client, clinic, priya):
    clinic.require_two_step = True
    clinic.save()
    sign_in(client)  # the password alone: the dashboard sends them to set up the authenticator
    assert client.get("/api/v1/patients/").status_code == 403
    force_login_verified(client, priya)
    assert client.get("/api/v1/patients/").status_code == 200


def test_a_required_clinic_signs_out_a_session_without_its_second_step(client, clinic, priya):
    authenticator_for(priya)
    clinic.require_two_step = True
    clinic.save()
    client.force_login(priya)  # e.g. a session from before the authenticator was added
    response = client.get("/clinic/")
    assert response.status_code == 302
    assert response["Location"].startswith("/clinic/login/")
    assert not signed_in(client)


def test_patients_of_a_required_clinic_sign_in_with_their_password(client, clinic):
    clinic.require_two_step = True
    clinic.save()
    patient = PatientFactory(clinic=clinic, user=UserFactory(email="maria@example.org"))
    response = sign_in(client, "maria@example.org", door="/portal/")
    assert response["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    # The clinicians' two-step pages are not theirs.
    assert client.get("/clinic/account/two-step/")["Location"] == "/portal/"
    assert not TOTPDevice.objects.filter(user=patient.user).exists()


# --- The Django admin -----------------------------------------------------------------------------


def test_the_admin_refuses_a_superuser_without_a_second_step(client, settings):
    settings.DEBUG = False
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert "Set up two-step sign-in" in page.content.decode()
    assert client.get("/admin/rehab/patient/").status_code == 302


def test_the_admin_admits_a_superuser_verified_with_a_code(client, settings):
    settings.DEBUG = False
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.get("/admin/")
    # The admin's sign-in is the dashboard's, with its code step.
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/clinic/login/?next=%2Fadmin%2F"
    device = authenticator_for(staff)
    assert sign_in(client, "root", next="/admin/")["Location"] == "/clinic/login/code/"
    assert send_code(client, current_code(device))["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_superuser_sets_up_the_second_step_from_the_account_page(client, settings):
    settings.DEBUG = False
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/clinic/account/two-step/set-up/").status_code == 200
    device = TOTPDevice.objects.get(user=staff)
    response = client.post("/clinic/account/two-step/set-up/", {"code": current_code(device)})
    assert response.status_code == 201
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.get(action="two_step.enrol").clinic is None


def test_with_debug_on_the_admin_takes_the_password_alone(client, settings):
    settings.DEBUG = True
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200


# --- The API token --------------------------------------------------------------------------------


def token(client, **body):
    return client.post("/api/v1/auth/token/", body, content_type="application/json")


def test_the_api_refuses_a_token_for_the_password_alone(client, enrolled):
    response = token(client, username="priya", password="pw")
    assert response.status_code == 401
    assert response.json()["code"] == "otp_required"


def test_the_api_refuses_a_wrong_code_and_counts_it(client, enrolled):
    response = token(client, username="priya", password="pw", otp="000000")
    assert response.status_code == 401
    assert response.json()["code"] == "otp_invalid"
    assert AuditEvent.objects.filter(action="two_step.code_failed").count() == 1
    assert AccessAttempt.objects.get(username="priya").failures_since_start == 1


def test_the_api_gives_a_token_with_the_code(client, enrolled):
    device, _ = enrolled
    response = token(client, username="priya", password="pw", otp=current_code(device))
    assert response.status_code == 200
    assert response.json()["token"]


def test_the_api_refuses_a_token_to_a_required_clinic_clinician_without_an_authenticator(
    client, clinic, priya
):
    clinic.require_two_step = True
    clinic.save()
    response = token(client, username="priya", password="pw")
    assert response.status_code == 401
    assert response.json()["code"] == "two_step_setup_required"


def test_patients_get_a_token_with_the_password(client, clinic):
    clinic.require_two_step = True
    clinic.save()
    PatientFactory(clinic=clinic, user=UserFactory(username="maria"))
    assert token(client, username="maria", password="pw").status_code == 200


def test_the_otp_field_is_in_the_openapi_schema(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    field = schema["components"]["schemas"]["CredentialsRequest"]["properties"]["otp"]
    assert "two-step" in field["description"]
    assert "otp" not in schema["components"]["schemas"]["CredentialsRequest"]["required"]


def test_api_keys_are_unaffected(client, clinic):
    clinic.require_two_step = True
    clinic.save()
    from rehab import services

    _, raw = services.api_key_create(clinic=clinic, name="EHR", actor=None)
    response = client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert response.status_code == 200


def test_another_clinic_requiring_it_does_not_touch_this_one(client, priya):
    ClinicFactory(require_two_step=True)
    assert sign_in(client)["Location"] == "/clinic/"
    assert client.get("/clinic/").status_code == 200
