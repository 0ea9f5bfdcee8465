"""The one domain error. Doors turn it into a 400/409 with its message and field errors."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ErrorCode(models.TextChoices):
    """Why a request was refused. The value is the stable `code` API clients and forms match
    on, so it never changes; the label says it in a few words."""

    # input
    VALIDATION_ERROR = "validation_error", _("Some fields need correcting")
    TOO_MANY_ATTEMPTS = (
        "too_many_attempts",
        _("Too many sign-in attempts; wait before trying again"),
    )
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress", _("The same request is still running")
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        _("The request key was used for another request"),
    )
    # patients and the team
    PATIENT_ARCHIVED = "patient_archived", _("The patient's record is archived")
    RECORD_NUMBER_TAKEN = (
        "record_number_taken",
        _("Another request gave this record number at the same moment"),
    )
    EMAIL_REQUIRED = "email_required", _("The patient has no e-mail address")
    EMAIL_NOT_SENT = "email_not_sent", _("The e-mail could not be sent")
    PORTAL_ACCOUNT_EXISTS = "portal_account_exists", _("The patient already has a portal account")
    CLINICIAN_INACTIVE = "clinician_inactive", _("The clinician's account is deactivated")
    CANNOT_DEACTIVATE_SELF = "cannot_deactivate_self", _("Nobody can deactivate their own account")
    LAST_ADMIN = "last_admin", _("The clinic's only administrator")
    SUPERVISOR_NOT_CLINICIAN = (
        "supervisor_not_clinician",
        _("Only the clinic's clinicians supervise sessions"),
    )
    # invitations
    INVITE_NOT_FOUND = "invite_not_found", _("The invitation link is not valid")
    INVITE_REVOKED = "invite_revoked", _("The invitation was replaced or withdrawn")
    INVITE_EXPIRED = "invite_expired", _("The invitation has expired")
    INVITE_USED = "invite_used", _("The invitation was already used")
    # screening and referrals
    SCREENING_REQUIRED = "screening_required", _("A valid screening is needed")
    SCREENING_INCOMPLETE = "screening_incomplete", _("The screening is incomplete")
    SCREENING_BLOCKED = "screening_blocked", _("The screening blocks backward walking")
    REFERRAL_NOT_URGENT = "referral_not_urgent", _("The screening made no urgent referral")
    REFERRAL_ALREADY_ACTED = "referral_already_acted", _("The referral is already acted on")
    # plans, sessions and decisions
    PLAN_OPEN = "plan_open", _("The patient has an open plan")
    PLAN_ALREADY_OPEN = "plan_already_open", _("The patient already has an open plan")
    PLAN_NOT_ACTIVE = "plan_not_active", _("The plan is not active")
    PLAN_NOT_PAUSED = "plan_not_paused", _("The plan is not paused")
    PLAN_PAUSED = "plan_paused", _("The plan is paused")
    PLAN_COMPLETED = "plan_completed", _("The plan is completed")
    PLAN_DISCONTINUED = "plan_discontinued", _("The plan is discontinued")
    SESSION_DUPLICATE = "session_duplicate", _("A session is already logged for that day")
    NEXT_MORNING_ALREADY_RECORDED = (
        "next_morning_already_recorded",
        _("Next-morning pain is already recorded"),
    )
    DECISION_NOT_PENDING = "decision_not_pending", _("The decision is not awaiting approval")
    DECISION_STALE = "decision_stale", _("The plan changed since the decision")
    # protocols
    PROTOCOL_NOT_FOUND = "protocol_not_found", _("No such protocol in the clinic's library")
    PROTOCOL_READ_ONLY = "protocol_read_only", _("Built-in protocols are read-only")
    # reports
    REPORT_NOT_READY = "report_not_ready", _("The report is not ready yet")
    REPORT_MISSING = "report_missing", _("The report's file is missing")
    # webhooks
    WEBHOOK_DISABLED = "webhook_disabled", _("The webhook endpoint is disabled")
    WEBHOOK_DELIVERY_WAITING = (
        "webhook_delivery_waiting",
        _("The delivery is waiting for its next attempt"),
    )
    # two-step sign-in
    TWO_STEP_ENROLLED = "two_step_enrolled", _("Two-step sign-in is already set up")
    TWO_STEP_NOT_ENROLLED = "two_step_not_enrolled", _("Two-step sign-in is not set up")
    TWO_STEP_NOT_STARTED = (
        "two_step_not_started",
        _("The two-step set-up expired or was finished elsewhere"),
    )
    # data requests
    NOT_CLINIC_ADMIN = "not_clinic_admin", _("Only the clinic's administrators can do this")
    # the audit trail
    AUDIT_RETENTION_KEEP = (
        "audit_retention_keep",
        _("No retention period is set: audit events are kept"),
    )


class RehabError(Exception):
    """A refusal a user can act on: `code` is stable for machines, `message` is for people.

    `fields` maps a field name to its messages, for forms and API clients. `status` is the HTTP
    status a door should answer with: 400 for bad input, 409 for a conflict with the record's
    current state (a paused plan, a duplicate log).
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.status = status

    def __repr__(self) -> str:
        return f"RehabError({str(self.code)!r}, {self.message!r})"

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


def validation_error(fields: dict[str, list[str] | str], message: str | None = None) -> RehabError:
    normalised = {name: msgs if isinstance(msgs, list) else [msgs] for name, msgs in fields.items()}
    if message is None:
        names = ", ".join(sorted(normalised))
        message = f"Please correct: {names}."
    return RehabError(ErrorCode.VALIDATION_ERROR, message, fields=normalised)
