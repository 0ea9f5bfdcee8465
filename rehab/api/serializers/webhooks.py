"""Webhook endpoints, their signing secret (shown once) and their delivery log."""

from __future__ import annotations

from rest_framework import serializers

from rehab.api.serializers.fields import Boolean, Integer, Text
from rehab.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    enabled = serializers.BooleanField(
        help_text="False once disabled, by the clinic or after failing for 3 days."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "description",
            "enabled",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "previous_secret_until",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_...), shown this once: store it now."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = Text(max_length=2000, help_text="An https:// URL that accepts POSTed JSON.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        min_length=1,
        max_length=len(WebhookEvent.values),
    )
    description = Text(max_length=200, required=False, default="")


class WebhookEndpointUpdateSerializer(WebhookEndpointCreateSerializer):
    enabled = Boolean(required=False, help_text="true enables it again and forgets its failures.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.fields["description"].default = serializers.empty


class WebhookRotateSerializer(serializers.Serializer):
    overlap_hours = Integer(
        min_value=0,
        max_value=168,
        required=False,
        default=24,
        help_text="How long the previous secret keeps signing too (0: it ends now).",
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt = serializers.IntegerField(source="attempts", help_text="Attempts made so far.")
    status_code = serializers.IntegerField(
        source="last_status_code", allow_null=True, help_text="The last attempt's HTTP status."
    )
    duration_ms = serializers.IntegerField(source="last_duration_ms", allow_null=True)
    error = serializers.CharField(source="last_error")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "message_id",
            "status",
            "attempt",
            "status_code",
            "duration_ms",
            "error",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "retry_until",
        ]
        read_only_fields = fields
