"""PDF progress reports, rendered by a worker."""

from __future__ import annotations

from django.db import models

from rehab.models.fields import DATE_RANGE
from rehab.models.people import Clinic, Patient, User
from rehab.models.plans import Plan


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
