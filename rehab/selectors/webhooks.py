"""A clinic's webhook endpoints and their delivery log: its administrators' and its systems'."""

from __future__ import annotations

from django.db.models import QuerySet

from rehab.access import API_KEY, Principal
from rehab.models import WebhookDelivery, WebhookEndpoint


def webhooks_manageable_by(principal: Principal) -> bool:
    """Who manages a clinic's webhooks: its administrators and its systems (API keys)."""
    return principal.kind == API_KEY or principal.is_clinic_admin


def webhook_endpoints_for(principal: Principal) -> QuerySet[WebhookEndpoint]:
    if not webhooks_manageable_by(principal):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(clinic=principal.clinic).select_related("clinic")


def webhook_deliveries_for(
    principal: Principal, *, endpoint: WebhookEndpoint
) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log, newest first (the endpoint comes from
    webhook_endpoints_for, so it is the principal's clinic's)."""
    if not webhooks_manageable_by(principal) or endpoint.clinic_id != principal.clinic.pk:
        return WebhookDelivery.objects.none()
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")
