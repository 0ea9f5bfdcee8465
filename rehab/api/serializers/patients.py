"""Patients, their screenings and their clinical notes."""

from __future__ import annotations

import datetime as dt
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rehab.api.serializers.fields import Boolean, ScopedPrimaryKeyField, Text
from rehab.clinical import screening as clinical_screening
from rehab.models import CONDITION_CHOICES, NOTE_MAX, ClinicalNote, Patient, Screening
from rehab.services import PATIENT_EDITABLE

# --- Patients --------------------------------------------------------------------------------

LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": LOCAL_TIME_PATTERN,
        "example": "09:00",
        "description": "Wall-clock time HH:MM in the patient's own time zone.",
    }
)
class LocalTimeField(serializers.Field):
    """A time of day in the patient's zone. Not an RFC 3339 time: it has no offset, because
    09:00 stays 09:00 for the patient across daylight-saving changes."""

    default_error_messages = {"invalid": "Give a time of day as HH:MM, e.g. 09:00."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.match(LOCAL_TIME_PATTERN, data):
            self.fail("invalid")
        hours, minutes = data.split(":")
        return dt.time(int(hours), int(minutes))

    def to_representation(self, value):
        return value.strftime("%H:%M")


class PatientSerializer(serializers.ModelSerializer):
    # An e-mail is optional: "" when none was given, so not schema-typed as an address.
    email = Text(read_only=True)
    reminder_time = LocalTimeField(read_only=True)

    class Meta:
        model = Patient
        fields = ["id", *PATIENT_EDITABLE, "archived_at", "created_at", "updated_at"]
        read_only_fields = fields


class PatientCreateSerializer(serializers.Serializer):
    first_name = Text(max_length=100)
    last_name = Text(max_length=100)
    condition = serializers.ChoiceField(choices=CONDITION_CHOICES)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    email = serializers.EmailField(
        required=False, allow_blank=True, max_length=254, trim_whitespace=False
    )
    phone = Text(required=False, allow_blank=True, max_length=32)
    timezone = Text(
        required=False,
        max_length=64,
        help_text="IANA name, e.g. Europe/London; default: the clinic's.",
    )
    external_id = Text(required=False, allow_blank=True, max_length=64)
    reminder_channel = serializers.ChoiceField(choices=Patient.Channel.choices, required=False)
    reminder_time = LocalTimeField(required=False)
    reminders_enabled = Boolean(required=False)


class PatientUpdateSerializer(PatientCreateSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


# --- Screenings ------------------------------------------------------------------------------


class VerdictSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=clinical_screening.STATUSES)
    referral = serializers.ChoiceField(choices=clinical_screening.REFERRALS)
    reasons = serializers.ListField(child=Text())
    missing = serializers.ListField(child=Text())
    constraints = serializers.DictField(help_text="Only the constraint fields that restrict.")


class ExplanationSerializer(serializers.Serializer):
    code = Text()
    text = Text()


class ScreeningSerializer(serializers.ModelSerializer):
    verdict = serializers.SerializerMethodField()
    explanations = serializers.SerializerMethodField()
    can_override = serializers.SerializerMethodField()

    class Meta:
        model = Screening
        fields = [
            "id",
            "patient",
            "condition",
            "answers",
            "verdict",
            "explanations",
            "can_override",
            "settings_used",
            "screened_at",
            "screened_on",
            "valid_until",
            "invalidated_at",
            "invalidated_reason",
        ]
        read_only_fields = fields

    def _verdict(self, obj) -> clinical_screening.Verdict:
        return clinical_screening.Verdict.from_dict(obj.verdict_dict())

    @extend_schema_field(VerdictSerializer)
    def get_verdict(self, obj) -> dict:
        return obj.verdict_dict()

    @extend_schema_field(ExplanationSerializer(many=True))
    def get_explanations(self, obj) -> list[dict]:
        return [{"code": c, "text": t} for c, t in self._verdict(obj).explanations()]

    def get_can_override(self, obj) -> bool:
        return self._verdict(obj).can_override


class ScreeningCreateSerializer(serializers.Serializer):
    patient = ScopedPrimaryKeyField(queryset=Patient.objects.none())
    answers = serializers.DictField(
        help_text="Answer codes of docs/clinical.md §3 -> values (JSON booleans, numbers, grades)."
    )

    def __init__(self, *args, patients=None, **kwargs):
        super().__init__(*args, **kwargs)
        if patients is not None:
            self.fields["patient"].queryset = patients


# --- Clinical notes --------------------------------------------------------------------------


class ClinicalNoteSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = ClinicalNote
        fields = ["id", "patient", "noted_on", "text", "author", "created_at"]
        read_only_fields = fields

    def get_author(self, obj) -> str:
        """The author's name; "" for a clinic system's key or a removed account."""
        user = obj.author
        return (user.get_full_name() or user.get_username()) if user is not None else ""


class ClinicalNoteCreateSerializer(serializers.Serializer):
    noted_on = serializers.DateField(help_text="The day the note is about; not in the future.")
    text = Text(max_length=NOTE_MAX)
