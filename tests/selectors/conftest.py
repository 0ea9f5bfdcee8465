"""The selectors' tests build their rows with the services' fixtures (a clinician of one clinic,
a patient of theirs, a clinic protocol with four known levels, a plan on it), and with
`episode`: a patient's whole record, so that a selector has another patient's and another
clinic's rows to leave out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from rehab import services
from rehab.access import Principal, principal_for_api_key, principal_for_user
from rehab.models import Patient, Plan, Reminder
from tests.factories import (
    ClinicFactory,
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)
from tests.services import conftest as services_fixtures

# The services' fixtures, as they are.
actor = services_fixtures.actor
auto_plan = services_fixtures.auto_plan
clinic = services_fixtures.clinic
clinician = services_fixtures.clinician
ladder = services_fixtures.ladder
patient = services_fixtures.patient
plan = services_fixtures.plan
screened = services_fixtures.screened
stranger = services_fixtures.stranger


def episode(clinic, actor, *, last_name: str = "Walker") -> Plan:
    """A patient with a portal account and one of everything: a screening, a plan, a session
    (and the decision its evaluation records), an outcome, a note, a reminder and both reports."""
    patient = PatientFactory(clinic=clinic, last_name=last_name, user=UserFactory())
    today = patient.local_today()
    start = today - dt.timedelta(days=3)
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
    session = services.session_log(
        plan=plan, actor=actor, date=start, today=today, **good_session()
    )
    services.session_evaluate(session_id=session.pk)  # the worker's part, done
    services.outcome_record(patient=patient, measure="nprs", answers={"score": 5}, actor=actor)
    services.clinical_note_add(patient=patient, actor=actor, noted_on=today, text="Seen")
    Reminder.objects.create(
        patient=patient,
        plan=plan,
        due_date=today,
        channel=Patient.Channel.EMAIL,
        scheduled_for=timezone.now(),
    )
    for audience in ("clinician", "patient"):
        services.report_request(patient=patient, audience=audience, actor=actor)
    return plan


@dataclass(frozen=True)
class Clinics:
    """Two patients of our clinic (ours and a neighbour) and one of another clinic."""

    ours: Plan
    neighbour: Plan
    elsewhere: Plan
    clinician: Principal
    admin: Principal
    api_key: Principal
    patient: Principal  # ours, signed in to the portal


@pytest.fixture
def clinics(clinician) -> Clinics:
    clinic = clinician.clinic
    admin = ClinicianFactory(clinic=clinic, is_clinic_admin=True)
    other = ClinicianFactory(clinic=ClinicFactory(name="Elsewhere"))
    ours = episode(clinic, clinician.user, last_name="Ours")
    api_key, _ = services.api_key_create(clinic=clinic, name="EHR", actor=admin.user)
    return Clinics(
        ours=ours,
        neighbour=episode(clinic, clinician.user, last_name="Neighbour"),
        elsewhere=episode(other.clinic, other.user, last_name="Elsewhere"),
        clinician=principal_for_user(clinician.user),
        admin=principal_for_user(admin.user),
        api_key=principal_for_api_key(api_key),
        patient=principal_for_user(ours.patient.user),
    )
