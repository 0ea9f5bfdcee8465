"""What the API door keeps: clinic API keys, personal tokens and replayable first responses."""

from __future__ import annotations

from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from rehab.models.fields import DATE_RANGE, ONE_LINE
from rehab.models.people import Clinic, User


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
