"""Signing in and out of both doors: username or e-mail, lockout, password reset, idle timeout."""

import re

import pytest
from django.core import mail
from freezegun import freeze_time

from tests.factories import ClinicianFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

DOORS = [("clinicians", "/clinic/"), ("patients", "/portal/")]


@pytest.fixture
def priya(db):
    return ClinicianFactory(user__username="priya", user__email="Priya@Example.org").user


def sign_in(client, username, password="pw", door="/clinic/"):
    return client.post(f"{door}login/", {"username": username, "password": password})


@pytest.mark.parametrize("username", ["priya", "priya@example.org", "PRIYA@EXAMPLE.ORG"])
def test_a_clinician_signs_in_with_username_or_email(client, priya, username):
    response = sign_in(client, username)
    assert response.status_code == 302
    assert response["Location"] == "/clinic/"
    assert client.get("/clinic/").status_code == 200


def test_a_shared_email_address_signs_in_nobody(client, priya):
    UserFactory(username="other", email="priya@example.org")
    response = sign_in(client, "priya@example.org")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()


def test_a_wrong_password_says_so_and_keeps_the_username(client, priya):
    response = sign_in(client, "priya", password="nope")
    html = response.content.decode()
    assert response.status_code == 200
    assert "do not match an account" in html
    assert 'value="priya"' in html


def test_a_patient_signs_in_at_the_portal_with_their_email(client):
    patient = PatientFactory(user=UserFactory(email="maria@example.org"))
    response = sign_in(client, "maria@example.org", door="/portal/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert patient.user.pk == int(client.session["_auth_user_id"])


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, priya, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "priya", password="wrong")
    response = sign_in(client, "priya")
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_ends_after_the_cooloff(client, priya, settings):
    with freeze_time("2026-03-02 09:00"):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, "priya", password="wrong")
    with freeze_time("2026-03-02 09:16"):
        assert sign_in(client, "priya").status_code == 302


def test_a_success_forgives_earlier_failures(client, priya, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "priya", password="wrong")
    assert sign_in(client, "priya").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "priya", password="wrong")
    assert sign_in(client, "priya").status_code == 302


@pytest.mark.parametrize(("door", "prefix"), DOORS)
def test_password_reset_by_email_sets_a_new_password(client, priya, door, prefix):
    if door == "patients":
        PatientFactory(user=priya, clinic=priya.clinician.clinic)
        priya.clinician.delete()
    response = client.post(f"{prefix}password-reset/", {"email": "priya@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/password-reset/\S+/", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    assert path.startswith(prefix)
    form_url = client.get(path).url  # Django swaps the token for a session-held one
    response = client.post(
        form_url, {"new_password1": "a-long-new-walk-7", "new_password2": "a-long-new-walk-7"}
    )
    assert response.status_code == 302
    assert sign_in(client, "priya", password="a-long-new-walk-7", door=prefix).status_code == 302
    # The link works once.
    assert "no longer works" in client.get(path, follow=True).content.decode()


def test_password_reset_for_an_unknown_address_reveals_nothing(client, priya):
    response = client.post("/clinic/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_a_weak_new_password_is_refused_with_the_reason(client, priya):
    client.post("/clinic/password-reset/", {"email": "priya@example.org"})
    path = re.search(r"(/clinic/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(path).url
    response = client.post(form_url, {"new_password1": "password", "new_password2": "password"})
    assert response.status_code == 200
    assert "too common" in response.content.decode()


def test_a_session_ends_after_thirty_idle_minutes(client, priya, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    with freeze_time("2026-03-02 09:00"):
        sign_in(client, "priya")
    with freeze_time("2026-03-02 09:29"):
        assert client.get("/clinic/").status_code == 200
    with freeze_time("2026-03-02 10:05"):
        response = client.get("/clinic/")
    assert response.status_code == 302
    assert response.url.startswith("/clinic/login/")


def test_an_active_session_is_extended(client, priya):
    with freeze_time("2026-03-02 09:00"):
        sign_in(client, "priya")
    for minute in (20, 40, 59):  # a request every 20 minutes keeps it going for an hour
        with freeze_time(f"2026-03-02 09:{minute:02d}"):
            assert client.get("/clinic/").status_code == 200


def test_a_patient_who_opens_the_dashboard_is_sent_to_the_portal(client):
    patient = PatientFactory(user=UserFactory())
    client.force_login(patient.user)
    response = client.get("/clinic/")
    assert response.status_code == 302
    assert response.url == "/portal/"


def test_a_clinician_who_opens_the_portal_is_sent_to_the_dashboard(dashboard):
    response = dashboard.get("/portal/")
    assert response.status_code == 302
    assert response.url == "/clinic/"


def test_an_account_with_neither_role_is_refused(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/clinic/").status_code == 403
    assert client.get("/portal/").status_code == 403


def test_signing_out_ends_the_session(dashboard):
    assert dashboard.post("/clinic/logout/").status_code == 302
    assert dashboard.get("/clinic/").status_code == 302


def test_a_sign_in_from_code_starts_the_idle_clock_too(client, priya):
    """login() outside a page (an invitation accepted, a test's force_login) stamps the
    session itself, so its first page costs no extra session write."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(priya)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/clinic/protocols/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_signed_in_pages_are_never_stored_by_the_browser(dashboard):
    assert dashboard.get("/clinic/protocols/")["Cache-Control"] == "private, no-store"
    # Any response, not only pages (the health probes are answered before sessions are read).
    assert dashboard.get("/no-such-page/")["Cache-Control"] == "private, no-store"
    dashboard.logout()
    assert not dashboard.get("/no-such-page/").has_header("Cache-Control")
