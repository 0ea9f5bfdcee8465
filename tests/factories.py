"""factory_boy factories and small builders shared by the Django-side tests."""

from __future__ import annotations

import datetime as dt

import factory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from rehab import services
from rehab.clinical import levels as L
from rehab.clinical import screening as clinical_screening
from rehab.models import Clinic, Clinician, Patient, Protocol, User

TODAY = dt.date(2026, 3, 2)  # a Monday, far from DST changes


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    timezone = "Europe/London"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"User{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw")


class ClinicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinician

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Patient{n}")
    condition = L.KNEE_OA
    timezone = "Europe/London"
    email = factory.LazyAttribute(lambda p: f"{p.last_name.lower()}@example.org")


def clean_answers(condition: str, **overrides) -> dict:
    """A complete answer set with no finding for the condition, plus overrides."""
    return {**clinical_screening.negative_answers(condition), **overrides}


def builtin_protocol(condition: str = L.KNEE_OA) -> Protocol:
    if not Protocol.objects.filter(clinic__isnull=True).exists():
        services.protocol_library_load()
    return Protocol.objects.filter(clinic__isnull=True, condition=condition).first()


def screened_patient(*, today: dt.date = TODAY, actor=None, **answer_overrides) -> Patient:
    patient = PatientFactory()
    services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, **answer_overrides),
        actor=actor,
        today=today,
    )
    return patient


def active_plan(
    *, today: dt.date = TODAY, auto_apply: bool = False, actor=None, **answer_overrides
):
    patient = screened_patient(today=today, actor=actor, **answer_overrides)
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=actor,
        start_date=today,
        auto_apply=auto_apply,
        today=today,
    )


def good_session(**overrides) -> dict:
    """Keyword arguments of a session that meets every advance criterion."""
    values = {
        "minutes_done": 30,
        "pain_before": 2,
        "pain_worst": 3,
        "pain_after": 2,
        "effort": 3,
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "speed_kmh": 1.5,
    }
    values.update(overrides)
    return values


def authenticator_for(user) -> TOTPDevice:
    """A confirmed authenticator app for `user` (django-otp's TOTP device)."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_code(device: TOTPDevice, *, offset: int = 0) -> str:
    """The 6-digit code the person's phone shows now (`offset` steps of 30 s away), computed
    with django-otp's own RFC 6238 implementation from the device's secret."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def force_login_verified(client, user) -> TOTPDevice:
    """Sign `client` in as `user` with a session that passed the second step, as the sign-in
    page leaves it after a right code (what the admin asks of staff outside DEBUG)."""
    device = authenticator_for(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
