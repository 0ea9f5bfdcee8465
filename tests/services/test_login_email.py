"""One e-mail address per patient: the record's is the one they sign in and reset their password
with, whether it is changed in the dashboard, through the API or by the demo data."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from rehab import migrations, services
from rehab.errors import RehabError
from rehab.models import AuditEvent, Patient, User
from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory, UserFactory


@pytest.fixture
def clinician(db):
    return ClinicianFactory(clinic=ClinicFactory(name="Riverside Physiotherapy"))


@pytest.fixture
def maria(clinician):
    """Maria's portal account, made as an invitation makes it: the address is the username."""
    user = UserFactory(username="maria@old.example", email="maria@old.example")
    return PatientFactory(clinic=clinician.clinic, email="maria@old.example", user=user)


def test_changing_the_records_address_changes_the_login_too(maria, clinician, rf):
    services.patient_update(patient=maria, actor=clinician.user, email="maria@new.example")
    user = User.objects.get(pk=maria.user_id)
    assert user.email == "maria@new.example"
    # The old address was her username: it no longer signs in either.
    assert user.username == "maria@new.example"
    request = rf.post("/portal/login/")
    assert authenticate(request, username="maria@new.example", password="pw") == user
    assert authenticate(request, username="maria@old.example", password="pw") is None
    event = AuditEvent.objects.get(action="portal.login_email")
    assert event.patient == maria
    assert event.detail == {"fields": ["email", "username"]}
    assert "example" not in str(event.detail)


def test_a_password_reset_reaches_the_new_address(client, maria, clinician):
    services.patient_update(patient=maria, actor=clinician.user, email="maria@new.example")
    client.post(reverse("patients:password_reset"), {"email": "maria@new.example"})
    assert [message.to for message in mail.outbox] == [["maria@new.example"]]


def test_a_username_of_its_own_is_kept(clinician):
    patient = PatientFactory(
        clinic=clinician.clinic,
        email="sam@old.example",
        user=UserFactory(username="sam", email="sam@old.example"),
    )
    services.patient_update(patient=patient, actor=clinician.user, email="sam@new.example")
    user = User.objects.get(pk=patient.user_id)
    assert (user.username, user.email) == ("sam", "sam@new.example")


def test_an_address_another_login_uses_is_a_field_error_and_nothing_changes(maria, clinician):
    UserFactory(username="someone", email="Taken@Example.org")
    with pytest.raises(RehabError) as refused:
        services.patient_update(
            patient=maria, actor=clinician.user, email="taken@example.org", phone="123"
        )
    assert "email" in refused.value.fields
    maria.refresh_from_db()
    assert (maria.email, maria.phone) == ("maria@old.example", "")
    assert User.objects.get(pk=maria.user_id).email == "maria@old.example"


def test_the_address_of_a_patient_who_signs_in_cannot_be_removed(maria, clinician):
    with pytest.raises(RehabError) as refused:
        services.patient_update(patient=maria, actor=clinician.user, email="")
    assert "email" in refused.value.fields
    assert User.objects.get(pk=maria.user_id).email == "maria@old.example"


def test_a_patient_without_a_login_changes_only_the_record(clinician):
    patient = PatientFactory(clinic=clinician.clinic, email="x@old.example")
    UserFactory(email="x@new.example")  # someone else's login: no clash for a record alone
    services.patient_update(patient=patient, actor=clinician.user, email="x@new.example")
    patient.refresh_from_db()
    assert patient.email == "x@new.example"


def test_the_dashboard_shows_the_clash_on_the_field_with_everything_typed(client, maria, clinician):
    UserFactory(email="taken@example.org")
    client.force_login(clinician.user)
    data = {
        "first_name": "Maria",
        "last_name": "Typed",
        "email": "taken@example.org",
        "timezone": "Europe/London",
        "condition": maria.condition,
        "reminder_channel": "email",
        "reminder_time": "09:00",
    }
    response = client.post(reverse("clinicians:patient_edit", args=[maria.pk]), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_email_error"' in page
    assert "Another account already signs in with this e-mail address" in page
    assert 'value="Typed"' in page
    assert Patient.objects.get(pk=maria.pk).last_name != "Typed"


def test_the_api_answers_400_with_the_field_and_updates_both_when_free(maria, clinician):
    UserFactory(email="taken@example.org")
    _, key = services.api_key_create(clinic=clinician.clinic, name="EHR", actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    url = f"/api/v1/patients/{maria.pk}/"
    refused = api.patch(url, {"email": "taken@example.org"}, format="json")
    assert refused.status_code == 400
    assert "email" in refused.json()["fields"]
    changed = api.patch(url, {"email": "maria@new.example"}, format="json")
    assert changed.status_code == 200
    assert User.objects.get(pk=maria.user_id).email == "maria@new.example"


def test_the_migration_puts_drifted_logins_back_in_step(clinician):
    drifted = PatientFactory(
        clinic=clinician.clinic,
        email="maria.lopez@example.org",
        user=UserFactory(username="maria", email="maria@riverside.example"),
    )
    clash = PatientFactory(
        clinic=clinician.clinic,
        email="shared@example.org",
        user=UserFactory(username="ben", email="ben@example.org"),
    )
    UserFactory(email="shared@example.org")
    # By its name's end: the number may change when branches are merged.
    (path,) = Path(migrations.__file__).parent.glob("*_keep_input.py")
    migration = importlib.import_module(f"rehab.migrations.{path.stem}")
    migration.login_email_follows_record(apps, None)
    assert User.objects.get(pk=drifted.user_id).email == "maria.lopez@example.org"
    # An address another login uses is left for the clinic to sort out.
    assert User.objects.get(pk=clash.user_id).email == "ben@example.org"
