"""Session logs: as recorded, as logged, and the next morning's pain."""

from __future__ import annotations

from rest_framework import serializers

from rehab.api.serializers.fields import Boolean, Integer, Number, ScopedPrimaryKeyField, Text
from rehab.models import SETTING_CHOICES, Plan, SessionLog


class SessionSerializer(serializers.ModelSerializer):
    level = serializers.SerializerMethodField()
    speed_kmh = Number(allow_null=True, read_only=True)
    incline_pct = Number(read_only=True)

    class Meta:
        model = SessionLog
        fields = [
            "id",
            "patient",
            "plan",
            "date",
            "level",
            "minutes_done",
            "speed_kmh",
            "incline_pct",
            "setting",
            "pain_before",
            "pain_worst",
            "pain_after",
            "pain_next_morning",
            "effort",
            "swelling",
            "fall",
            "near_fall",
            "dizziness",
            "chest_pain",
            "notes",
            "supervised",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_level(self, obj) -> int:
        return obj.level_index + 1


def _score(**kwargs):
    return Integer(min_value=0, max_value=10, **kwargs)


class SessionCreateSerializer(serializers.Serializer):
    plan = ScopedPrimaryKeyField(queryset=Plan.objects.none())
    date = serializers.DateField(help_text="The patient's local date of the session.")
    minutes_done = Integer(min_value=1, max_value=180)
    speed_kmh = Number(min_value=0, max_value=10, required=False, allow_null=True)
    incline_pct = Number(min_value=0, max_value=20, required=False, default=0)
    setting = serializers.ChoiceField(choices=SETTING_CHOICES)
    pain_before = _score(help_text="NRS 0-10")
    pain_worst = _score(help_text="Worst pain during, NRS 0-10")
    pain_after = _score(help_text="NRS 0-10")
    pain_next_morning = _score(
        required=False, allow_null=True, help_text="Only for an earlier day."
    )
    effort = _score(help_text="Borg CR10, 0-10")
    swelling = serializers.ChoiceField(
        choices=SessionLog.Swelling.choices, required=False, default="none"
    )
    fall = Boolean(required=False, default=False)
    near_fall = Boolean(required=False, default=False)
    dizziness = Boolean(required=False, default=False)
    chest_pain = Boolean(required=False, default=False)
    notes = Text(required=False, allow_blank=True, default="", max_length=2000)

    def __init__(self, *args, plans=None, **kwargs):
        super().__init__(*args, **kwargs)
        if plans is not None:
            self.fields["plan"].queryset = plans


class NextMorningPainSerializer(serializers.Serializer):
    pain_next_morning = _score(help_text="Pain on waking the morning after, NRS 0-10")
