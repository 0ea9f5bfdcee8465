"""The audit trail: who read or changed which patient's data, sealed in a hash chain per clinic."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from rehab.models.people import Clinic, Patient, User


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
