"""Every resource type the FHIR door serves: where its rows come from (a selector, scoped by the
acting principal), how a row becomes resources, which patient a row is about (for the audit) and
its search parameters. The views serve what is here and the CapabilityStatement declares what is
here, so the two cannot drift apart."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from fhir.resources.R4B.resource import Resource

from rehab import selectors
from rehab.access import Principal
from rehab.audit import AuditAction
from rehab.fhir import codes, resources
from rehab.fhir.search import SearchError, date_filter, instant_filter, reference_id, token
from rehab.models import Plan


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # the FHIR search parameter type: reference, date, token
    documentation: str
    # One value of the parameter -> a condition on the rows; a repeated parameter must meet each
    # (AND), a comma inside one value is any of them (OR) where the type allows it.
    # Rows from the database: the condition on them. Definitions (Questionnaire): `matches`.
    condition: Callable[[str, Principal], Q] | None = None
    definition: str = ""  # the canonical SearchParameter, where it is a standard one
    # Where one row gives several resources: the parts (id suffixes) one value allows, None for
    # all of them (`code`: a session's pain Observation, not its minutes).
    parts: Callable[[str], frozenset[str] | None] | None = None
    # A definition's parameter: whether one value matches the resource.
    matches: Callable[[str, Resource], bool] | None = None


@dataclass(frozen=True)
class ResourceType:
    name: str
    documentation: str
    rows: Callable[[Principal], QuerySet] | None = None
    build: Callable[[Any, Principal], list[Resource]] | None = None
    patient_id: Callable[[Any], int | None] | None = None
    audit_action: AuditAction | None = None
    search_params: tuple[SearchParam, ...] = ()
    # The suffixes of the ids when one row gives several resources ("12-pain"); none: the id is
    # the row's.
    parts: tuple[str, ...] = ()
    # Operations on one resource ("everything": Patient/12/$everything), served by the view the
    # URLs name for (type, operation), declared from here.
    operations: tuple[str, ...] = ()
    # More tables the type's resources come from, after this one's (Observation: the sessions',
    # then the outcome scores'): each a ResourceType of the same name, with its own rows, builder
    # and search parameters (the same names as this one's, for its own columns) and parts that
    # tell its ids apart. A search walks them in this order, each in id order.
    also: tuple[ResourceType, ...] = ()
    # Not patient data, not rows: the definitions we publish (Questionnaire), built from code;
    # read and searched without an audit event.
    definitions: Callable[[], list[Resource]] | None = None
    # Only clinic administrators (AuditEvent): anyone else gets a 403, as in the REST API.
    admin_only: bool = False
    # The response's audit event(s) when the default (one `audit_action` event naming the
    # patients shown) does not fit: (principal, rows shown, detail) -> None.
    audit: Callable[[Principal, list, dict], None] | None = None

    def __post_init__(self) -> None:
        names = [p.name for p in self.search_params]
        for source in self.also:
            assert [p.name for p in source.search_params] == names, (self.name, source.parts)

    @property
    def sources(self) -> tuple[ResourceType, ...]:
        return (self, *self.also)

    def row_id(self, resource_id: str) -> int | None:
        """The row a resource id names, None for an id that cannot be one of ours."""
        if self.parts:
            match = re.fullmatch(r"([0-9]{1,18})-([a-z][a-z-]*)", resource_id)
            if match is None or match[2] not in self.parts:
                return None
            return int(match[1])
        return int(resource_id) if re.fullmatch(r"[0-9]{1,18}", resource_id) else None

    def param(self, name: str) -> SearchParam | None:
        return next((p for p in self.search_params if p.name == name), None)


def _any_of(values: list[Q]) -> Q:
    combined = Q(pk__in=[])
    for value in values:
        combined |= value
    return combined


def _last_updated(field: str) -> SearchParam:
    return SearchParam(
        name="_lastUpdated",
        type="date",
        documentation="When the resource last changed: a day (YYYY-MM-DD, the whole UTC day) or "
        "a date-time with an offset, with a prefix eq, ge, gt, le or lt; repeat it for a range.",
        condition=lambda raw, principal: instant_filter("_lastUpdated", field, raw),
        definition="http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
    )


def _patient(field: str, definition: str) -> SearchParam:
    def condition(raw: str, principal: Principal) -> Q:
        ids = [reference_id("patient", value, "Patient") for value in raw.split(",")]
        return Q(**{f"{field}__in": [pk for pk in ids if pk is not None]})

    return SearchParam(
        name="patient",
        type="reference",
        documentation="The patient: an id, Patient/<id>, or several separated by commas.",
        condition=condition,
        definition=definition,
    )


def _patient_identifier(raw: str, principal: Principal) -> Q:
    found = []
    for value in raw.split(","):
        system, code = token(value)
        if not code:
            raise SearchError("identifier: give a value, as system|value or value.")
        if system in (None, codes.record_number_system(principal.clinic.slug)):
            found.append(Q(external_id=code))
        if system in (None, codes.patient_id_system()) and re.fullmatch(r"[0-9]{1,18}", code):
            found.append(Q(pk=int(code)))
    return _any_of(found)


# RequestStatus codes (CarePlan.status, ServiceRequest.status) -> our plan statuses; the codes we
# never use (draft, entered-in-error, unknown) match nothing.
REQUEST_STATUSES = (
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
)
PLAN_STATUS_OF = {fhir: ours for ours, fhir in resources.PLAN_STATUS.items()}


def _plan_status(raw: str, principal: Principal) -> Q:
    statuses = []
    for value in raw.split(","):
        _, code = token(value)
        if code not in REQUEST_STATUSES:
            raise SearchError(
                f"status: {code!r} is not a status; use one of {', '.join(REQUEST_STATUSES)}."
            )
        if code in PLAN_STATUS_OF:
            statuses.append(PLAN_STATUS_OF[code])
    return Q(status__in=statuses)


def _plan_status_param(resource: str) -> SearchParam:
    return SearchParam(
        name="status",
        type="token",
        documentation="active, on-hold (a paused plan), completed or revoked (a discontinued "
        "plan); several separated by commas.",
        condition=_plan_status,
        definition=f"http://hl7.org/fhir/SearchParameter/{resource}-status",
    )


def _plans(principal: Principal) -> QuerySet[Plan]:
    return selectors.plans_for(principal).select_related("assigned_by")


REGISTRY: dict[str, ResourceType] = {
    rt.name: rt
    for rt in (
        ResourceType(
            name="Patient",
            documentation="A patient of the clinic. identifier: the clinic's record number under "
            "the clinic's own system, and our id.",
            rows=selectors.patients_for,
            build=lambda patient, principal: [
                resources.patient_resource(patient, clinic=principal.clinic)
            ],
            patient_id=lambda patient: patient.pk,
            audit_action=AuditAction.PATIENT_READ,
            search_params=(
                SearchParam(
                    name="identifier",
                    type="token",
                    documentation="system|value, or a value under any system: the clinic's "
                    "record number, or our id.",
                    condition=_patient_identifier,
                    definition="http://hl7.org/fhir/SearchParameter/Patient-identifier",
                ),
                _last_updated("updated_at"),
            ),
            operations=("everything",),
        ),
        ResourceType(
            name="Condition",
            documentation="The condition the patient is treated for (SNOMED CT where mapped, and "
            "our own code); it has the patient's id.",
            rows=selectors.patients_for,
            build=lambda patient, principal: [resources.condition_resource(patient)],
            patient_id=lambda patient: patient.pk,
            audit_action=AuditAction.PATIENT_READ,
            search_params=(
                _patient("pk", "http://hl7.org/fhir/SearchParameter/clinical-patient"),
                _last_updated("updated_at"),
            ),
        ),
        ResourceType(
            name="CarePlan",
            documentation="A plan: its protocol, status (a paused plan is on-hold, a "
            "discontinued one revoked), period, the condition it addresses and its activity, the "
            "current prescription (the ServiceRequest with the plan's id).",
            rows=_plans,
            build=lambda plan, principal: [resources.careplan_resource(plan)],
            patient_id=lambda plan: plan.patient_id,
            audit_action=AuditAction.PLAN_READ,
            search_params=(
                _patient("patient_id", "http://hl7.org/fhir/SearchParameter/clinical-patient"),
                _plan_status_param("CarePlan"),
                _last_updated("updated_at"),
            ),
        ),
        ResourceType(
            name="ServiceRequest",
            documentation="A plan's current prescription: SNOMED CT 229065009 Exercise therapy, "
            "the patient's instructions in words, the schedule days as its timing; it has the "
            "plan's id.",
            rows=_plans,
            build=lambda plan, principal: [resources.service_request_resource(plan)],
            patient_id=lambda plan: plan.patient_id,
            audit_action=AuditAction.PLAN_READ,
            search_params=(
                _patient("patient_id", "http://hl7.org/fhir/SearchParameter/clinical-patient"),
                _plan_status_param("ServiceRequest"),
                _last_updated("updated_at"),
            ),
        ),
        ResourceType(
            name="Observation",
            documentation="Each logged session gives three: <id>-pain, LOINC 72514-3 with one "
            f"component per moment rated, coded in {codes.local_system(codes.PAIN_MOMENT_SYSTEM)} "
            "(before, worst, after, next-morning once added); <id>-minutes, LOINC 55411-3 "
            "Exercise duration in min; <id>-effort, Borg CR10 (0-10), code borg-cr10 in "
            f"{codes.local_system(codes.SESSION_SYSTEM)} (no LOINC term found for it).",
            # The session's own columns are all a resource needs: none of the selector's joins.
            rows=lambda principal: selectors.sessions_for(principal).select_related(None),
            build=lambda session, principal: resources.session_observations(session),
            patient_id=lambda session: session.patient_id,
            audit_action=AuditAction.SESSION_READ,
            search_params=(
                _patient("patient_id", "http://hl7.org/fhir/SearchParameter/clinical-patient"),
                SearchParam(
                    name="date",
                    type="date",
                    documentation="The day of the session (YYYY-MM-DD), with a prefix eq, ge, "
                    "gt, le or lt; repeat it for a range.",
                    condition=lambda raw, principal: date_filter("date", "date", raw),
                    definition="http://hl7.org/fhir/SearchParameter/clinical-date",
                ),
                _last_updated("updated_at"),
            ),
            parts=resources.OBSERVATION_PARTS,
        ),
    )
}
