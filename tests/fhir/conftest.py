"""A small world for the FHIR door: two clinics, a clinic system's key for each, patient A with
a plan, sessions and a token of their own, patient B of the same clinic, patient Z of the other."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
from fhir.resources.R4B import get_fhir_model_class
from rest_framework.test import APIClient

from rehab import services
from rehab.clinical import levels as L
from tests.factories import (
    ClinicFactory,
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

FHIR_JSON = "application/fhir+json"


@dataclass
class World:
    clinic1: object
    clinic2: object
    clinician: object
    patient_a: object
    patient_b: object
    patient_z: object
    plan: object
    sessions: list
    key1: APIClient
    key2: APIClient
    token_a: APIClient
    anonymous: APIClient


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def assign_plan(patient, *, actor, start: dt.date, sessions: int = 0):
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=actor, today=start
    )
    plan = services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=actor,
        start_date=start,
        today=start,
    )
    logs = [
        services.session_log(
            plan=plan,
            actor=actor,
            date=start + dt.timedelta(days=day),
            today=start + dt.timedelta(days=day),
            **good_session(minutes_done=10),
        )
        for day in range(sessions)
    ]
    return plan, logs


@pytest.fixture
def world(db) -> World:
    return make_world()


def make_world() -> World:
    """The world's rows and clients; needs database access (the world fixture gives it)."""
    clinic1, clinic2 = ClinicFactory(slug="one", name="Clinic One"), ClinicFactory(slug="two")
    clinician = ClinicianFactory(
        clinic=clinic1, user=UserFactory(first_name="Ada", last_name="Lee")
    )
    patient_a = PatientFactory(
        clinic=clinic1,
        user=UserFactory(),
        first_name="Alex",
        last_name="Adams",
        date_of_birth=dt.date(1960, 5, 17),
        phone="+44 20 7946 0000",
        external_id="MRN-001",
    )
    patient_b = PatientFactory(clinic=clinic1, condition=L.CHRONIC_LOW_BACK_PAIN)
    patient_z = PatientFactory(clinic=clinic2, external_id="MRN-001")
    start = patient_a.local_today() - dt.timedelta(days=4)
    plan, sessions = assign_plan(patient_a, actor=clinician.user, start=start, sessions=3)
    assign_plan(patient_z, actor=None, start=start, sessions=1)
    _, raw1 = services.api_key_create(clinic=clinic1, name="EHR", actor=None)
    _, raw2 = services.api_key_create(clinic=clinic2, name="EHR", actor=None)
    _, token = services.personal_token_create(user=patient_a.user, clinic=clinic1)
    return World(
        clinic1=clinic1,
        clinic2=clinic2,
        clinician=clinician,
        patient_a=patient_a,
        patient_b=patient_b,
        patient_z=patient_z,
        plan=plan,
        sessions=sessions,
        key1=client_with(f"Api-Key {raw1}"),
        key2=client_with(f"Api-Key {raw2}"),
        token_a=client_with(f"Token {token}"),
        anonymous=APIClient(),
    )


def fhir_json(response, status: int = 200) -> dict:
    """The response's FHIR resource as JSON, after checking the status and the content type, and
    parsing it again with fhir.resources (R4B): what we emit is valid as a client reads it."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == f"{FHIR_JSON}; charset=utf-8"
    body = json.loads(response.content)
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    return body


def outcome(response, status: int, code: str) -> str:
    """An error response's OperationOutcome: one error issue with this code; its diagnostics."""
    body = fhir_json(response, status)
    assert body["resourceType"] == "OperationOutcome"
    [issue] = body["issue"]
    assert (issue["severity"], issue["code"]) == ("error", code)
    return issue["diagnostics"]


def entries(bundle: dict) -> list[str]:
    """A searchset Bundle's entries as "Type/id"."""
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert "total" not in bundle
    return [
        f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        for entry in bundle.get("entry", [])
    ]


KOOS_ANSWERS = {
    # Every item answered but Sport/Rec's: that subscale cannot be scored.
    **{f"S{i}": 1 for i in range(1, 8)},
    **{f"P{i}": 2 for i in range(1, 10)},
    **{f"A{i}": 1 for i in range(1, 18)},
    **{f"Q{i}": 3 for i in range(1, 5)},
}
PSFS_ANSWERS = {
    "activities": [
        {"activity": "Climbing stairs", "score": 4},
        {"activity": "Gardening", "score": 6},
        {"activity": "Walking the dog", "score": 5},
    ]
}


@dataclass
class Record:
    """The rest of the record: outcome scores of A (and one of Z), a session of B with a fall
    and chest pain, ready and pending reports of A, and a clinic administrator's client."""

    nprs: object
    koos: object
    psfs: object
    odi: object
    rmdq: object
    score_z: object
    plan_b: object
    unsafe: object
    report: object
    patient_report: object
    pending_report: object
    admin: APIClient
    admin_user: object


def ready_report(patient, *, audience: str, status: str = "ready"):
    from django.utils import timezone

    from rehab.models import Report

    today = patient.local_today()
    return Report.objects.create(
        patient=patient,
        clinic=patient.clinic,
        plan=patient.plans.first(),
        audience=audience,
        period_start=today - dt.timedelta(days=28),
        period_end=today,
        status=status,
        file_name=f"report-{audience}.pdf" if status == "ready" else "",
        size_bytes=2048 if status == "ready" else None,
        rendered_at=timezone.now() if status == "ready" else None,
    )


@pytest.fixture
def record(world) -> Record:
    from rehab.clinical.outcomes import RMDQ_ITEMS

    a, b, z = world.patient_a, world.patient_b, world.patient_z
    actor = world.clinician.user
    today = a.local_today()

    def score(patient, measure, answers, days_ago=0):
        return services.outcome_record(
            patient=patient,
            measure=measure,
            answers=answers,
            actor=actor if patient.clinic_id == world.clinic1.pk else None,
            taken_on=today - dt.timedelta(days=days_ago),
        )

    nprs = score(a, "nprs", {"score": 4}, days_ago=3)
    koos = score(a, "koos", KOOS_ANSWERS, days_ago=2)
    psfs = score(a, "psfs", PSFS_ANSWERS, days_ago=1)
    odi = score(a, "odi", {"total": 30})
    rmdq = score(b, "rmdq", {item: index % 3 == 0 for index, item in enumerate(RMDQ_ITEMS)})
    score_z = score(z, "nprs", {"score": 6})
    start = b.local_today() - dt.timedelta(days=2)
    plan_b, _ = assign_plan(b, actor=None, start=start)
    unsafe = services.session_log(
        plan=plan_b,
        actor=None,
        date=start,
        today=start,
        **good_session(minutes_done=5, fall=True, chest_pain=True),
    )
    admin_user = ClinicianFactory(clinic=world.clinic1, is_clinic_admin=True).user
    admin = APIClient()
    admin.force_login(admin_user)
    return Record(
        nprs=nprs,
        koos=koos,
        psfs=psfs,
        odi=odi,
        rmdq=rmdq,
        score_z=score_z,
        plan_b=plan_b,
        unsafe=unsafe,
        report=ready_report(a, audience="clinician"),
        patient_report=ready_report(a, audience="patient"),
        pending_report=ready_report(a, audience="clinician", status="pending"),
        admin=admin,
        admin_user=admin_user,
    )
