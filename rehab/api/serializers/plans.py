"""Plans, the state changes asked of them, and progression decisions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rehab.api.serializers.fields import Boolean, Integer, ScopedPrimaryKeyField, Text
from rehab.api.serializers.protocols import PrescribedLevelSerializer, prescribed
from rehab.models import Patient, Plan, ProgressionDecision, Protocol

# --- Plans -----------------------------------------------------------------------------------


class PlanSerializer(serializers.ModelSerializer):
    current_level = serializers.SerializerMethodField()
    prescription = serializers.SerializerMethodField()
    levels = serializers.SerializerMethodField()
    patient_timezone = Text(source="patient.timezone", read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "patient",
            "patient_timezone",
            "protocol",
            "protocol_name",
            "protocol_version",
            "condition",
            "status",
            "status_reason",
            "screening",
            "constraints",
            "override_reason",
            "current_level",
            "prescription",
            "levels",
            "start_date",
            "level_started_on",
            "schedule_days",
            "auto_apply",
            "created_at",
            "updated_at",
            "ended_at",
        ]
        read_only_fields = fields

    def get_current_level(self, obj) -> int:
        return obj.current_level + 1

    @extend_schema_field(PrescribedLevelSerializer)
    def get_prescription(self, obj) -> dict:
        return prescribed(obj.current_level + 1, obj.current_prescription())

    @extend_schema_field(PrescribedLevelSerializer(many=True))
    def get_levels(self, obj) -> list[dict]:
        return [prescribed(n, capped) for n, capped in enumerate(obj.capped_levels(), start=1)]


class PlanCreateSerializer(serializers.Serializer):
    patient = ScopedPrimaryKeyField(queryset=Patient.objects.none())
    protocol = ScopedPrimaryKeyField(queryset=Protocol.objects.none())
    start_date = serializers.DateField(required=False)
    schedule_days = serializers.ListField(
        child=Integer(min_value=0, max_value=6),
        required=False,
        min_length=1,
        max_length=7,
        help_text="Weekdays, Monday = 0. Default: spread over the week.",
    )
    auto_apply = Boolean(required=False, default=False)
    override_reason = Text(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Only for a blocked screening a clinician may override (routine or no referral).",
    )

    def __init__(self, *args, patients=None, protocols=None, **kwargs):
        super().__init__(*args, **kwargs)
        if patients is not None:
            self.fields["patient"].queryset = patients
        if protocols is not None:
            self.fields["protocol"].queryset = protocols


class PlanUpdateSerializer(serializers.Serializer):
    auto_apply = Boolean()


class ReasonSerializer(serializers.Serializer):
    reason = Text(required=False, allow_blank=True, max_length=300)


class PlanResumeSerializer(ReasonSerializer):
    override_reason = Text(required=False, allow_blank=True, max_length=2000)


class PlanDiscontinueSerializer(serializers.Serializer):
    reason = Text(max_length=300)


class PlanSetLevelSerializer(serializers.Serializer):
    level = Integer(min_value=1, help_text="The level number, 1 for the first.")
    reason = Text(max_length=300)


# --- Decisions -------------------------------------------------------------------------------


class DecisionReasonSerializer(serializers.Serializer):
    code = Text()
    text = Text()
    outcome = serializers.ChoiceField(choices=ProgressionDecision.Outcome.choices)


class DecisionSerializer(serializers.ModelSerializer):
    patient = Integer(source="plan.patient_id", read_only=True)
    from_level = serializers.SerializerMethodField()
    to_level = serializers.SerializerMethodField()
    reasons = DecisionReasonSerializer(many=True, read_only=True)

    class Meta:
        model = ProgressionDecision
        fields = [
            "id",
            "plan",
            "patient",
            "evaluated_on",
            "trigger",
            "outcome",
            "from_level",
            "to_level",
            "reasons",
            "alert",
            "status",
            "applied_on",
            "decided_at",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def get_from_level(self, obj) -> int:
        return obj.from_level + 1

    def get_to_level(self, obj) -> int:
        return obj.to_level + 1


class NoteSerializer(serializers.Serializer):
    note = Text(required=False, allow_blank=True, default="", max_length=2000)
