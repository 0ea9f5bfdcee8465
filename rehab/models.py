"""The tables. Rules live in rehab/clinical/ and services.py; models hold data and small
read-only conveniences that turn stored JSON back into the clinical dataclasses."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from rehab.clinical import levels as clinical_levels
from rehab.clinical.adherence import PlanDays, pauses_from_json
from rehab.clinical.levels import CappedLevel, Constraints, Level, cap_level, prescribed_name
from rehab.validators import (
    note_validators,
    phone_tel_uri,
    validate_date_in_range,
    validate_phone,
    validate_single_line,
)

CONDITION_CHOICES = list(clinical_levels.CONDITIONS.items())
SETTING_CHOICES = list(clinical_levels.SETTINGS.items())
PAIN_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]
# Every text a person types: one line (names, titles, reasons) or a note (rehab.validators).
ONE_LINE = [validate_single_line]
DATE_RANGE = [validate_date_in_range]
NOTE_MAX = 2000
CLINIC_TEXT_MAX = 500  # a clinic's address or opening hours: a few lines


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"{value!r} is not a known time zone (use a name like Europe/London)."
        )


class User(AbstractUser):
    """Every person who signs in: clinicians, patients (portal) and administrators."""

    # As AbstractUser's, plus the one-line rule: a clinician's name goes into e-mail headers.
    first_name = models.CharField("first name", max_length=150, blank=True, validators=ONE_LINE)
    last_name = models.CharField("last name", max_length=150, blank=True, validators=ONE_LINE)


class Clinic(models.Model):
    name = models.CharField(max_length=200, validators=ONE_LINE)
    slug = models.SlugField(unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Overrides of the [I] screening defaults (rehab.clinical.screening.ScreeningSettings).
    screening_settings = models.JSONField(default=dict, blank=True)
    # [I] No reminder is sent between these local times; one chosen inside them waits for the
    # end. A clinic may change them.
    quiet_hours_start = models.TimeField(default="21:00")
    quiet_hours_end = models.TimeField(default="08:00")
    # Every clinician of the clinic must sign in with a second step (an authenticator's code);
    # one without an authenticator is sent to set one up before any other page.
    require_two_step = models.BooleanField(default=False)
    # How patients reach the clinic, edited by its administrators: every stop message of the
    # portal shows the phone as a tap-to-call link (and the name alone when there is none).
    phone = models.CharField(max_length=32, blank=True, validators=[*ONE_LINE, validate_phone])
    address = models.TextField(blank=True, validators=note_validators(CLINIC_TEXT_MAX))
    opening_hours = models.TextField(blank=True, validators=note_validators(CLINIC_TEXT_MAX))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_uri(self) -> str:
        """The phone as a `tel:` link, "" when none is set."""
        return phone_tel_uri(self.phone)


class Clinician(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="clinician")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="clinicians")
    is_clinic_admin = models.BooleanField(default=False)
    title = models.CharField(
        max_length=100, blank=True, default="Physiotherapist", validators=ONE_LINE
    )

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username


class Patient(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        NONE = "none", "No reminders"

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    user = models.OneToOneField(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="patient"
    )
    first_name = models.CharField(max_length=100, validators=ONE_LINE)
    last_name = models.CharField(max_length=100, validators=ONE_LINE)
    date_of_birth = models.DateField(null=True, blank=True, validators=DATE_RANGE)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, validators=ONE_LINE)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    condition = models.CharField(max_length=40, choices=CONDITION_CHOICES)
    # The clinic's own record number, for integrations; unique within the clinic when given.
    external_id = models.CharField(max_length=64, blank=True, validators=ONE_LINE)
    reminder_channel = models.CharField(max_length=10, choices=Channel, default=Channel.EMAIL)
    reminder_time = models.TimeField(default="09:00")
    reminders_enabled = models.BooleanField(default=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # The clinician's Today list (rehab.selectors, "Dashboard: Today") reads these instead of
    # working every flag out on each request. dashboard_need: the patient's flags as one integer
    # (a bit per flag), computed for the clinic-local day dashboard_day by
    # services.dashboard_refresh; NULL there means "recompute". Every write that can change a
    # flag sets it to NULL and bumps dashboard_version in its own transaction
    # (services.dashboard_mark_stale), so a refresh that read the rows before such a write committed
    # can tell and leaves that patient for the next one. Never set elsewhere.
    dashboard_need = models.PositiveSmallIntegerField(default=0, editable=False)
    dashboard_day = models.DateField(null=True, blank=True, editable=False)
    dashboard_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "external_id"],
                condition=~Q(external_id=""),
                name="patient_external_id_unique_per_clinic",
                violation_error_code="external_id_taken",
                violation_error_message=(
                    "Another patient of this clinic already has this record number."
                ),
            )
        ]
        indexes = [
            models.Index(fields=["clinic", "last_name", "first_name"]),
            # The Today list's order within a clinic, for the patients it shows unless asked
            # for the archived: a page is read in order, its count, the flag counts and a
            # search's count from the index alone (it holds the searched columns too). Partial
            # rather than led by archived_at: PostgreSQL reads an index in order after an
            # equality, not after an IS NULL; archived_at is a column all the same, or SQLite
            # would read each row to test the condition the index already holds.
            models.Index(
                fields=[
                    "clinic",
                    "-dashboard_need",
                    "last_name",
                    "first_name",
                    "id",
                    "archived_at",
                    "external_id",
                    "email",
                ],
                condition=Q(archived_at__isnull=True),
                name="patient_dashboard_order_idx",
            ),
            # The patients a refresh must recompute, each set a range: those a write marked
            # (NULL), and those computed another day. Partial, so that no other query of a
            # clinic's patients mistakes them for an index of the clinic (SQLite would).
            models.Index(
                fields=["clinic"],
                condition=Q(dashboard_day__isnull=True),
                name="patient_dashboard_stale_idx",
            ),
            models.Index(
                fields=["clinic", "dashboard_day"],
                condition=Q(dashboard_day__isnull=False),
                name="patient_dashboard_day_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def local_today(self, now: datetime | None = None) -> date:
        """The patient's calendar day: what 'today' and 'no future dates' mean for them."""
        now = now or timezone.now()
        return now.astimezone(zoneinfo.ZoneInfo(self.timezone)).date()


class Protocol(models.Model):
    """A protocol of the library: built-in (clinic empty, read-only) or a clinic's own copy."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, null=True, blank=True, related_name="protocols"
    )
    code = models.SlugField(max_length=80)
    condition = models.CharField(max_length=40, choices=CONDITION_CHOICES)
    SUMMARY_MAX = 2000

    name = models.CharField(max_length=200, validators=ONE_LINE)
    summary = models.TextField(
        blank=True, max_length=SUMMARY_MAX, validators=note_validators(SUMMARY_MAX)
    )
    citations = models.JSONField(default=list, blank=True)
    retest_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome_measures = models.JSONField(default=list, blank=True)
    # Overrides of the progression thresholds (rehab.clinical.progression.ProgressionSettings).
    progression_settings = models.JSONField(default=dict, blank=True)
    # Bumped on every edit of the levels; a plan records the version it snapshotted.
    version = models.PositiveIntegerField(default=1)
    based_on = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["condition", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(clinic__isnull=True),
                name="protocol_builtin_code_unique",
            ),
            models.UniqueConstraint(
                fields=["clinic", "code"], name="protocol_code_unique_per_clinic"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_builtin(self) -> bool:
        return self.clinic_id is None


class ProtocolLevel(models.Model):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120, validators=ONE_LINE)
    minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    sessions_per_week = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    # Empty means the patient's own comfortable speed.
    speed_kmh = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(8)],
    )
    incline_pct = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(15)],
    )
    setting = models.CharField(max_length=40, choices=SETTING_CHOICES)
    min_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    interval_backward_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    interval_forward_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    supervised = models.BooleanField(default=False)
    note = models.TextField(blank=True, max_length=NOTE_MAX, validators=note_validators(NOTE_MAX))

    class Meta:
        ordering = ["protocol", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "position"], name="protocol_level_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def to_level(self) -> Level:
        interval = None
        if self.interval_backward_seconds and self.interval_forward_seconds:
            interval = clinical_levels.Interval(
                self.interval_backward_seconds, self.interval_forward_seconds
            )
        return Level(
            name=self.name,
            minutes=self.minutes,
            sessions_per_week=self.sessions_per_week,
            speed_kmh=None if self.speed_kmh is None else float(self.speed_kmh),
            incline_pct=float(self.incline_pct),
            setting=self.setting,
            min_days=self.min_days,
            interval=interval,
            supervised=self.supervised,
            note=self.note,
        )


class Screening(models.Model):
    class Status(models.TextChoices):
        CLEARED = "cleared", "Cleared"
        MODIFIED = "modified", "Cleared with modifications"
        INCOMPLETE = "incomplete", "Incomplete"
        BLOCKED = "blocked", "Blocked"

    class Referral(models.TextChoices):
        NONE = "none", "None"
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"
        EMERGENCY = "emergency", "Emergency"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="screenings")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    condition = models.CharField(max_length=40, choices=CONDITION_CHOICES)
    answers = models.JSONField()
    status = models.CharField(max_length=12, choices=Status)
    referral = models.CharField(max_length=12, choices=Referral)
    reasons = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    constraints = models.JSONField(default=dict)
    # The thresholds in force when it was screened, so a later change of the clinic's settings
    # never rewrites why this verdict was given.
    settings_used = models.JSONField(default=dict)
    screened_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    screened_at = models.DateTimeField(default=timezone.now)
    screened_on = models.DateField()
    valid_until = models.DateField()
    invalidated_at = models.DateTimeField(null=True, blank=True)
    invalidated_reason = models.CharField(max_length=200, blank=True, validators=ONE_LINE)

    class Meta:
        ordering = ["-screened_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-screened_at"]),
            # The digest's referrals not yet acted on, found without reading a clinic's
            # every screening: few screenings ever refer urgently.
            models.Index(
                fields=["clinic", "-screened_at"],
                condition=Q(referral__in=["urgent", "emergency"]),
                name="screening_urgent_referral_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Screening of {self.patient} on {self.screened_on}: {self.status}"

    def verdict_dict(self) -> dict:
        return {
            "status": self.status,
            "referral": self.referral,
            "reasons": list(self.reasons),
            "missing": list(self.missing),
            "constraints": dict(self.constraints),
        }

    def is_valid_on(self, day: date) -> bool:
        return self.invalidated_at is None and self.screened_on <= day <= self.valid_until


class ReferralAction(models.Model):
    """A clinician's record that a screening's urgent or emergency referral was acted on (who,
    when, what: "referred to A&E", "GP letter sent"). Until there is one, the referral stays
    flagged at the top of Today and in a banner on the patient's page, whatever happened to the
    screening since (a fall invalidating it, a newer screening): a referral nobody recorded as
    acted on may not have been."""

    screening = models.OneToOneField(
        Screening, on_delete=models.CASCADE, related_name="referral_action"
    )
    acted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    acted_at = models.DateTimeField(default=timezone.now)
    action = models.TextField(max_length=500, validators=note_validators(500))

    class Meta:
        ordering = ["-acted_at", "-id"]

    def __str__(self) -> str:
        return f"Referral acted on for screening {self.screening_id}"


class Plan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        DISCONTINUED = "discontinued", "Discontinued"

    OPEN_STATUSES = (Status.ACTIVE, Status.PAUSED)

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="plans")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="plans")
    # The snapshot: a later edit of the protocol never changes a live plan.
    protocol_version = models.PositiveIntegerField()
    protocol_name = models.CharField(max_length=200, validators=ONE_LINE)
    condition = models.CharField(max_length=40, choices=CONDITION_CHOICES)
    levels = models.JSONField()
    progression_settings = models.JSONField(default=dict)
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="plans")
    constraints = models.JSONField(default=dict)
    override_reason = models.TextField(
        blank=True, max_length=NOTE_MAX, validators=note_validators(NOTE_MAX)
    )
    overridden_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=14, choices=Status, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True, validators=ONE_LINE)
    current_level = models.PositiveSmallIntegerField(default=0)
    start_date = models.DateField(validators=DATE_RANGE)
    level_started_on = models.DateField()
    # Where progression starts counting sessions: the level's start or the last resume.
    window_start = models.DateField()
    schedule_days = models.JSONField(default=list)  # weekday numbers, Monday = 0
    # The spans the plan was paused, oldest first: [first paused day, day it resumed or null],
    # ISO dates in the patient's calendar. Kept on the plan (services set them as they pause and
    # resume) so that the adherence rule's paused days are read with the plan, in SQL too.
    pauses = models.JSONField(default=list, blank=True)
    auto_apply = models.BooleanField(
        default=False, help_text="Apply advance/regress decisions without waiting for approval."
    )
    assigned_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status__in=["active", "paused"]),
                name="one_open_plan_per_patient",
            )
        ]
        indexes = [models.Index(fields=["clinic", "status"])]

    def __str__(self) -> str:
        return f"{self.protocol_name} for {self.patient}"

    @property
    def constraints_obj(self) -> Constraints:
        return Constraints.from_dict(self.constraints)

    def level_objs(self) -> list[Level]:
        return [Level.from_dict(data) for data in self.levels]

    def capped_levels(self) -> list[CappedLevel]:
        constraints = self.constraints_obj
        return [cap_level(level, constraints) for level in self.level_objs()]

    def level_name(self, index: int) -> str:
        """Level `index` (0-based) by its name under the plan's constraints ("" past the end)."""
        if not 0 <= index < len(self.levels):
            return ""
        return prescribed_name(self.levels[index], self.constraints)

    def current_prescription(self) -> CappedLevel:
        return cap_level(Level.from_dict(self.levels[self.current_level]), self.constraints_obj)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def pause_spans(self) -> tuple[tuple[date, date | None], ...]:
        return pauses_from_json(self.pauses)

    def adherence_days(self) -> PlanDays:
        """What the adherence rule (rehab.clinical.adherence) needs of the plan: its days in the
        patient's calendar, the day it ended included."""
        return PlanDays(
            start=self.start_date,
            end=self.patient.local_today(self.ended_at) if self.ended_at is not None else None,
            schedule_days=frozenset(self.schedule_days),
            pauses=self.pause_spans(),
        )


class SessionLog(models.Model):
    class Swelling(models.TextChoices):
        NONE = "none", "None"
        SAME = "same", "Same as usual"
        MORE = "more", "More than usual"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="sessions")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField(validators=DATE_RANGE)
    level_index = models.PositiveSmallIntegerField()
    minutes_done = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(180)]
    )
    speed_kmh = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    incline_pct = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(20)],
    )
    setting = models.CharField(max_length=40, choices=SETTING_CHOICES)
    pain_before = models.PositiveSmallIntegerField(validators=PAIN_VALIDATORS)
    pain_worst = models.PositiveSmallIntegerField(validators=PAIN_VALIDATORS)
    pain_after = models.PositiveSmallIntegerField(validators=PAIN_VALIDATORS)
    pain_next_morning = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=PAIN_VALIDATORS
    )
    pain_next_morning_at = models.DateTimeField(null=True, blank=True)
    effort = models.PositiveSmallIntegerField(
        validators=PAIN_VALIDATORS, help_text="Borg CR10, 0-10"
    )
    swelling = models.CharField(max_length=8, choices=Swelling, default=Swelling.NONE)
    fall = models.BooleanField(default=False)
    near_fall = models.BooleanField(default=False)
    dizziness = models.BooleanField(default=False)
    chest_pain = models.BooleanField(default=False)
    notes = models.TextField(blank=True, max_length=NOTE_MAX, validators=note_validators(NOTE_MAX))
    logged_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Done with a clinician present and recorded by them on the dashboard (logged_by is that
    # clinician), e.g. for a plan whose screening allows supervised sessions only.
    supervised = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            # One log a day per plan keeps "that session's next-morning pain" unambiguous.
            models.UniqueConstraint(fields=["plan", "date"], name="one_session_log_per_plan_day"),
            models.CheckConstraint(
                condition=Q(pain_before__lte=10)
                & Q(pain_worst__lte=10)
                & Q(pain_after__lte=10)
                & Q(effort__lte=10),
                name="session_scores_within_0_10",
            ),
        ]
        indexes = [models.Index(fields=["plan", "date"]), models.Index(fields=["patient", "date"])]

    def __str__(self) -> str:
        return f"Session of {self.patient} on {self.date}"

    @property
    def adverse_events(self) -> list[str]:
        return [
            name for name in ("fall", "near_fall", "dizziness", "chest_pain") if getattr(self, name)
        ]


class ProgressionDecision(models.Model):
    class Outcome(models.TextChoices):
        ADVANCE = "advance", "Advance"
        HOLD = "hold", "Hold"
        REGRESS = "regress", "Regress"
        PAUSE = "pause", "Pause"

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        PENDING = "pending", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded"
        NOTED = "noted", "Noted (no change)"

    class Trigger(models.TextChoices):
        SESSION = "session", "Session logged"
        NEXT_MORNING = "next_morning", "Next-morning pain added"
        NIGHTLY = "nightly", "Nightly run"
        MANUAL = "manual", "Clinician"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="decisions")
    evaluated_on = models.DateField()
    trigger = models.CharField(max_length=14, choices=Trigger)
    outcome = models.CharField(max_length=10, choices=Outcome)
    from_level = models.PositiveSmallIntegerField()
    to_level = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)  # [{"code", "text", "outcome"}]
    alert = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status)
    applied_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=NOTE_MAX, validators=note_validators(NOTE_MAX))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["plan", "-created_at"]),
            models.Index(fields=["status", "plan"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.get_status_display()}) for {self.plan}"

    @property
    def reason_codes(self) -> list[str]:
        return [reason["code"] for reason in self.reasons]


class OutcomeScore(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="outcome_scores")
    plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="outcome_scores"
    )
    measure = models.CharField(max_length=10)
    taken_on = models.DateField(validators=DATE_RANGE)
    answers = models.JSONField()
    scores = models.JSONField()  # subscale -> score (None where too few items were answered)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient", "measure", "taken_on", "id"]
        indexes = [models.Index(fields=["patient", "measure", "taken_on"])]

    def __str__(self) -> str:
        return f"{self.measure.upper()} of {self.patient} on {self.taken_on}"


class ClinicalNote(models.Model):
    """A dated note a clinician writes on a patient's record. Its clinic is the patient's: the
    selectors scope notes through the patient, as sessions and outcome scores are scoped."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="clinical_notes")
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # The day the note is about (a phone call yesterday may be written up today).
    noted_on = models.DateField(validators=DATE_RANGE)
    text = models.TextField(max_length=NOTE_MAX, validators=note_validators(NOTE_MAX))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-noted_on", "-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-noted_on", "-created_at"])]

    def __str__(self) -> str:
        return f"Note on {self.patient} for {self.noted_on}"


class QuestionnaireDraft(models.Model):
    """A long questionnaire (KOOS's 42 items, RMDQ's 24) answered page by page: the answers of
    the pages done so far, so a patient whose phone locks or whose sign-in ends resumes where
    they left off. One per patient and measure; removed when the questionnaire is scored."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="questionnaire_drafts"
    )
    measure = models.CharField(max_length=10)
    answers = models.JSONField(default=dict)
    page = models.PositiveSmallIntegerField(default=0)  # the next page to show, 0-based
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "measure"], name="questionnaire_draft_one_per_measure"
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure.upper()} draft, page {self.page + 1}"


class KeptForm(models.Model):
    """A portal form that arrived after its sign-in had ended (a long walk, a long
    questionnaire), kept for the patient who filled it in to sign in again. Found by a random
    token whose hash only is stored (the token is in an HttpOnly cookie, never in a URL); bound
    to the account whose signed-in page the form came from; removed once used, refused or
    PORTAL_KEPT_FORM_HOURS old."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=200)
    data = models.JSONField()  # field name -> list of values, without the CSRF token
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"kept form {self.pk}"


class AuditChain(models.Model):
    """The head of one clinic's hash chain of audit events (clinic_ref 0: events without a
    clinic). Only the sealer (rehab/audit_chain.py) writes it, holding this row's lock, so a
    clinic's chain never forks; requests never touch it. After a prune, the anchor is the last
    removed event's place and hash, from which the rest still verifies."""

    clinic_ref = models.BigIntegerField(unique=True)
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    anchor_seq = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)
    pruned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"audit chain {self.clinic_ref} (through {self.head_seq})"


class AuditEvent(models.Model):
    """Who read or changed which patient's data, when, from where. Never holds clinical values:
    `detail` names fields and codes, not what a patient wrote.

    Rows are inserted with the chain columns empty (no lock, no extra query on a request); the
    sealer then gives each its place in its clinic's chain and a hash over its content and the
    previous event's hash."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    api_key = models.ForeignKey(
        "ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A plain id as well as the link, so the trail survives a patient's deletion.
    patient = models.ForeignKey(
        Patient, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    patient_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    chain = models.ForeignKey(
        AuditChain, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    chain_seq = models.BigIntegerField(null=True, blank=True)
    chain_hash = models.CharField(max_length=64, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "-at"]),
            # What the sealer looks for every minute: small, as sealed rows leave it.
            models.Index(
                fields=["clinic", "id"], condition=Q(chain_seq__isnull=True), name="audit_unsealed"
            ),
        ]
        constraints = [
            # The database itself refuses a fork: one event per place in a chain.
            models.UniqueConstraint(fields=["chain", "chain_seq"], name="audit_one_event_per_seq")
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class ApiKey(models.Model):
    """A clinic system's credential. Only a hash is stored; the key is shown once, at creation.

    Keys are long random strings, so a plain SHA-256 is as strong as a slow password hash here
    and keeps per-request authentication cheap; the prefix finds the row without a scan.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, validators=ONE_LINE)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, validators=DATE_RANGE)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["clinic", "name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class PersonalToken(models.Model):
    """A person's own API credential (POST /api/v1/auth/token/), e.g. a patient's phone app.

    Like ApiKey only a hash is stored; the token is shown once. It works until `expires_at`
    (API_TOKEN_DAYS) and only while the password it was issued under is unchanged
    (`password_stamp`): a change or reset of the password ends every token at once, whichever
    door changed it. Deactivating the account revokes them, so reactivation brings none back.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="personal_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    password_stamp = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-created_at"]

    def __str__(self) -> str:
        return f"token of {self.user} ({self.created_at:%Y-%m-%d})"


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed on a retry."""

    owner = models.CharField(max_length=40)  # "key:<id>" or "user:<id>": keys are per caller
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body of the first request
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # None: in progress
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "key"], name="idempotency_key_unique_per_owner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class DeliveryStatus(models.TextChoices):
    """The life of a message (reminder or alert): claimed from pending, then one outcome."""

    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Reminder(models.Model):
    """One reminder per patient, day and kind; the send's result is kept."""

    class Kind(models.TextChoices):
        SESSION = "session", "Session due"
        NUDGE = "nudge", "Missed-session nudge"

    Status = DeliveryStatus

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminders")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reminders")
    due_date = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.SESSION)
    channel = models.CharField(max_length=10, choices=Patient.Channel)
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    detail = models.CharField(max_length=300, blank=True)  # failure or skip reason, no content
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-due_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "due_date", "kind"], name="one_reminder_per_patient_day_kind"
            )
        ]
        indexes = [models.Index(fields=["status", "scheduled_for"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.patient} on {self.due_date}"


class Alert(models.Model):
    """A message to a clinician: at once when a plan pauses, holds after a near fall or dizziness,
    or a session was done outside the plan's settings; or the daily digest."""

    class Kind(models.TextChoices):
        PAUSE = "pause", "Plan paused"
        # A near fall or dizziness: the plan holds and the clinician is told at once.
        HOLD = "hold", "Hold and alert"
        OFF_PLAN = "off_plan", "Session outside the plan"
        DIGEST = "digest", "Daily digest"

    Status = DeliveryStatus

    clinician = models.ForeignKey(Clinician, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=10, choices=Kind)
    decision = models.ForeignKey(
        ProgressionDecision, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    day = models.DateField()
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    detail = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The outbox bookkeeping: when a worker claimed the send, and how many claims there were,
    # so the sweep can tell a dead claim from a live one and give up on a send that kills.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One alert of each kind per clinician and decision: a near fall on a session done
            # outside the plan is two alerts (hold and off-plan), neither hiding the other.
            models.UniqueConstraint(
                fields=["clinician", "decision", "kind"],
                condition=Q(decision__isnull=False),
                name="one_alert_per_clinician_decision_kind",
            ),
            models.UniqueConstraint(
                fields=["clinician", "day"],
                condition=Q(kind="digest"),
                name="one_digest_per_clinician_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.clinician} ({self.status})"


class Report(models.Model):
    """A PDF progress report, rendered by a worker, stored outside any public URL."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RENDERING = "rendering", "Rendering"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Audience(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        PATIENT = "patient", "Patient (plain language)"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reports")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.SET_NULL, null=True, related_name="reports")
    audience = models.CharField(max_length=10, choices=Audience)
    period_start = models.DateField(validators=DATE_RANGE)
    period_end = models.DateField(validators=DATE_RANGE)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    error = models.CharField(max_length=300, blank=True)
    file_name = models.CharField(max_length=100, blank=True)  # under MEDIA_ROOT/reports/
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    # The outbox bookkeeping, as on Alert: a claim older than the render's hard time limit is
    # dead (its worker was killed), and the sweep hands the report to a worker again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} report for {self.patient} ({self.status})"


class PortalInvite(models.Model):
    """A single-use, expiring link that lets a patient choose a portal password.

    Only a SHA-256 of the token is stored (like ApiKey): the token is a long random string, so
    a plain hash is as strong as a slow one, and a leaked table opens no account. A newer
    invitation revokes the patient's earlier unused ones, so one link at a time works.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="portal_invites")
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField()
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"])]

    def __str__(self) -> str:
        return f"Portal invitation for {self.patient} ({self.state()})"

    def state(self, now: datetime | None = None) -> str:
        """One of: used, revoked, expired, valid (the first that applies, in that order)."""
        now = now or timezone.now()
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "valid"


class CalendarFeed(models.Model):
    """A patient's private iCalendar link of their upcoming walking days.

    The token in the URL is the only credential (calendar apps cannot sign in), so only a
    SHA-256 of it is stored, like ApiKey: it is long and random, so a plain hash is as strong
    as a slow one, and a leaked table opens no feed. One row per patient: a new link replaces
    the hash (the old link then matches nothing); stopping the link sets revoked_at.
    """

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        state = "stopped" if self.revoked_at else "on"
        return f"Calendar link for {self.patient} ({state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
