"""A small world for API tests: two clinics, their people and keys, and patient A's records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from rehab import services
from rehab.models import AuditEvent, Reminder
from tests.factories import (
    ClinicFactory,
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)


@dataclass
class World:
    clinic1: object
    clinic2: object
    clients: dict
    patient_a: object
    patient_b: object
    screening: object
    plan: object
    session: object
    decision: object
    outcome: object
    reminder: object
    key1: str
    patient_c: object
    copy: object
    builtin: object
    audit_event: object
    report: object


def _session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _key_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def world(db) -> World:
    clinic1, clinic2 = ClinicFactory(slug="one"), ClinicFactory(slug="two")
    clinician1 = ClinicianFactory(clinic=clinic1)
    admin1 = ClinicianFactory(clinic=clinic1, is_clinic_admin=True)
    clinician2 = ClinicianFactory(clinic=clinic2)
    patient_a = PatientFactory(clinic=clinic1, user=UserFactory())
    patient_b = PatientFactory(clinic=clinic1, user=UserFactory())
    actor = clinician1.user
    today = patient_a.local_today()
    start = today - dt.timedelta(days=3)
    screening = services.screening_submit(
        patient=patient_a, answers=clean_answers(patient_a.condition), actor=actor, today=start
    )
    plan = services.plan_assign(
        patient=patient_a, protocol=builtin_protocol(), actor=actor, start_date=start, today=start
    )
    session = services.session_log(
        plan=plan, actor=actor, date=start, today=start, **good_session(minutes_done=10)
    )
    services.session_evaluate(session_id=session.pk)  # as the worker would
    services.plan_set_level(plan=plan, level=1, actor=actor, reason="Strong start", today=start)
    # An advance suggestion awaiting approval, so approve/reject have something to act on.
    decision = plan.decisions.create(
        evaluated_on=today,
        trigger="manual",
        outcome="advance",
        from_level=1,
        to_level=2,
        reasons=[{"code": "criteria_met", "text": "Ready", "outcome": "advance"}],
        status="pending",
    )
    outcome = services.outcome_record(
        patient=patient_a, measure="nprs", answers={"score": 5}, actor=actor
    )
    reminder = Reminder.objects.create(
        patient=patient_a,
        plan=plan,
        due_date=today,
        channel="email",
        scheduled_for=dt.datetime.now(dt.UTC),
        status="sent",
    )
    # Patient C is screened and waiting for a plan.
    patient_c = PatientFactory(clinic=clinic1)
    services.screening_submit(
        patient=patient_c, answers=clean_answers(patient_c.condition), actor=actor
    )
    builtin = builtin_protocol()
    copy = services.protocol_copy(protocol=builtin, clinic=clinic1, actor=actor)
    audit_event = AuditEvent.objects.filter(clinic=clinic1).first()
    report = services.report_request(patient=patient_a, audience="patient", actor=actor)
    services.report_render(report_id=report.pk)
    _, key1 = services.api_key_create(clinic=clinic1, name="EHR", actor=None)
    _, key2 = services.api_key_create(clinic=clinic2, name="EHR", actor=None)
    revoked, revoked_raw = services.api_key_create(clinic=clinic1, name="Old", actor=None)
    services.api_key_revoke(api_key=revoked, actor=None)
    clients = {
        "anonymous": APIClient(),
        "patient_a": _session_client(patient_a.user),
        "patient_b": _session_client(patient_b.user),
        "clinician1": _session_client(clinician1.user),
        "admin1": _session_client(admin1.user),
        "clinician2": _session_client(clinician2.user),
        "key1": _key_client(key1),
        "key2": _key_client(key2),
        "revoked_key": _key_client(revoked_raw),
    }
    return World(
        clinic1,
        clinic2,
        clients,
        patient_a,
        patient_b,
        screening,
        plan,
        session,
        decision,
        outcome,
        reminder,
        key1,
        patient_c,
        copy,
        builtin,
        audit_event,
        report,
    )


@pytest.fixture
def api(world):
    return world.clients["key1"]
