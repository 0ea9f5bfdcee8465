"""factory_boy factories and small builders shared by the Django-side tests."""

from __future__ import annotations

import datetime as dt

import factory

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
