"""A row (a patient, a plan, a logged session) as its FHIR resources, built with fhir.resources'
R4B models: each is validated as it is made, so a resource that breaks the specification fails
here, in our tests, not in a clinic's system.

Ids are ours: a Patient's and its Condition's are the patient's id, a CarePlan's and its
ServiceRequest's the plan's; a session gives three Observations, "<session id>-pain",
"-minutes" and "-effort". References are relative ("Patient/12"). A person we serve no resource
for (the clinician who assigned a plan) is a reference by display name only.
"""

from __future__ import annotations

import datetime as dt

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.servicerequest import ServiceRequest

from rehab.calendar import prescription_lines
from rehab.clinical import levels as L
from rehab.fhir import codes
from rehab.models import Clinic, Patient, Plan, SessionLog
from rehab.selectors import person_name

# Plan.status -> CarePlan.status and ServiceRequest.status (both use RequestStatus): a paused
# plan is on hold; a discontinued one was revoked before it was done.
PLAN_STATUS = {
    Plan.Status.ACTIVE: "active",
    Plan.Status.PAUSED: "on-hold",
    Plan.Status.COMPLETED: "completed",
    Plan.Status.DISCONTINUED: "revoked",
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday = 0, as schedule_days

OBSERVATION_PARTS = ("pain", "minutes", "effort")


def _meta(updated_at: dt.datetime) -> dict:
    return {"lastUpdated": updated_at}


def _patient_ref(patient_id: int) -> dict:
    return {"reference": f"Patient/{patient_id}"}


def _coding(system: str, code_display: tuple[str, str]) -> dict:
    code, display = code_display
    return {"system": system, "code": code, "display": display}


def patient_resource(patient: Patient, *, clinic: Clinic) -> FhirPatient:
    identifiers = []
    if patient.external_id:
        identifiers.append(
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": codes.IDENTIFIER_TYPE,
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ]
                },
                "system": codes.record_number_system(clinic.slug),
                "value": patient.external_id,
            }
        )
    identifiers.append(
        {"use": "secondary", "system": codes.patient_id_system(), "value": str(patient.pk)}
    )
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    return FhirPatient(
        id=str(patient.pk),
        meta=_meta(patient.updated_at),
        # The condition as the Condition resource codes it, so that a Patient read, changed and
        # sent back (PUT) keeps it.
        extension=[
            {
                "url": codes.patient_condition_extension(),
                "valueCodeableConcept": condition_code(patient.condition),
            }
        ],
        identifier=identifiers,
        active=patient.archived_at is None,
        name=[{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
        telecom=telecom or None,
        birthDate=patient.date_of_birth,
        managingOrganization={"display": clinic.name},
    )


def condition_code(condition: str) -> dict:
    """A condition code of ours as a CodeableConcept: SNOMED CT where mapped, and always ours."""
    codings = []
    if condition in codes.CONDITION_SNOMED:
        codings.append(_coding(codes.SNOMED, codes.CONDITION_SNOMED[condition]))
    name = L.CONDITIONS.get(condition, condition)
    codings.append(
        {"system": codes.local_system(codes.CONDITION_SYSTEM), "code": condition, "display": name}
    )
    return {"coding": codings, "text": name}


def condition_resource(patient: Patient) -> Condition:
    """The condition the patient is treated for. A patient has one (Patient.condition), so its
    Condition has the patient's id."""
    return Condition(
        id=str(patient.pk),
        meta=_meta(patient.updated_at),
        clinicalStatus={"coding": [{"system": codes.CONDITION_CLINICAL, "code": "active"}]},
        category=[
            {
                "coding": [
                    {
                        "system": codes.CONDITION_CATEGORY,
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        code=condition_code(patient.condition),
        subject=_patient_ref(patient.pk),
        recordedDate=patient.created_at,
    )


def plan_end(plan: Plan) -> dt.date | None:
    return plan.patient.local_today(plan.ended_at) if plan.ended_at is not None else None


def careplan_resource(plan: Plan) -> CarePlan:
    """A plan: its protocol, status, period, the condition it addresses, and its one activity,
    the current prescription (the ServiceRequest with the plan's id). Needs plan.patient and
    plan.assigned_by loaded."""
    period = {"start": plan.start_date}
    if (end := plan_end(plan)) is not None:
        period["end"] = end
    if plan.condition == plan.patient.condition:
        addresses = {"reference": f"Condition/{plan.patient_id}"}
    else:
        # A plan for a condition the patient is no longer recorded with: named, not referenced.
        addresses = {"display": L.CONDITIONS.get(plan.condition, plan.condition)}
    return CarePlan(
        id=str(plan.pk),
        meta=_meta(plan.updated_at),
        status=PLAN_STATUS[plan.status],
        intent="plan",
        title=plan.protocol_name,
        description=plan.status_reason or None,
        subject=_patient_ref(plan.patient_id),
        period=period,
        created=plan.created_at,
        author={"display": person_name(plan.assigned_by)} if plan.assigned_by else None,
        addresses=[addresses],
        goal=[{"reference": f"Goal/{plan.pk}"}],
        activity=[{"reference": {"reference": f"ServiceRequest/{plan.pk}"}}],
    )


def service_request_resource(plan: Plan) -> ServiceRequest:
    """The plan's current prescription: backward walking as exercise therapy, the patient's
    instructions in the words the calendar feed uses, on the plan's schedule days. Capped by
    the screening's constraints, as every figure we show; the caps are said in a note."""
    capped = plan.current_prescription()
    level = capped.level
    repeat: dict = {"duration": level.minutes, "durationUnit": "min"}
    bounds = {"start": plan.level_started_on}
    if (end := plan_end(plan)) is not None:
        bounds["end"] = end
    repeat["boundsPeriod"] = bounds
    if plan.schedule_days:
        repeat.update(
            frequency=1,
            period=1,
            periodUnit="d",
            dayOfWeek=[WEEKDAYS[day] for day in sorted(plan.schedule_days)],
        )
    else:
        repeat.update(frequency=level.sessions_per_week, period=1, periodUnit="wk")
    return ServiceRequest(
        id=str(plan.pk),
        meta=_meta(plan.updated_at),
        # As the HL7 Physical Activity IG's exercise prescription: the Goal it serves, the
        # physical-activity category, the patient who does it.
        extension=[
            {"url": codes.PERTAINS_TO_GOAL, "valueReference": {"reference": f"Goal/{plan.pk}"}}
        ],
        status=PLAN_STATUS[plan.status],
        intent="order",
        category=[
            {
                "coding": [
                    {
                        "system": codes.PA_TEMPORARY_CODES,
                        "code": "PhysicalActivity",
                        "display": "Physical Activity",
                    }
                ]
            }
        ],
        performer=[_patient_ref(plan.patient_id)],
        code={
            "coding": [_coding(codes.SNOMED, codes.EXERCISE_THERAPY)],
            "text": f"Backward walking, level {plan.current_level + 1}: {level.describe()}",
        },
        subject=_patient_ref(plan.patient_id),
        basedOn=[{"reference": f"CarePlan/{plan.pk}"}],
        authoredOn=plan.level_started_on,
        requester={"display": person_name(plan.assigned_by)} if plan.assigned_by else None,
        occurrenceTiming={"repeat": repeat},
        patientInstruction=" ".join(prescription_lines(level)),
        note=[{"text": "Within the screening's limits: " + "; ".join(capped.caps) + "."}]
        if capped.caps
        else None,
    )


def _category(code: str, display: str) -> list[dict]:
    return [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": code, "display": display}]}]


def _pain_component(moment: str, value: int) -> dict:
    return {
        "code": {
            "coding": [
                {
                    "system": codes.local_system(codes.PAIN_MOMENT_SYSTEM),
                    "code": moment,
                    "display": codes.PAIN_MOMENTS[moment],
                }
            ],
            "text": codes.PAIN_MOMENTS[moment],
        },
        "valueInteger": value,
    }


def session_observations(session: SessionLog) -> list[Observation]:
    """A logged session as three Observations: its pain (LOINC 72514-3, one component per moment
    rated), its minutes (LOINC 55411-3) and its effort (Borg CR10, a code of ours)."""
    common = {
        "status": "final",
        "meta": _meta(session.updated_at),
        "subject": _patient_ref(session.patient_id),
        "basedOn": [{"reference": f"ServiceRequest/{session.plan_id}"}],
        "effectiveDateTime": session.date,
        "issued": session.created_at,
    }
    pain = [
        _pain_component("before", session.pain_before),
        _pain_component("worst", session.pain_worst),
        _pain_component("after", session.pain_after),
    ]
    if session.pain_next_morning is not None:
        pain.append(_pain_component("next-morning", session.pain_next_morning))
    return [
        Observation(
            id=f"{session.pk}-pain",
            category=_category("survey", "Survey"),
            code={"coding": [_coding(codes.LOINC, codes.PAIN_SEVERITY)], "text": "Pain (NRS 0-10)"},
            component=pain,
            **common,
        ),
        Observation(
            id=f"{session.pk}-minutes",
            category=_category("activity", "Activity"),
            code={
                "coding": [_coding(codes.LOINC, codes.EXERCISE_DURATION)],
                "text": "Backward walking, minutes done",
            },
            valueQuantity={
                "value": session.minutes_done,
                "unit": "min",
                "system": codes.UCUM,
                "code": "min",
            },
            **common,
        ),
        Observation(
            id=f"{session.pk}-effort",
            category=_category("activity", "Activity"),
            code={
                "coding": [
                    _coding(codes.local_system(codes.SESSION_SYSTEM), codes.EFFORT_BORG_CR10)
                ],
                "text": "Effort (Borg CR10)",
            },
            valueInteger=session.effort,
            **common,
        ),
    ]
