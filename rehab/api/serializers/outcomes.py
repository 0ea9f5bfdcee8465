"""Outcome measures: scores as recorded, questionnaire answers, change against the baseline."""

from __future__ import annotations

from rest_framework import serializers

from rehab.api.serializers.fields import MAX_ID, Boolean, Number, ScopedPrimaryKeyField, Text
from rehab.clinical import outcomes as clinical_outcomes
from rehab.models import OutcomeScore, Patient


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutcomeScore
        fields = ["id", "patient", "plan", "measure", "taken_on", "answers", "scores", "created_at"]
        read_only_fields = fields


class OutcomeCreateSerializer(serializers.Serializer):
    patient = ScopedPrimaryKeyField(queryset=Patient.objects.none())
    measure = serializers.ChoiceField(choices=list(clinical_outcomes.MEASURES))
    answers = serializers.DictField(
        help_text='NPRS {"score": 0-10}; KOOS {"P1": 0-4, ...}; RMDQ {"R1": true, ...}; '
        'PSFS {"activities": [{"activity", "score"}]}; ODI/WOMAC {"total": n}.'
    )
    taken_on = serializers.DateField(required=False)

    def __init__(self, *args, patients=None, **kwargs):
        super().__init__(*args, **kwargs)
        if patients is not None:
            self.fields["patient"].queryset = patients


class OutcomeChangeQuerySerializer(serializers.Serializer):
    # Query parameters arrive as text: DRF's own field parses them.
    patient = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    measure = serializers.ChoiceField(choices=list(clinical_outcomes.MEASURES))


class OutcomeChangeSerializer(serializers.Serializer):
    subscale = Text()
    baseline = Number(allow_null=True)
    current = Number(allow_null=True)
    delta = Number(allow_null=True)
    improvement = Number(allow_null=True, help_text="Positive means better.")
    threshold = Text(help_text="The meaningful-change threshold in words.")
    meaningful = Boolean()
    worsened = Boolean()
