"""Signed webhooks: a clinic system's endpoints and each event's delivery to each of them."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from rehab.models.fields import ONE_LINE
from rehab.models.people import Clinic, User


class WebhookEvent(models.TextChoices):
    """What an endpoint may subscribe to. The value is the payload's `type`; it never changes."""

    PATIENT_CREATED = "patient.created", "A patient was added"
    PATIENT_UPDATED = "patient.updated", "A patient's record changed"
    SCREENING_COMPLETED = "screening.completed", "A screening was completed (with its verdict)"
    PLAN_ASSIGNED = "plan.assigned", "A plan was assigned"
    PLAN_PAUSED = "plan.paused", "A plan was paused (with the reason, e.g. a safety signal)"
    PLAN_RESUMED = "plan.resumed", "A paused plan was resumed"
    SESSION_LOGGED = "session.logged", "A session was logged"
    DECISION_CREATED = "decision.created", "A progression decision was made"
    DECISION_APPLIED = "decision.applied", "A progression decision was applied"
    OUTCOME_RECORDED = "outcome.recorded", "An outcome score was recorded"
    REPORT_READY = "report.ready", "A progress report is ready to download"


class WebhookEndpoint(models.Model):
    """Where a clinic's events are posted, signed as the Standard Webhooks specification says.

    The signing secret is not stored: the row keeps a random seed, and the secret is an HMAC of
    it under the server's WEBHOOKS_SECRET_KEY (rehab.webhooks.secret_for). A copy of the
    database alone therefore signs nothing; the secret is shown once, at creation or rotation,
    and can always be rotated. After a rotation the previous seed keeps signing too (a second
    signature in the header) until `previous_secret_until`, so receivers switch at their pace.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)  # WebhookEvent values
    description = models.CharField(max_length=200, blank=True, validators=ONE_LINE)
    secret_seed = models.CharField(max_length=64)
    previous_secret_seed = models.CharField(max_length=64, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The first failed attempt since the last success: failing for WEBHOOK_DISABLE_AFTER
    # disables the endpoint (and tells the clinic's administrators).
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["clinic", "created_at", "id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} of {self.clinic_id}"

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row itself (pending until a worker claims it) and
    the delivery log the clinic reads. `message_id` is the `webhook-id` header, the same on
    every attempt, so a receiver drops a duplicate."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent)
    message_id = models.CharField(max_length=40)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)  # no payload, no secret
    created_at = models.DateTimeField()  # the event's time, the payload's timestamp
    # Failed attempts are tried again until then (the event's time, or a manual retry's, plus
    # 24 hours), then the delivery is failed.
    retry_until = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "message_id"], name="one_delivery_per_endpoint_message"
            )
        ]
        indexes = [
            # The sweep's look-ups of what is due or claimed: those rows only, not the log.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to webhook {self.endpoint_id} ({self.status})"
