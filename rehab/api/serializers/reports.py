"""PDF progress reports: their status and a request for one."""

from __future__ import annotations

from rest_framework import serializers

from rehab.api.serializers.fields import ScopedPrimaryKeyField
from rehab.models import Patient, Report


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = [
            "id",
            "patient",
            "plan",
            "audience",
            "period_start",
            "period_end",
            "status",
            "error",
            "size_bytes",
            "created_at",
            "rendered_at",
        ]
        read_only_fields = fields


class ReportCreateSerializer(serializers.Serializer):
    patient = ScopedPrimaryKeyField(queryset=Patient.objects.none())
    audience = serializers.ChoiceField(
        choices=Report.Audience.choices,
        help_text="clinician: the full version; patient: plain language. Patients get theirs.",
    )
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)

    def __init__(self, *args, patients=None, **kwargs):
        super().__init__(*args, **kwargs)
        if patients is not None:
            self.fields["patient"].queryset = patients
