"""Messages to people and their delivery: reminders to patients, alerts to clinicians."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from rehab.models.people import Clinician, Patient
from rehab.models.plans import Plan, ProgressionDecision


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
            # The day first: a day's rows sit together at the end of the index, so that planning
            # writes them and checks them there (rehab.services.reminder_planning) rather than
            # beside each patient's earlier days all over it. The patient's own index serves a
            # patient's reminders.
            models.UniqueConstraint(
                fields=["due_date", "patient", "kind"], name="one_reminder_per_patient_day_kind"
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
