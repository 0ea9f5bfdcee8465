"""Webhook endpoints: a clinic's administrators and systems subscribe a URL to events."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404

from rehab import selectors, services
from rehab.api import serializers as s
from rehab.api.views.base import ID, ApiViewSet
from rehab.models import WebhookEndpoint

SECRET_ONCE = (
    " The answer carries the signing secret (`whsec_...`) this once; only a rotation shows a "
    "new one."
)
WHO = " Clinic administrators and clinic systems (API keys) only; another clinic's id is a 404."


@extend_schema_view(
    list=extend_schema(
        summary="List the clinic's webhook endpoints",
        tags=["webhooks"],
        description="The clinic's endpoints, oldest first, with their state." + WHO,
    ),
    retrieve=extend_schema(
        summary="Get a webhook endpoint", tags=["webhooks"], description="One endpoint." + WHO
    ),
    destroy=extend_schema(
        summary="Remove a webhook endpoint",
        tags=["webhooks"],
        description="Removes the endpoint, its delivery log and what still waited for it." + WHO,
    ),
)
class WebhookViewSet(
    ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    queryset = WebhookEndpoint.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.WebhookEndpointSerializer
    ordering_fields = ["created_at", "id"]
    ordering = ["created_at", "id"]
    admin_or_key_only = True

    def get_queryset(self):
        return selectors.webhook_endpoints_for(self.principal)

    @extend_schema(
        summary="Add a webhook endpoint",
        tags=["webhooks"],
        description=(
            "Subscribes an https URL to events. Each event is POSTed as JSON, signed as the "
            "Standard Webhooks specification says (webhook-id, webhook-timestamp, "
            "webhook-signature)." + SECRET_ONCE + WHO
        ),
        request=s.WebhookEndpointCreateSerializer,
        responses={201: s.WebhookEndpointWithSecretSerializer},
    )
    def create(self, request):
        data = self.parse(s.WebhookEndpointCreateSerializer)
        endpoint, secret = services.webhook_endpoint_create(
            clinic=self.principal.clinic, actor=self.principal.actor, **data
        )
        endpoint.secret = secret
        return self.render(
            endpoint,
            serializer_class=s.WebhookEndpointWithSecretSerializer,
            status_code=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Change a webhook endpoint",
        tags=["webhooks"],
        description=(
            "Changes the fields sent (url, events, description, enabled) and keeps the rest. "
            "`enabled: true` enables a disabled endpoint again." + WHO
        ),
        request=s.WebhookEndpointUpdateSerializer,
        responses=s.WebhookEndpointSerializer,
    )
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = self.parse(s.WebhookEndpointUpdateSerializer, partial=True)
        return self.render(
            services.webhook_endpoint_update(endpoint=endpoint, actor=self.principal.actor, **data)
        )

    def perform_destroy(self, instance):
        services.webhook_endpoint_delete(endpoint=instance, actor=self.principal.actor)

    @extend_schema(
        summary="Rotate a webhook endpoint's signing secret",
        tags=["webhooks"],
        description=(
            "Makes a new signing secret. The previous one keeps signing too (a second `v1,` "
            "signature in webhook-signature) for `overlap_hours` (24 unless said; 0 ends it at "
            "once), so the receiver can switch without losing an event." + SECRET_ONCE + WHO
        ),
        request=s.WebhookRotateSerializer,
        responses=s.WebhookEndpointWithSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        data = self.parse(s.WebhookRotateSerializer)
        endpoint, secret = services.webhook_endpoint_rotate_secret(
            endpoint=endpoint,
            actor=self.principal.actor,
            overlap=dt.timedelta(hours=data["overlap_hours"]),
        )
        endpoint.secret = secret
        return self.render(endpoint, serializer_class=s.WebhookEndpointWithSecretSerializer)

    @extend_schema(
        summary="A webhook endpoint's delivery log",
        tags=["webhooks"],
        description=(
            "Each event sent or to be sent to the endpoint, newest first: its status, attempts, "
            "the last attempt's HTTP status, duration and error, and when the next attempt is "
            "due." + WHO
        ),
        responses=s.WebhookDeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="deliveries")
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        rows = selectors.webhook_deliveries_for(self.principal, endpoint=endpoint)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a webhook delivery again",
        tags=["webhooks"],
        description=(
            "Sends a failed (or succeeded) delivery again now, with the same webhook-id, and "
            "retries it for 24 hours more if it fails. A delivery still waiting for its next "
            "attempt is a 409 webhook_delivery_waiting; a disabled endpoint's, a 409 "
            "webhook_disabled." + WHO
        ),
        request=None,
        responses={202: s.WebhookDeliverySerializer},
        parameters=[
            OpenApiParameter("delivery_id", int, OpenApiParameter.PATH, pattern=ID),
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"deliveries/(?P<delivery_id>{ID})/retry",
        url_name="delivery-retry",
    )
    def retry(self, request, pk=None, delivery_id=None):
        endpoint = self.get_object()
        delivery = get_object_or_404(
            selectors.webhook_deliveries_for(self.principal, endpoint=endpoint), pk=delivery_id
        )
        delivery = services.webhook_delivery_retry(delivery=delivery, actor=self.principal.actor)
        return self.render(
            delivery,
            serializer_class=s.WebhookDeliverySerializer,
            status_code=status.HTTP_202_ACCEPTED,
        )
