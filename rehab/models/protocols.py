"""The protocol library: built-in protocols and clinics' copies, and their levels."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from rehab.clinical import levels as clinical_levels
from rehab.clinical.levels import Level
from rehab.models.fields import CONDITION_CHOICES, NOTE_MAX, ONE_LINE, SETTING_CHOICES
from rehab.models.people import Clinic
from rehab.validators import note_validators


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
