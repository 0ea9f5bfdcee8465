"""Patient/$everything: the patient and every resource we serve about them, as one searchset
Bundle. One function, so the FHIR operation and the patient's data export (rehab/fhir/export.py)
give the same Bundle, and a resource type added to the door is in both."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from rehab import selectors
from rehab.access import Principal
from rehab.fhir import questionnaires, records, resources
from rehab.fhir.registry import REGISTRY
from rehab.models import Patient


def searchset(found: list[Resource], links: list[dict], *, base_url: str) -> Bundle:
    """The resources as a searchset Bundle, each with its full URL under `base_url`."""
    return Bundle(
        type="searchset",
        link=links,
        entry=[
            {
                "fullUrl": f"{base_url}{resource.get_resource_type()}/{resource.id}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in found
        ]
        or None,
    )


def patient_everything(
    principal: Principal, patient: Patient, *, base_url: str, self_url: str
) -> Bundle:
    """Every resource about `patient` that `principal` may read, as a searchset Bundle.
    `patient` must be one of selectors.patients_for(principal); the caller audits."""
    plans = list(
        selectors.plans_for(principal)
        .filter(patient=patient)
        .select_related("assigned_by")
        .order_by("pk")
    )
    sessions = list(
        selectors.sessions_for(principal)
        .select_related(None)
        .filter(patient=patient)
        .order_by("pk")
    )
    # The registry's rows, as their searches read them (the ready reports only).
    scores = list(
        REGISTRY["QuestionnaireResponse"].rows(principal).filter(patient=patient).order_by("pk")
    )
    reports = REGISTRY["DocumentReference"].rows(principal).filter(patient=patient).order_by("pk")
    found: list[Resource] = [
        resources.patient_resource(patient, clinic=principal.clinic),
        resources.condition_resource(patient),
        *(resources.careplan_resource(plan) for plan in plans),
        *(resources.service_request_resource(plan) for plan in plans),
        *(records.goal_resource(plan) for plan in plans),
    ]
    for session in sessions:
        found.extend(resources.session_observations(session))
    found.extend(questionnaires.outcome_observation(score) for score in scores)
    found.extend(questionnaires.questionnaire_response(score) for score in scores)
    for session in sessions:
        found.extend(records.adverse_events(session))
    found.extend(records.document_reference(report) for report in reports)
    return searchset(found, [{"relation": "self", "url": self_url}], base_url=base_url)
