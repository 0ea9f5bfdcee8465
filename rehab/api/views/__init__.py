"""API views: parse with an input serializer, act through a service, render with an output
serializer. Querysets come from the selectors scoped by the acting principal, so another
clinic's (or another patient's) row is simply not found: a 404, never a 403 or a leak."""

from rehab.api.views.base import ID, IDEMPOTENCY_HEADER, ApiViewSet
from rehab.api.views.history import AuditEventViewSet, ReminderViewSet
from rehab.api.views.outcomes import OutcomeViewSet
from rehab.api.views.patients import PatientViewSet, ScreeningViewSet
from rehab.api.views.plans import DecisionViewSet, PlanViewSet
from rehab.api.views.protocols import ProtocolViewSet
from rehab.api.views.reports import ReportViewSet
from rehab.api.views.sessions import SessionViewSet
from rehab.api.views.tokens import OtpInvalid, OtpRequired, TokenView, TwoStepSetupRequired
from rehab.api.views.webhooks import WebhookViewSet

__all__ = [
    "ID",
    "IDEMPOTENCY_HEADER",
    "ApiViewSet",
    "AuditEventViewSet",
    "DecisionViewSet",
    "OtpInvalid",
    "OtpRequired",
    "OutcomeViewSet",
    "PatientViewSet",
    "PlanViewSet",
    "ProtocolViewSet",
    "ReminderViewSet",
    "ReportViewSet",
    "ScreeningViewSet",
    "SessionViewSet",
    "TokenView",
    "TwoStepSetupRequired",
    "WebhookViewSet",
]
