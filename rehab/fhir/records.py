"""The rest of a patient's record as FHIR: a plan's Goal, a session's safety events as
AdverseEvents, a ready PDF report as a DocumentReference, and the audit trail as AuditEvents
(for clinic administrators).

Ids: a Goal's is its plan's; a session's AdverseEvents "<session id>-fall" and
"<session id>-chest-pain"; a DocumentReference's the report's; an AuditEvent's the event's.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from fhir.resources.R4B.adverseevent import AdverseEvent
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.goal import Goal

from rehab.audit import audit_action_words
from rehab.fhir import codes
from rehab.fhir.resources import plan_end
from rehab.models import AuditEvent, Plan, Report, SessionLog
from rehab.selectors import person_name

# Plan.status -> Goal.lifecycleStatus: a paused plan's goal is on hold, a discontinued one's
# cancelled.
GOAL_STATUS = {
    Plan.Status.ACTIVE: "active",
    Plan.Status.PAUSED: "on-hold",
    Plan.Status.COMPLETED: "completed",
    Plan.Status.DISCONTINUED: "cancelled",
}
# A session's safety signals that are adverse events, by the part of the id (SessionLog field).
ADVERSE_EVENT_FIELDS = {"fall": "fall", "chest-pain": "chest_pain"}
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
# Actions that only read: AuditEvent.action R; every other change or step is E (execute).
_READ_SUFFIXES = (".read", ".view", ".list", ".fetch", ".export", "_read", "_view")


def goal_resource(plan: Plan) -> Goal:
    """What the plan aims for: its last level (the protocol's target), as the screening's limits
    allow it, with the minutes a session of that level lasts as the target. Achieved once the
    plan has reached that level; an ended plan that did not, not achieved. Needs plan.patient and
    plan.assigned_by loaded."""
    top = plan.capped_levels()[-1]
    last = len(plan.levels) - 1
    if plan.current_level >= last:
        achievement = ("achieved", "Achieved")
    elif plan.is_open:
        achievement = ("in-progress", "In Progress")
    else:
        achievement = ("not-achieved", "Not Achieved")
    addresses = None
    if plan.condition == plan.patient.condition:
        addresses = [{"reference": f"Condition/{plan.patient_id}"}]
    note = None
    if top.caps:
        note = [{"text": "Within the screening's limits: " + "; ".join(top.caps) + "."}]
    return Goal(
        id=str(plan.pk),
        meta={"lastUpdated": plan.updated_at},
        lifecycleStatus=GOAL_STATUS[plan.status],
        achievementStatus={
            "coding": [
                {
                    "system": codes.GOAL_ACHIEVEMENT,
                    "code": achievement[0],
                    "display": achievement[1],
                }
            ]
        },
        description={
            "text": f"Reach the plan's last level, {last + 1} ({plan.protocol_name}): "
            f"{top.level.describe()}"
        },
        subject={"reference": f"Patient/{plan.patient_id}"},
        startDate=plan.start_date,
        target=[
            {
                "measure": {
                    "coding": [
                        {
                            "system": codes.LOINC,
                            "code": codes.EXERCISE_DURATION[0],
                            "display": codes.EXERCISE_DURATION[1],
                        }
                    ]
                },
                "detailQuantity": {
                    "value": top.level.minutes,
                    "unit": "min",
                    "system": codes.UCUM,
                    "code": "min",
                },
            }
        ],
        statusDate=plan_end(plan),
        expressedBy={"display": person_name(plan.assigned_by)} if plan.assigned_by else None,
        addresses=addresses,
        note=note,
    )


def adverse_events(session: SessionLog) -> list[AdverseEvent]:
    """A fall or chest pain during a session, each one AdverseEvent (actual, coded in SNOMED
    CT). Its seriousness and outcome are not recorded, so not stated; the suspected cause is the
    backward walking the plan prescribed."""
    found = []
    for part, field in ADVERSE_EVENT_FIELDS.items():
        if not getattr(session, field):
            continue
        code, display = codes.ADVERSE_EVENTS[part]
        found.append(
            AdverseEvent(
                id=f"{session.pk}-{part}",
                meta={"lastUpdated": session.updated_at},
                actuality="actual",
                event={
                    "coding": [{"system": codes.SNOMED, "code": code, "display": display}],
                    "text": f"{display} during a backward-walking session",
                },
                subject={"reference": f"Patient/{session.patient_id}"},
                date=session.date,
                recordedDate=session.created_at,
                # AdverseEvent.suspectEntity names medications, devices and procedures; the
                # prescription (a ServiceRequest) can only be named in words.
                suspectEntity=[
                    {
                        "instance": {
                            "display": "Backward walking (exercise therapy) as prescribed by "
                            f"ServiceRequest/{session.plan_id}"
                        }
                    }
                ],
            )
        )
    return found


def report_download_url(report: Report) -> str:
    """The REST API's download of the report: it authorises the caller (the same credentials as
    this door) and audits the hand-over; the file is never at a public URL."""
    return f"{settings.SITE_URL}{reverse('api:report-download', args=[report.pk])}"


def document_reference(report: Report) -> DocumentReference:
    period = {"start": report.period_start, "end": report.period_end}
    return DocumentReference(
        id=str(report.pk),
        meta={"lastUpdated": report.updated_at},
        status="current",
        docStatus="final",
        type={
            "coding": [
                {
                    "system": codes.LOINC,
                    "code": codes.PROGRESS_NOTE[0],
                    "display": codes.PROGRESS_NOTE[1],
                }
            ],
            "text": "Progress report",
        },
        subject={"reference": f"Patient/{report.patient_id}"},
        date=report.rendered_at or report.updated_at,
        description=f"{report.get_audience_display()} progress report, "
        f"{report.period_start:%Y-%m-%d} to {report.period_end:%Y-%m-%d}",
        content=[
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "url": report_download_url(report),
                    "size": report.size_bytes,
                    "title": f"Progress report {report.period_start:%Y-%m-%d} to "
                    f"{report.period_end:%Y-%m-%d}",
                    "creation": report.rendered_at,
                }
            }
        ],
        context={
            "period": period,
            **(
                {"related": [{"reference": f"CarePlan/{report.plan_id}"}]} if report.plan_id else {}
            ),
        },
    )


def audit_event_patients(event: AuditEvent) -> list[int]:
    """The patients an event speaks of: the one it names and those a list read showed."""
    listed = (event.detail or {}).get("patients")
    found = [event.patient_ref] if event.patient_ref is not None else []
    if isinstance(listed, list):
        found += [pk for pk in listed if isinstance(pk, int) and pk not in found]
    return found


def audit_event_resource(event: AuditEvent) -> FhirAuditEvent:
    """One event of the clinic's audit trail: who (the actor's label, as the trail keeps it),
    what (our action, coded and in words), when, from where, and which patients."""
    agent: dict = {"who": {"display": event.actor_label}, "requestor": True}
    if event.ip_address:
        agent["network"] = {"address": event.ip_address, "type": "2"}
    read = event.action.endswith(_READ_SUFFIXES)
    return FhirAuditEvent(
        id=str(event.pk),
        meta={"lastUpdated": event.at},
        type={"system": DICOM, "code": "110110", "display": "Patient Record"},
        subtype=[
            {
                "system": codes.local_system(codes.AUDIT_ACTION_SYSTEM),
                "code": event.action,
                "display": audit_action_words(event.action),
            }
        ],
        action="R" if read else "E",
        recorded=event.at,
        outcome="0",
        agent=[agent],
        source={"observer": {"display": settings.SYSTEM_NAME}},
        entity=[{"what": {"reference": f"Patient/{pk}"}} for pk in audit_event_patients(event)]
        or None,
    )
