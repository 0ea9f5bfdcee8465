"""Session logs: as recorded, as logged, and the next morning's pain."""

from __future__ import annotations

from rest_framework import serializers

from rehab.api.serializers.fields import MAX_ID, Boolean, Integer, Number, Text
from rehab.api.serializers.plans import DecisionReasonSerializer
from rehab.models import SETTING_CHOICES, ProgressionDecision, SessionLog


class SessionDecisionSerializer(serializers.ModelSerializer):
    """The progression decision the evaluation after a session arrived at (a new one, or the
    unchanged one it confirmed); the whole decision is at /decisions/{id}/."""

    from_level = serializers.SerializerMethodField()
    to_level = serializers.SerializerMethodField()
    reasons = DecisionReasonSerializer(many=True, read_only=True)

    class Meta:
        model = ProgressionDecision
        fields = ["id", "outcome", "status", "from_level", "to_level", "reasons", "alert"]
        read_only_fields = fields

    def get_from_level(self, obj) -> int:
        return obj.from_level + 1

    def get_to_level(self, obj) -> int:
        return obj.to_level + 1


class SessionSerializer(serializers.ModelSerializer):
    level = serializers.SerializerMethodField()
    speed_kmh = Number(allow_null=True, read_only=True)
    incline_pct = Number(read_only=True)
    decision_pending = serializers.SerializerMethodField(
        help_text="True while the plan's evaluation after this session is still to come (a "
        "session with no safety signal is evaluated moments after it is saved); `decision` "
        "is then null. A fall, chest pain, severe or next-morning pain, a near fall, dizziness "
        "or a session outside the plan is evaluated before the response.",
    )
    decision = SessionDecisionSerializer(
        read_only=True,
        allow_null=True,
        help_text="The decision the evaluation after this session arrived at; null while it "
        "is pending, when the plan was no longer active, and for sessions logged before "
        "decisions were linked to them.",
    )

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
            "decision_pending",
            "decision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_level(self, obj) -> int:
        return obj.level_index + 1

    def get_decision_pending(self, obj) -> bool:
        return obj.evaluation_due_on is not None

    def to_representation(self, instance: SessionLog) -> dict:
        """The fields above, rendered directly: a ModelSerializer builds its 25 fields afresh
        for every instance, a third of the session POST's own work. A test holds this to the
        fields' rendering (and so to the schema they generate)."""
        log, decision = instance, instance.decision
        return {
            "id": log.pk,
            "patient": log.patient_id,
            "plan": log.plan_id,
            "date": _DATE.to_representation(log.date),
            "level": log.level_index + 1,
            "minutes_done": log.minutes_done,
            "speed_kmh": None if log.speed_kmh is None else float(log.speed_kmh),
            "incline_pct": float(log.incline_pct),
            "setting": log.setting,
            "pain_before": log.pain_before,
            "pain_worst": log.pain_worst,
            "pain_after": log.pain_after,
            "pain_next_morning": log.pain_next_morning,
            "effort": log.effort,
            "swelling": log.swelling,
            "fall": log.fall,
            "near_fall": log.near_fall,
            "dizziness": log.dizziness,
            "chest_pain": log.chest_pain,
            "notes": log.notes,
            "supervised": log.supervised,
            "decision_pending": log.evaluation_due_on is not None,
            "decision": None if decision is None else _decision(decision),
            "created_at": _DATETIME.to_representation(log.created_at),
            "updated_at": _DATETIME.to_representation(log.updated_at),
        }


_DATE = serializers.DateField()
_DATETIME = serializers.DateTimeField()


def _decision(decision: ProgressionDecision) -> dict:
    return {
        "id": decision.pk,
        "outcome": decision.outcome,
        "status": decision.status,
        "from_level": decision.from_level + 1,
        "to_level": decision.to_level + 1,
        "reasons": [
            {"code": r["code"], "text": r["text"], "outcome": r["outcome"]}
            for r in decision.reasons
        ],
        "alert": decision.alert,
    }


def _score(**kwargs):
    return Integer(min_value=0, max_value=10, **kwargs)


class PlanId(Integer):
    """A plan's id, only its shape: the service looks the plan up once, scoped to what the
    caller may see and locked. Out-of-range numbers read as "does not exist", as an id the
    caller may not see does (the service's words), instead of overflowing the integer type."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not 1 <= value <= MAX_ID:
            raise serializers.ValidationError(f'Invalid pk "{value}" - object does not exist.')
        return value


class SessionCreateSerializer(serializers.Serializer):
    plan = PlanId()
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


class NextMorningPainSerializer(serializers.Serializer):
    pain_next_morning = _score(help_text="Pain on waking the morning after, NRS 0-10")
