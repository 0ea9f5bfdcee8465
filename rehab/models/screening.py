"""Screenings before a plan (answers and verdict) and referrals acted on."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone

from rehab.models.fields import CONDITION_CHOICES, ONE_LINE
from rehab.models.people import Clinic, Patient, User
from rehab.validators import note_validators


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
