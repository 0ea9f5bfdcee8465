"""Personal API tokens: stored as hashes, expiring, and ended by a password change or reset and
by deactivation (a reactivated account gets none back)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection
from django.test import Client
from freezegun import freeze_time
from rest_framework.test import APIClient

from rehab import services
from rehab.models import PersonalToken
from tests.factories import ClinicianFactory, UserFactory, force_login_verified

R = "/api/v1"


def get_token(user, password: str = "pw") -> str:
    response = APIClient().post(
        f"{R}/auth/token/", {"username": user.username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token"}
    return response.json()["token"]


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def plans(token: str) -> int:
    return with_token(token).get(f"{R}/plans/").status_code


@pytest.fixture
def patient_user(world):
    return world.patient_a.user


def test_only_a_hash_of_the_token_is_stored(patient_user):
    token = get_token(patient_user)
    assert plans(token) == 200
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')
            assert not any(token in str(value) for row in cursor.fetchall() for value in row), table
    stored = PersonalToken.objects.get(user=patient_user)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()


def test_each_request_gives_a_new_token_and_revoking_one_keeps_the_other(patient_user):
    phone, tablet = get_token(patient_user), get_token(patient_user)
    assert phone != tablet
    assert with_token(phone).delete(f"{R}/auth/token/").status_code == 204
    assert plans(phone) == 401
    assert plans(tablet) == 200


def test_a_token_expires_after_the_configured_days(patient_user, settings):
    settings.API_TOKEN_DAYS = 3
    with freeze_time("2026-03-02 09:00"):
        token = get_token(patient_user)
    with freeze_time("2026-03-05 08:59"):
        assert plans(token) == 200
    with freeze_time("2026-03-05 09:01"):
        response = with_token(token).get(f"{R}/plans/")
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_a_password_reset_ends_the_tokens(patient_user):
    token = get_token(patient_user)
    client = Client()
    client.post("/portal/password-reset/", {"email": patient_user.email})
    path = re.search(r"(/portal/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(path).url
    client.post(
        form_url, {"new_password1": "a-long-new-walk-7", "new_password2": "a-long-new-walk-7"}
    )
    response = with_token(token).get(f"{R}/plans/")
    assert response.status_code == 401
    assert "password changed" in response.json()["message"]
    assert plans(get_token(patient_user, "a-long-new-walk-7")) == 200


def test_a_password_set_in_the_django_admin_ends_the_tokens(patient_user):
    token = get_token(patient_user)
    admin = Client()
    force_login_verified(admin, UserFactory(is_staff=True, is_superuser=True))
    response = admin.post(
        f"/admin/rehab/user/{patient_user.pk}/password/",
        {"password1": "a-long-new-walk-7", "password2": "a-long-new-walk-7"},
    )
    assert response.status_code == 302
    assert plans(token) == 401


def test_a_deactivated_clinician_gets_no_token_back_on_reactivation(db):
    member = ClinicianFactory()
    admin = ClinicianFactory(clinic=member.clinic, is_clinic_admin=True).user
    token = get_token(member.user)
    assert with_token(token).get(f"{R}/patients/").status_code == 200
    services.clinician_set_active(clinician=member, active=False, actor=admin)
    services.clinician_set_active(clinician=member, active=True, actor=admin)
    assert with_token(token).get(f"{R}/patients/").status_code == 401
    assert with_token(get_token(member.user)).get(f"{R}/patients/").status_code == 200


def test_deactivating_in_the_django_admin_revokes_the_tokens(patient_user):
    token = get_token(patient_user)
    admin = Client()
    force_login_verified(admin, UserFactory(is_staff=True, is_superuser=True))
    response = admin.get(f"/admin/rehab/user/{patient_user.pk}/change/")
    form = response.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update({"is_active": "", "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00"})
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data["groups"] = []
    data["user_permissions"] = []
    assert admin.post(f"/admin/rehab/user/{patient_user.pk}/change/", data).status_code == 302
    patient_user.refresh_from_db()
    patient_user.is_active = True
    patient_user.save()
    assert plans(token) == 401


def test_clear_tokens_of_an_older_installation_are_hashed_by_the_migration(patient_user):
    migration = __import__("rehab.migrations.0014_personal_tokens", fromlist=["hash_old_tokens"])
    now = dt.datetime.now(dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, "
            "user_id bigint)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s), (%s, %s, %s)",
            [
                *("a" * 40, now - dt.timedelta(days=2), patient_user.pk),
                *("b" * 40, now - dt.timedelta(days=400), patient_user.pk),
            ],
        )
    migration.hash_old_tokens(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    assert plans("a" * 40) == 200
    assert plans("b" * 40) == 401  # older than API_TOKEN_DAYS: ended
