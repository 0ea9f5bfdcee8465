"""GET /fhir/r4/metadata: the CapabilityStatement, made from the registry the views serve."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from rehab.fhir import codes
from rehab.fhir.registry import REGISTRY, ResourceType
from rehab.fhir.write import WRITES

# The base specification's definitions of the operations we serve.
OPERATION_DEFINITIONS = {
    ("Patient", "everything"): (
        "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        "Everything we serve about one patient, as one searchset Bundle (not paged): the "
        "Patient, its Condition, every CarePlan, ServiceRequest and Goal, every session's "
        "Observations, every outcome measure's Observation and QuestionnaireResponse, every "
        "AdverseEvent, every ready report's DocumentReference. Not the Questionnaires (our "
        "definitions, not about the patient) nor the audit trail. No parameters.",
    ),
}

SECURITY = (
    "The credentials of /api/v1/: 'Authorization: Api-Key <key>' (a clinic system, sees its "
    "clinic) or 'Authorization: Token <token>' (a patient's own token, sees only themselves). An "
    "id of another clinic or patient is a 404, as an unknown one. Every response showing patient "
    "data is recorded in the clinic's audit trail."
)
SEARCH_RULES = (
    "Searches return a searchset Bundle without total, in id order (Observation: the sessions', "
    "then the outcome measures'), _count resources a page "
    "(default {default}, at most {maximum}) with a next link while there are more. A search "
    "parameter not listed here (or a modifier) is refused with a 400 OperationOutcome rather "
    "than ignored."
)


def _interactions(rt: ResourceType) -> dict:
    """A type's interactions: read and search, and for a type we write (write.WRITES) its
    writes, with what they keep, no versions kept, no create with a client's id."""
    read = {
        "documentation": rt.documentation,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
    }
    writable = WRITES.get(rt.name)
    if writable is None:
        return read
    kept = writable.documentation.format(condition_extension=codes.patient_condition_extension())
    return {
        "documentation": f"{rt.documentation} {kept}",
        "interaction": [
            *read["interaction"],
            *({"code": code} for code in writable.interactions),
        ],
        "versioning": "no-version",
        "updateCreate": False,
        "conditionalCreate": writable.conditional_create,
        "conditionalUpdate": writable.conditional_update,
    }


def capability_statement(*, base_url: str) -> CapabilityStatement:
    resources = []
    for rt in REGISTRY.values():
        resources.append(
            {
                "type": rt.name,
                "profile": f"http://hl7.org/fhir/StructureDefinition/{rt.name}",
                **_interactions(rt),
                "searchParam": [
                    {
                        "name": param.name,
                        "type": param.type,
                        "documentation": param.documentation,
                        **({"definition": param.definition} if param.definition else {}),
                    }
                    for param in rt.search_params
                ],
                "operation": [
                    {
                        "name": name,
                        "definition": OPERATION_DEFINITIONS[(rt.name, name)][0],
                        "documentation": OPERATION_DEFINITIONS[(rt.name, name)][1],
                    }
                    for name in rt.operations
                ]
                or None,
            }
        )
    return CapabilityStatement(
        status="active",
        date=timezone.now(),
        publisher=settings.SYSTEM_NAME,
        kind="instance",
        software={"name": settings.SYSTEM_NAME},
        implementation={
            "description": f"{settings.SYSTEM_NAME}: backward-walking rehab plans",
            "url": base_url,
        },
        # R4: we emit only elements R4 has in the same shape (see rehab/fhir/__init__.py).
        fhirVersion="4.0.1",
        format=["application/fhir+json"],
        rest=[
            {
                "mode": "server",
                "documentation": SEARCH_RULES.format(
                    default=settings.FHIR_PAGE_SIZE, maximum=settings.API_MAX_PAGE_SIZE
                ),
                "security": {"description": SECURITY},
                "resource": resources,
            }
        ],
    )
