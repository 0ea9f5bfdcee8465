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
from rehab.audit import AuditAction, audit_reads_by_ref, events_of_patient, events_patient_refs
from rehab.fhir import codes, questionnaires, records, resources
from rehab.fhir.search import SearchError, date_filter, instant_filter, reference_id, token
from rehab.models import OutcomeScore, Plan, Report, SessionLog


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


def _fixed_status(resource: str, statuses: tuple[str, ...], ours: str) -> SearchParam:
    """`status` of a type whose resources all have one status: it matches all or nothing; a
    code the element does not have is an error."""

    def condition(raw: str, principal: Principal) -> Q:
        found = False
        for value in raw.split(","):
            _, code = token(value)
            if code not in statuses:
                raise SearchError(
                    f"status: {code!r} is not a status; use one of {', '.join(statuses)}."
                )
            found = found or code == ours
        return Q() if found else Q(pk__in=[])

    return SearchParam(
        name="status",
        type="token",
        documentation=f"Always {ours} here; any other status matches nothing.",
        condition=condition,
        definition=f"http://hl7.org/fhir/SearchParameter/{resource}-status",
    )


def _day(field: str, what: str) -> SearchParam:
    return SearchParam(
        name="date",
        type="date",
        documentation=f"The day {what} (YYYY-MM-DD), with a prefix eq, ge, gt, le or lt; "
        "repeat it for a range.",
        condition=lambda raw, principal: date_filter("date", field, raw),
        definition="http://hl7.org/fhir/SearchParameter/clinical-date",
    )


def _instant(field: str, what: str, definition: str) -> SearchParam:
    return SearchParam(
        name="date",
        type="date",
        documentation=f"When {what}: a day (YYYY-MM-DD, the whole UTC day) or a date-time with "
        "an offset, with a prefix eq, ge, gt, le or lt; repeat it for a range.",
        condition=lambda raw, principal: instant_filter("date", field, raw),
        definition=definition,
    )


def _codes(raw: str) -> list[tuple[str | None, str]]:
    found = []
    for value in raw.split(","):
        system, code = token(value)
        if not code:
            raise SearchError("code: give a code, as system|code or code.")
        found.append((system, code))
    return found


# A session's Observations by their code: (system, code) -> the part of the id.
def _session_codes() -> dict[tuple[str, str], str]:
    return {
        (codes.LOINC, codes.PAIN_SEVERITY[0]): "pain",
        (codes.LOINC, codes.EXERCISE_DURATION[0]): "minutes",
        (codes.local_system(codes.SESSION_SYSTEM), codes.EFFORT_BORG_CR10[0]): "effort",
    }


def _session_parts(raw: str) -> frozenset[str]:
    table = _session_codes()
    return frozenset(
        part
        for system, code in _codes(raw)
        for (known_system, known_code), part in table.items()
        if code == known_code and system in (None, known_system)
    )


_CODE_DOCUMENTATION = (
    "system|code or a code under any system, several separated by commas: a session's "
    "LOINC 72514-3 (pain), 55411-3 (minutes) or borg-cr10 (effort, ours); an outcome measure's "
    "LOINC (72514-3 NPRS, 97909-6 ODI, 72091-2 KOOS) or our measure code (nprs, koos, rmdq, "
    "psfs, odi, womac)."
)


def _session_code() -> SearchParam:
    return SearchParam(
        name="code",
        type="token",
        documentation=_CODE_DOCUMENTATION,
        # Every session has all three: the rows all match when any part does.
        condition=lambda raw, principal: Q() if _session_parts(raw) else Q(pk__in=[]),
        parts=_session_parts,
        definition="http://hl7.org/fhir/SearchParameter/clinical-code",
    )


def _outcome_code() -> SearchParam:
    def condition(raw: str, principal: Principal) -> Q:
        measures = set()
        for system, code in _codes(raw):
            measures |= questionnaires.outcome_code_measures(system, code)
        return Q(measure__in=sorted(measures))

    return SearchParam(
        name="code",
        type="token",
        documentation=_CODE_DOCUMENTATION,
        condition=condition,
        definition="http://hl7.org/fhir/SearchParameter/clinical-code",
    )


def _audit_patient(raw: str, principal: Principal) -> Q:
    ids = [reference_id("patient", value, "Patient") for value in raw.split(",")]
    return _any_of([events_of_patient(pk) for pk in ids if pk is not None])


def _audit_trail_read(principal: Principal, events: list, detail: dict) -> None:
    # Reading the trail is recorded in it, as the REST API's: one event naming the patients the
    # events speak of (one for the clinic when none).
    audit_reads_by_ref(
        actor=principal.actor,
        action=AuditAction.AUDIT_READ,
        refs=events_patient_refs(events),
        detail=detail,
        clinic=principal.clinic,
        always=True,
    )


def _questionnaire_url(raw: str, resource: Resource) -> bool:
    return any(
        value.partition("|")[0] == resource.url
        and (not value.partition("|")[2] or value.partition("|")[2] == resource.version)
        for value in raw.split(",")
    )


OBSERVATION_STATUSES = (
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
)
GOAL_STATUS_OF = {fhir: ours for ours, fhir in records.GOAL_STATUS.items()}
GOAL_STATUSES = (
    "proposed",
    "planned",
    "accepted",
    "active",
    "on-hold",
    "completed",
    "cancelled",
    "entered-in-error",
    "rejected",
)


def _goal_status(raw: str, principal: Principal) -> Q:
    statuses = []
    for value in raw.split(","):
        _, code = token(value)
        if code not in GOAL_STATUSES:
            raise SearchError(
                f"lifecycle-status: {code!r} is not a status; use one of "
                f"{', '.join(GOAL_STATUSES)}."
            )
        if code in GOAL_STATUS_OF:
            statuses.append(GOAL_STATUS_OF[code])
    return Q(status__in=statuses)


def _outcomes(principal: Principal) -> QuerySet[OutcomeScore]:
    return selectors.outcomes_for(principal).select_related(None)


def _sessions(principal: Principal) -> QuerySet[SessionLog]:
    # The session's own columns are all a resource needs: none of the selector's joins.
    return selectors.sessions_for(principal).select_related(None)


def _ready_reports(principal: Principal) -> QuerySet[Report]:
    return selectors.reports_for(principal).select_related(None).filter(status=Report.Status.READY)


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
            name="Goal",
            documentation="What a plan aims for, with the plan's id: its last level (the "
            "protocol's target, within the screening's limits), a session of that level's "
            "minutes as the target (LOINC 55411-3), achieved once the plan reached that level. "
            "The PSFS activities are rated difficulties, not goals: they are in the PSFS "
            "QuestionnaireResponses.",
            rows=_plans,
            build=lambda plan, principal: [records.goal_resource(plan)],
            patient_id=lambda plan: plan.patient_id,
            audit_action=AuditAction.PLAN_READ,
            search_params=(
                _patient("patient_id", "http://hl7.org/fhir/SearchParameter/clinical-patient"),
                SearchParam(
                    name="lifecycle-status",
                    type="token",
                    documentation="active, on-hold (a paused plan), completed or cancelled (a "
                    "discontinued plan); several separated by commas.",
                    condition=_goal_status,
                    definition="http://hl7.org/fhir/SearchParameter/Goal-lifecycle-status",
                ),
                _last_updated("updated_at"),
            ),
        ),
        ResourceType(
            name="Observation",
            documentation="Each logged session gives three: <id>-pain, LOINC 72514-3 with one "
            f"component per moment rated, coded in {codes.local_system(codes.PAIN_MOMENT_SYSTEM)} "
            "(before, worst, after, next-morning once added); <id>-minutes, LOINC 55411-3 "
            "Exercise duration in min; <id>-effort, Borg CR10 (0-10), code borg-cr10 in "
            f"{codes.local_system(codes.SESSION_SYSTEM)} (no LOINC term found for it). Each "
            "recorded outcome measure gives <score id>-outcome (after the sessions' in a "
            "search), derived from its QuestionnaireResponse, coded in LOINC where we have the "
            "term (NPRS 72514-3, ODI 97909-6, KOOS 72091-2 with one component per subscale: "
            "pain 72102-7, symptoms 72101-9, ADL 72100-1, sport/rec 72099-5, QOL 72098-7) and "
            f"always in {codes.local_system(codes.OUTCOME_SYSTEM)} (RMDQ, PSFS and WOMAC: ours "
            "only); the value in {score}, a subscale too short of answers to score absent.",
            rows=_sessions,
            build=lambda session, principal: resources.session_observations(session),
            patient_id=lambda session: session.patient_id,
            audit_action=AuditAction.SESSION_READ,
            search_params=(
                _patient("patient_id", "http://hl7.org/fhir/SearchParameter/clinical-patient"),
                _day("date", "of the session or the questionnaire"),
                _session_code(),
                _fixed_status("Observation", OBSERVATION_STATUSES, "final"),
                _last_updated("updated_at"),
            ),
            parts=resources.OBSERVATION_PARTS,
            also=(
                ResourceType(
                    name="Observation",
                    documentation="",
                    rows=_outcomes,
                    build=lambda score, principal: [questionnaires.outcome_observation(score)],
                    patient_id=lambda score: score.patient_id,
                    audit_action=AuditAction.OUTCOME_READ,
                    search_params=(
                        _patient(
                            "patient_id", "http://hl7.org/fhir/SearchParameter/clinical-patient"
                        ),
                        _day("taken_on", ""),
                        _outcome_code(),
                        _fixed_status("Observation", OBSERVATION_STATUSES, "final"),
                        # A score is never changed once recorded.
                        _last_updated("created_at"),
                    ),
                    parts=(questionnaires.OUTCOME_PART,),
                ),
            ),
        ),
        ResourceType(
            name="Questionnaire",
            documentation="Our definitions of the outcome measures (id: the measure's code; "
            "url <FHIR_SYSTEM_BASE>/Questionnaire/<code>): KOOS and RMDQ item by item in their "
            "published words, NPRS and PSFS as we ask them; ODI and WOMAC are licensed and not "
            "embedded, so theirs is the total score a clinician enters. No patient data: not "
            "audited.",
            definitions=questionnaires.questionnaires,
            search_params=(
                SearchParam(
                    name="url",
                    type="uri",
                    documentation="The canonical url, optionally |version, as a "
                    "QuestionnaireResponse's questionnaire names it.",
                    matches=_questionnaire_url,
                    definition="http://hl7.org/fhir/SearchParameter/Questionnaire-url",
                ),
            ),
        ),
        ResourceType(
            name="QuestionnaireResponse",
            documentation="Each recorded outcome measure's answers as stored (the score's id): "
            "KOOS's and RMDQ's items, NPRS's rating, PSFS's activities; for ODI and WOMAC only "
            "the total entered. A questionnaire still being filled in is not one.",
            rows=lambda principal: _outcomes(principal).select_related("recorded_by"),
            build=lambda score, principal: [questionnaires.questionnaire_response(score)],
            patient_id=lambda score: score.patient_id,
            audit_action=AuditAction.OUTCOME_READ,
            search_params=(
                _patient("patient_id", "http://hl7.org/fhir/SearchParameter/clinical-patient"),
                SearchParam(
                    name="authored",
                    type="date",
                    documentation="When it was recorded: a day (YYYY-MM-DD, the whole UTC day) "
                    "or a date-time with an offset, with a prefix eq, ge, gt, le or lt.",
                    condition=lambda raw, principal: instant_filter("authored", "created_at", raw),
                    definition="http://hl7.org/fhir/SearchParameter/QuestionnaireResponse-authored",
                ),
                _fixed_status(
                    "QuestionnaireResponse",
                    ("in-progress", "completed", "amended", "entered-in-error", "stopped"),
                    "completed",
                ),
                _last_updated("created_at"),
            ),
        ),
        ResourceType(
            name="AdverseEvent",
            documentation="A fall (SNOMED CT 1912002) or chest pain (SNOMED CT 29857009) logged "
            "with a session: <session id>-fall, <session id>-chest-pain; actual, on the "
            "session's day, the prescribed backward walking as the suspected entity (in words: "
            "R4 names no ServiceRequest there). Seriousness and outcome are not recorded, so "
            "not stated.",
            rows=lambda principal: _sessions(principal).filter(Q(fall=True) | Q(chest_pain=True)),
            build=lambda session, principal: records.adverse_events(session),
            patient_id=lambda session: session.patient_id,
            audit_action=AuditAction.SESSION_READ,
            search_params=(
                _patient("patient_id", "http://hl7.org/fhir/SearchParameter/AdverseEvent-subject"),
                _day("date", "of the session"),
                _last_updated("updated_at"),
            ),
            parts=tuple(records.ADVERSE_EVENT_FIELDS),
        ),
        ResourceType(
            name="DocumentReference",
            documentation="Each ready PDF progress report (the report's id): LOINC 11506-3 "
            "Progress note, the period it covers; content.attachment.url is the REST API's "
            "download (/api/v1/reports/<id>/download/), which takes the same credentials and "
            "audits the hand-over. A patient sees their plain-language reports only.",
            rows=_ready_reports,
            build=lambda report, principal: [records.document_reference(report)],
            patient_id=lambda report: report.patient_id,
            audit_action=AuditAction.REPORT_LIST,
            search_params=(
                _patient("patient_id", "http://hl7.org/fhir/SearchParameter/clinical-patient"),
                _instant(
                    "rendered_at",
                    "the report was rendered",
                    "http://hl7.org/fhir/SearchParameter/DocumentReference-date",
                ),
                _fixed_status(
                    "DocumentReference", ("current", "superseded", "entered-in-error"), "current"
                ),
                _last_updated("updated_at"),
            ),
        ),
        ResourceType(
            name="AuditEvent",
            documentation="The clinic's audit trail, for clinic administrators only (anyone "
            "else, API keys included, gets a 403, as in the REST API): who (the actor's label), "
            f"what (our action in {codes.local_system(codes.AUDIT_ACTION_SYSTEM)}, with its "
            "words), when, from which address, and the patients it speaks of. Reading it is "
            "recorded in it.",
            rows=selectors.audit_events_for,
            build=lambda event, principal: [records.audit_event_resource(event)],
            patient_id=lambda event: event.patient_ref,
            audit_action=AuditAction.AUDIT_READ,
            audit=_audit_trail_read,
            admin_only=True,
            search_params=(
                SearchParam(
                    name="patient",
                    type="reference",
                    documentation="The patient the events speak of (named, or shown by a list "
                    "read): an id, Patient/<id>, or several separated by commas.",
                    condition=_audit_patient,
                    definition="http://hl7.org/fhir/SearchParameter/AuditEvent-patient",
                ),
                _instant(
                    "at", "it happened", "http://hl7.org/fhir/SearchParameter/AuditEvent-date"
                ),
                _last_updated("at"),
            ),
        ),
    )
}
