"""Who the data belongs to: users, clinics, clinicians and patients."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from rehab.models.fields import (
    CLINIC_TEXT_MAX,
    CONDITION_CHOICES,
    DATE_RANGE,
    ONE_LINE,
    validate_timezone,
)
from rehab.validators import note_validators, phone_tel_uri, validate_phone


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
    # Data requests (README, "A patient's data on request"), edited by its administrators. The
    # legal hold: erasing a patient keeps their clinical rows, stripped of who they are, because
    # health records must be kept for years after care ends in most jurisdictions (GDPR
    # Art. 17(3)(b), (c)); a clinic whose law lets it erase them too turns it off.
    erasure_legal_hold = models.BooleanField(default=True)
    # Archived patients whose last activity is older than this are listed for review.
    retention_years = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    # The events the clinic's enabled webhook endpoints subscribe to, kept by
    # rehab.services.webhooks: a write that could emit one reads it from the clinic it has
    # already loaded, so a clinic without webhooks pays no query for them (session logging's).
    webhook_events = models.JSONField(default=list, blank=True, editable=False)
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
    # Erased on request (services.patient_erase): no personal detail is left on the row, which
    # stays (archived) only so that the audit trail and any clinical rows under the clinic's
    # legal hold still point at something. No door shows it.
    erased_at = models.DateTimeField(null=True, blank=True)
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
