"""The tables, one module per noun group. Rules live in rehab/clinical/ and the services;
models hold data and small read-only conveniences that turn stored JSON back into the
clinical dataclasses. Every model is importable from here (`from rehab.models import Plan`),
which is also how Django finds them (app label `rehab`)."""

from rehab.models.audit import AuditChain, AuditEvent, AuditListing
from rehab.models.credentials import ApiKey, IdempotencyRecord, PersonalToken
from rehab.models.fields import (
    CLINIC_TEXT_MAX,
    CONDITION_CHOICES,
    DATE_RANGE,
    NOTE_MAX,
    ONE_LINE,
    PAIN_VALIDATORS,
    SETTING_CHOICES,
    validate_timezone,
)
from rehab.models.messages import Alert, DeliveryStatus, Reminder
from rehab.models.outcomes import ClinicalNote, OutcomeScore, QuestionnaireDraft
from rehab.models.people import Clinic, Clinician, Patient, User
from rehab.models.plans import Plan, ProgressionDecision, SessionLog
from rehab.models.portal import CalendarFeed, KeptForm, PortalInvite
from rehab.models.protocols import Protocol, ProtocolLevel
from rehab.models.reports import Report
from rehab.models.screening import ReferralAction, Screening
from rehab.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "CLINIC_TEXT_MAX",
    "CONDITION_CHOICES",
    "DATE_RANGE",
    "NOTE_MAX",
    "ONE_LINE",
    "PAIN_VALIDATORS",
    "SETTING_CHOICES",
    "Alert",
    "ApiKey",
    "AuditChain",
    "AuditEvent",
    "AuditListing",
    "CalendarFeed",
    "Clinic",
    "ClinicalNote",
    "Clinician",
    "DeliveryStatus",
    "IdempotencyRecord",
    "KeptForm",
    "OutcomeScore",
    "Patient",
    "PersonalToken",
    "Plan",
    "PortalInvite",
    "ProgressionDecision",
    "Protocol",
    "ProtocolLevel",
    "QuestionnaireDraft",
    "ReferralAction",
    "Reminder",
    "Report",
    "Screening",
    "SessionLog",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "validate_timezone",
]
