"""Read-only histories: reminders sent and the clinic's audit trail."""

from __future__ import annotations

from rest_framework import serializers

from rehab.api.serializers.fields import Integer
from rehab.models import AuditEvent, Reminder


class ReminderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reminder
        fields = [
            "id",
            "patient",
            "plan",
            "due_date",
            "kind",
            "channel",
            "scheduled_for",
            "status",
            "detail",
            "sent_at",
            "updated_at",
        ]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    patient = Integer(source="patient_ref", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "patient",
            "ip_address",
            "detail",
        ]
        read_only_fields = fields
