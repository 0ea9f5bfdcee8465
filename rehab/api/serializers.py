"""Input serializers parse and validate shapes; output serializers render. Neither holds a
clinical rule: that is the services' and rehab/clinical's job.

Levels are numbered from 1 in the API (level 1 is a protocol's first), as clinicians count them.
"""

from __future__ import annotations

import datetime as dt
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import screening as clinical_screening
from rehab.clinical.levels import CappedLevel
from rehab.models import (
    CONDITION_CHOICES,
    NOTE_MAX,
    SETTING_CHOICES,
    AuditEvent,
    ClinicalNote,
    OutcomeScore,
    Patient,
    Plan,
    ProgressionDecision,
    Protocol,
    Reminder,
    Report,
    Screening,
    SessionLog,
)
from rehab.services import PATIENT_EDITABLE

MAX_ID = 2**63 - 1


class Text(serializers.CharField):
    """Text as sent: a JSON string only (DRF would turn 2590 into "2590"), not trimmed before
    the length check, so the documented type and maxLength hold for the raw value (services
    strip names and reasons themselves)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id of a row the caller may see. Out-of-range numbers read as "does not exist", like
    another clinic's ids, instead of overflowing the database's integer type."""

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    """A JSON integer only: DRF would also take "5" and 5.0, which the schema does not allow."""

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class Number(serializers.FloatField):
    """A JSON number only (not a numeric string, not a boolean)."""

    def to_internal_value(self, data):
        if not isinstance(data, int | float) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class Boolean(serializers.BooleanField):
    """A JSON boolean only: DRF would also read "yes", 1 or "on"."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class ErrorSerializer(serializers.Serializer):
    """Every error response has this shape."""

    code = Text(help_text="Stable machine code, e.g. screening_blocked.")
    message = Text(help_text="What went wrong, for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=Text()),
        help_text="Field name (dotted for nested input) -> messages.",
    )


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


# --- Session logs ----------------------------------------------------------------------------


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


# --- Outcome measures ------------------------------------------------------------------------


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


# --- Reminders, audit, tokens ----------------------------------------------------------------


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


class TokenRequestSerializer(serializers.Serializer):
    username = Text(max_length=150)
    password = Text(max_length=200, style={"input_type": "password"})
    otp = Text(
        max_length=32,
        required=False,
        help_text="Required for an account with two-step sign-in: the 6-digit code the "
        "authenticator app shows now, or one of the account's single-use recovery codes. "
        "Without it such an account is refused with code `otp_required`.",
    )


class TokenSerializer(serializers.Serializer):
    token = Text()


# --- Reports ---------------------------------------------------------------------------------


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
