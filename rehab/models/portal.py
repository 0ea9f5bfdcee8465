"""The patient portal's own rows: invitations, calendar links and forms kept past a sign-in."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from rehab.models.people import Patient, User


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
