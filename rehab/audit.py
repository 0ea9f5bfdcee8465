"""Audit events: who read or changed which patient's data, when, from where.

Services record every write; selectors and the doors record reads. The request's address comes
from a context variable the middleware sets, so services need not know about requests.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from rehab.client_ip import client_address
from rehab.models import ApiKey, AuditEvent, AuditListing, Clinic, Patient, User


class AuditAction(models.TextChoices):
    """What an audit event records. The value is what the trail stores (and the hash chain
    covers), so it never changes; the label is how the patient page's trail says it."""

    PATIENT_VIEW = "patient.view", _("Opened the patient page")
    PATIENT_LIST = "patient.list", _("Saw the patient in a list")
    PATIENT_READ = "patient.read", _("Read the patient's details")
    PATIENT_CREATE = "patient.create", _("Added the patient")
    PATIENT_UPDATE = "patient.update", _("Changed the patient's details")
    PATIENT_ARCHIVE = "patient.archive", _("Archived the patient")
    PATIENT_EXPORT = "patient.export", _("Downloaded the patient's whole record")
    PATIENT_ERASE = "patient.erase", _("Erased the patient's personal details")
    AUDIT_READ = "audit.read", _("Read the record's audit trail")
    AUDIT_EXPORT = "audit.export", _("Exported the audit trail")
    AUDIT_PRUNE = "audit.prune", _("Removed exported audit events")
    INVITE_READ = "invite.read", _("Read the portal invitations")
    CALENDAR_READ = "calendar.read", _("Read the calendar link's record")
    CALENDAR_CREATE = "calendar.create", _("Made a calendar link")
    CALENDAR_REVOKE = "calendar.revoke", _("Stopped the calendar link")
    CALENDAR_FETCH = "calendar.fetch", _("Calendar app fetched the sessions")
    SCREENING_SUBMIT = "screening.submit", _("Screened the patient")
    SCREENING_INVALIDATE = "screening.invalidate", _("Screening invalidated")
    SCREENING_READ = "screening.read", _("Read the screenings")
    REFERRAL_ACTED = "referral.acted", _("Recorded a referral as acted on")
    PLAN_ASSIGN = "plan.assign", _("Assigned a plan")
    PLAN_READ = "plan.read", _("Read the plan")
    PLAN_PAUSED = "plan.paused", _("Paused the plan")
    PLAN_RESUMED = "plan.resumed", _("Resumed the plan")
    PLAN_COMPLETED = "plan.completed", _("Completed the plan")
    PLAN_DISCONTINUED = "plan.discontinued", _("Discontinued the plan")
    PLAN_SETTINGS = "plan.settings", _("Changed the plan's settings")
    PLAN_LEVEL = "plan.level", _("Changed the level")
    SESSION_LOG = "session.log", _("Logged a session")
    SESSION_NEXT_MORNING = "session.next_morning", _("Added next-morning pain")
    SESSION_READ = "session.read", _("Read the sessions")
    PROGRESSION_DECISION = "progression.decision", _("Progression decision recorded")
    PROGRESSION_APPROVE = "progression.approve", _("Approved a decision")
    PROGRESSION_REJECT = "progression.reject", _("Rejected a decision")
    DECISION_READ = "decision.read", _("Read the decisions")
    OUTCOME_RECORD = "outcome.record", _("Recorded an outcome measure")
    OUTCOME_READ = "outcome.read", _("Read the outcome measures")
    OUTCOME_DRAFT_SAVE = "outcome.draft_save", _("Saved a page of a questionnaire")
    NOTE_ADD = "note.add", _("Wrote a clinical note")
    NOTE_READ = "note.read", _("Read the clinical notes")
    REMINDER_READ = "reminder.read", _("Read the reminders")
    REMINDER_RESCHEDULE = "reminder.reschedule", _("Moved a planned reminder")
    REMINDER_CANCEL = "reminder.cancel", _("Cancelled a planned reminder")
    REMINDER_SENT = "reminder.sent", _("Sent a reminder")
    REMINDER_FAILED = "reminder.failed", _("A reminder could not be sent")
    REMINDER_SKIPPED = "reminder.skipped", _("Skipped a reminder")
    REPORT_REQUEST = "report.request", _("Requested a report")
    REPORT_RENDER = "report.render", _("Report rendered")
    REPORT_READ = "report.read", _("Downloaded a report")
    REPORT_LIST = "report.list", _("Saw the list of reports")
    PORTAL_TODAY = "portal.today", _("Opened Today in the portal")
    PORTAL_LOG_FORM = "portal.log_form", _("Opened the session log in the portal")
    PORTAL_SESSION_READ = "portal.session_read", _("Read a logged session in the portal")
    PORTAL_REMINDERS = "portal.reminders", _("Opened reminder settings in the portal")
    PORTAL_INVITE = "portal.invite", _("Invited to the patient portal")
    PORTAL_INVITE_VIEW = "portal.invite_view", _("Opened the portal invitation")
    PORTAL_INVITE_ACCEPT = "portal.invite_accept", _("Accepted the portal invitation")
    PORTAL_INVITE_FAILED = "portal.invite_failed", _("Portal invitation could not be sent")
    PORTAL_REMEMBER_DEVICE = (
        "portal.remember_device",
        _("Signed in to the portal, kept signed in on that device"),
    )
    PORTAL_LOGIN_EMAIL = "portal.login_email", _("The portal sign-in address followed the record's")
    PORTAL_FORM_KEPT = (
        "portal.form_kept",
        _("A portal form arrived after the sign-in ended; kept for the patient"),
    )
    PORTAL_FORM_KEPT_USED = (
        "portal.form_kept_used",
        _("A kept portal form was sent again after signing in"),
    )
    PORTAL_FORM_KEPT_DISCARDED = (
        "portal.form_kept_discarded",
        _("A kept portal form was removed unused"),
    )
    CLINICIAN_CREATE = "clinician.create", _("Added a clinician")
    CLINICIAN_PASSWORD_LINK = (
        "clinician.password_link",
        _("Sent a clinician a link to set a password"),
    )
    CLINICIAN_ACTIVATE = "clinician.activate", _("Reactivated a clinician's account")
    CLINICIAN_DEACTIVATE = "clinician.deactivate", _("Deactivated a clinician's account")
    CLINICIAN_ADMIN_GRANT = "clinician.admin_grant", _("Made a clinician a clinic administrator")
    CLINICIAN_ADMIN_REMOVE = (
        "clinician.admin_remove",
        _("Took a clinician's administrator rights away"),
    )
    CLINIC_SETTINGS = "clinic.settings", _("Changed the clinic's settings")
    CLINIC_CONTACT = "clinic.contact", _("Changed the clinic's contact details")
    CLINIC_TWO_STEP_REQUIRED = (
        "clinic.two_step_required",
        _("Required two-step sign-in for the clinic"),
    )
    CLINIC_TWO_STEP_OPTIONAL = (
        "clinic.two_step_optional",
        _("Made two-step sign-in optional for the clinic"),
    )
    PROTOCOL_COPY = "protocol.copy", _("Copied a protocol")
    PROTOCOL_UPDATE = "protocol.update", _("Changed a protocol")
    API_KEY_CREATE = "api_key.create", _("Created an API key")
    API_KEY_REVOKE = "api_key.revoke", _("Revoked an API key")
    WEBHOOK_CREATE = "webhook.create", _("Added a webhook endpoint")
    WEBHOOK_UPDATE = "webhook.update", _("Changed a webhook endpoint")
    WEBHOOK_DELETE = "webhook.delete", _("Removed a webhook endpoint")
    WEBHOOK_ROTATE = "webhook.rotate", _("Rotated a webhook endpoint's signing secret")
    WEBHOOK_DISABLE = "webhook.disable", _("Disabled a failing webhook endpoint")
    WEBHOOK_RETRY = "webhook.retry", _("Sent a webhook delivery again")
    TOKEN_CREATE = "token.create", _("Created a personal API token")
    TWO_STEP_ENROL = "two_step.enrol", _("Set up two-step sign-in")
    TWO_STEP_CODE_FAILED = "two_step.code_failed", _("Entered a wrong two-step code")
    TWO_STEP_RECOVERY_USED = "two_step.recovery_used", _("Signed in with a recovery code")
    TWO_STEP_RECOVERY_REGENERATE = "two_step.recovery_regenerate", _("Made new recovery codes")
    TWO_STEP_REMOVE = "two_step.remove", _("Removed two-step sign-in")


def audit_action_words(action: str) -> str:
    """A stored action as the trail says it; an action no longer recorded, as stored."""
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action


# Who can act: a person, a clinic system's API key, or the system itself (None).
Actor = User | ApiKey | None

_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)


def actor_label(actor: Actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, ApiKey):
        return f"api-key:{actor.name}"
    return actor.get_username()


def as_user(actor: Actor) -> User | None:
    """The person behind an actor, for the *_by columns (an API key or the system has none)."""
    return actor if isinstance(actor, User) and actor.pk else None


def audit_record(
    *,
    actor: Actor,
    action: AuditAction,
    obj: models.Model | None = None,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(**_event_fields(actor, action, obj, patient, clinic, detail))


def _event_fields(actor, action, obj, patient, clinic, detail) -> dict[str, Any]:
    # The clinic's id is all the event keeps: a patient's, when no clinic is given, needs no
    # look-up of the clinic.
    if clinic is not None:
        clinic_id = clinic.pk
    else:
        clinic_id = patient.clinic_id if patient is not None else None
    return {
        "actor": as_user(actor),
        "api_key": actor if isinstance(actor, ApiKey) else None,
        "actor_label": actor_label(actor),
        "clinic_id": clinic_id,
        "patient": patient,
        "patient_ref": patient.pk if patient is not None else None,
        "action": action,
        "object_type": obj._meta.model_name if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None and obj.pk is not None else "",
        "detail": detail or {},
        "ip_address": _request_ip.get(),
    }


def audit_reads(
    *, actor: Actor, action: AuditAction, patients: list[Patient], clinic: Clinic
) -> None:
    """A response that showed these patients' data (a page of a list, or one record): one
    event, in one query, whatever the page size (audit_reads_by_ref)."""
    audit_reads_by_ref(
        actor=actor,
        action=action,
        refs=[(patient.pk, clinic.pk) for patient in patients],
        clinic=clinic,
    )


# (patient id, clinic id) of a row shown: reads where the rows span clinics (the Django admin)
# or where loading each patient would cost a query per row (the audit trail) name them by id.
PatientRef = tuple[int, int | None]


def audit_reads_by_ref(
    *,
    actor: Actor,
    action: AuditAction,
    refs: list[PatientRef],
    detail: dict[str, Any] | None = None,
    clinic: Clinic | None = None,
    obj: models.Model | None = None,
    always: bool = False,
) -> None:
    """A read of the patients named by (patient id, clinic id), one event per clinic's trail,
    all in one query (none when no patient was shown):

    - one patient: the event names them, as any event about a patient does;
    - several (a list): one event naming them in `detail["patients"]`, in the order shown. The
      database indexes that list (AuditListing, filled by a trigger in the same statement), so
      the patient page and the API's patient filter still find the read for each of them, while
      a page of 25 costs one row instead of 25.

    With `always`, a read that showed no patient records one event without one (in `clinic`'s
    trail), so that reading, e.g., a page of the audit trail without patients still leaves a
    trace."""
    fields = _event_fields(actor, action, obj, None, clinic, detail)
    shared = {k: v for k, v in fields.items() if k not in ("clinic_id", "patient", "patient_ref")}
    by_clinic: dict[int | None, list[int]] = {}
    for pk, clinic_id in dict(refs).items():
        by_clinic.setdefault(clinic_id, []).append(pk)
    events = [
        AuditEvent(**shared, clinic_id=clinic_id, patient_id=pks[0], patient_ref=pks[0])
        if len(pks) == 1
        else AuditEvent(
            **{**shared, "detail": {**shared["detail"], "patients": pks}}, clinic_id=clinic_id
        )
        for clinic_id, pks in by_clinic.items()
    ]
    if not events and always:
        events = [AuditEvent(**fields)]
    if len(events) == 1:
        # One INSERT statement: bulk_create would wrap it in BEGIN ... COMMIT, two more round
        # trips for a response that made no transaction of its own.
        events[0].save(force_insert=True)
    else:
        AuditEvent.objects.bulk_create(events)


def events_of_patient(patient_ref: int) -> models.Q:
    """The events about a patient, as "who read or changed this patient's data" asks: those
    naming them, and the list reads that showed them (AuditListing)."""
    return models.Q(patient_ref=patient_ref) | models.Q(
        pk__in=AuditListing.objects.filter(patient_ref=patient_ref).values("event_id")
    )


def events_patient_refs(events) -> list[PatientRef]:
    """The patients the events speak of, as (patient id, clinic id): the one an event names, and
    every patient a list read names in detail["patients"] (its own patient is none)."""
    refs: list[PatientRef] = []
    for event in events:
        if event.patient_id is not None:
            refs.append((event.patient_id, event.clinic_id))
        listed = (event.detail or {}).get("patients")
        if isinstance(listed, list):
            refs.extend((pk, event.clinic_id) for pk in listed if isinstance(pk, int))
    return refs


def audit_trail_read(*, actor: Actor, events, via: str, clinic: Clinic | None = None) -> None:
    """Reading the audit trail is a read of patient data too (who was seen, by whom, when): one
    `audit.read` event naming the patients whose events were shown (one per clinic's trail), or
    one for the clinic when none was, written in one query whatever the page size."""
    audit_reads_by_ref(
        actor=actor,
        action=AuditAction.AUDIT_READ,
        refs=events_patient_refs(events),
        detail={"via": via},
        clinic=clinic,
        always=True,
    )


def audit_view_with_trail(
    *,
    actor: Actor,
    action: AuditAction,
    patient: Patient,
    clinic: Clinic,
    reads: tuple[AuditAction, ...] = (),
) -> None:
    """A page showing a patient's record with its audit trail: the view and the trail's read
    (`audit.read`), and one event per other read action the page makes (`reads`, e.g. its
    clinical notes' `note.read`), all in one insert, so the page costs no extra query."""
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(**_event_fields(actor, action, patient, patient, clinic, None)),
            *(
                AuditEvent(
                    **_event_fields(actor, read, None, patient, clinic, {"via": "dashboard"})
                )
                for read in (AuditAction.AUDIT_READ, *reads)
            ),
        ]
    )


class AuditContextMiddleware:
    """Makes the client's address available to audit_record for the length of a request (behind
    the TLS proxy the client's, not the proxy's: rehab.client_ip)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_ip.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            _request_ip.reset(token)
