"""Protocols and their levels, as listed, copied, edited and prescribed."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rehab.api.serializers.fields import Boolean, Integer, Number, Text
from rehab.clinical.levels import CappedLevel
from rehab.models import SETTING_CHOICES, Protocol

# --- Levels ----------------------------------------------------------------------------------


class IntervalSerializer(serializers.Serializer):
    backward_seconds = Integer(min_value=1, max_value=3600)
    forward_seconds = Integer(min_value=1, max_value=3600)


class LevelSerializer(serializers.Serializer):
    name = Text(max_length=120)
    minutes = Integer(min_value=1, max_value=120)
    sessions_per_week = Integer(min_value=1, max_value=7)
    speed_kmh = Number(
        min_value=0.1,
        max_value=8,
        allow_null=True,
        help_text="Empty: the patient's comfortable speed.",
    )
    incline_pct = Number(min_value=0, max_value=15)
    setting = serializers.ChoiceField(choices=SETTING_CHOICES)
    min_days = Integer(min_value=1, max_value=60)
    interval = IntervalSerializer(allow_null=True, required=False)
    supervised = Boolean(required=False, default=False)
    note = Text(required=False, allow_blank=True, default="", max_length=2000)


class PrescribedLevelSerializer(LevelSerializer):
    """A plan's level as prescribed: capped to the screening's constraints, each cap in words."""

    number = Integer(help_text="1 for the protocol's first level.")
    caps = serializers.ListField(child=Text())


def prescribed(number: int, capped: CappedLevel) -> dict:
    return {"number": number, **capped.level.to_dict(), "caps": list(capped.caps)}


# --- Protocols -------------------------------------------------------------------------------


class ProtocolSerializer(serializers.ModelSerializer):
    builtin = Boolean(source="is_builtin", read_only=True)
    levels = serializers.SerializerMethodField()

    class Meta:
        model = Protocol
        fields = [
            "id",
            "code",
            "name",
            "condition",
            "summary",
            "builtin",
            "version",
            "based_on",
            "citations",
            "retest_weeks",
            "outcome_measures",
            "progression_settings",
            "levels",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LevelSerializer(many=True))
    def get_levels(self, obj) -> list[dict]:
        return [row.to_level().to_dict() for row in obj.levels.all()]


class ProtocolCopySerializer(serializers.Serializer):
    name = Text(required=False, max_length=200)


class ProtocolUpdateSerializer(serializers.Serializer):
    name = Text(required=False, max_length=200)
    summary = Text(required=False, allow_blank=True, max_length=Protocol.SUMMARY_MAX)
    levels = LevelSerializer(many=True, required=False)
    progression_settings = serializers.DictField(required=False)
