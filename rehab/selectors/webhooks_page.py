"""The dashboard's webhooks pages: an endpoint's delivery log, a page at a time."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet

from rehab.access import Principal
from rehab.models import WebhookDelivery, WebhookEndpoint
from rehab.selectors.webhooks import webhook_deliveries_for

WEBHOOK_LOG_PAGE_SIZE = 25


def webhook_log_for(
    principal: Principal, *, endpoint: WebhookEndpoint
) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log as webhook_deliveries_for scopes and orders it, without the
    payloads: the page shows none of them, and they are each row's bulk and its patient data."""
    return webhook_deliveries_for(principal, endpoint=endpoint).defer("payload")


def webhook_log_paginator(principal: Principal, *, endpoint: WebhookEndpoint) -> Paginator:
    """Pages of WEBHOOK_LOG_PAGE_SIZE, newest first (a COUNT, then the page's rows)."""
    return Paginator(webhook_log_for(principal, endpoint=endpoint), WEBHOOK_LOG_PAGE_SIZE)
