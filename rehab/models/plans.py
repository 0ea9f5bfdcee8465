"""A patient's plan, the sessions logged on it and the progression decisions."""

from __future__ import annotations

from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from rehab.clinical.adherence import PlanDays, pauses_from_json
from rehab.clinical.levels import CappedLevel, Constraints, Level, cap_level, prescribed_name
from rehab.models.fields import (
    CONDITION_CHOICES,
    DATE_RANGE,
    NOTE_MAX,
    ONE_LINE,
    PAIN_VALIDATORS,
    SETTING_CHOICES,
)
from rehab.models.people import Clinic, Patient, User
from rehab.models.protocols import Protocol
from rehab.models.screening import Screening
from rehab.validators import note_validators


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
    # The moment the clinician last resumed the plan (None: never). The window starts on the
    # resume's day, which may hold the safety signal that paused the plan: one recorded before
    # this moment was before the clinician, and pauses the plan no more (CLINICAL.md §4.1).
    resumed_at = models.DateTimeField(null=True, blank=True)
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
    # The plan's evaluation after this session, when it carried no safety signal, runs as
    # deferred work (services.session_evaluate): recorded here in the log's own INSERT, handed to
    # a worker after commit, swept if the broker lost it (rehab/outbox.py). The patient's day it
    # is due for (the day the session was logged: what an evaluation at once would have seen);
    # None once done, and for a session evaluated at once.
    evaluation_due_on = models.DateField(null=True, blank=True)
    # The decision the evaluation after this session arrived at (a new one, or the unchanged
    # one it confirmed); None while it is due, and for sessions logged before it was kept.
    decision = models.ForeignKey(
        "ProgressionDecision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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
        indexes = [
            models.Index(fields=["plan", "date"]),
            models.Index(fields=["patient", "date"]),
            # The outbox sweep's look-up: only the few sessions whose evaluation is still due.
            models.Index(
                fields=["created_at"],
                condition=Q(evaluation_due_on__isnull=False),
                name="session_evaluation_due",
            ),
        ]

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
    # [{"code", "text", "outcome"}], with "days" (ISO dates) for a reason naming events.
    reasons = models.JSONField(default=list)
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
