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
    patient_ref = models.BigIntegerField(null=True, blank=True)
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
            # The trail newest first, keyed down to the row (the API's cursor and the patient
            # page read the latest rows of an index, not a sort of every row: goal of issue 13).
            models.Index(fields=["clinic", "-at", "-id"], name="audit_clinic_latest"),
            models.Index(fields=["patient_ref", "-at", "-id"], name="audit_patient_latest"),
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


class AuditListing(models.Model):
    """One patient shown by a read of several (a list): the database's own index of a list
    event's `detail["patients"]`, so that "who saw this patient" finds the one event a list
    response records. Rows are written only by an insert trigger on the event table (migration
    0023_audit_scale), in the event's own statement: never by the application, so the index
    cannot disagree with the sealed detail it is built from. The retention prune removes them
    with their events."""

    # No constraint (the trigger writes, the prune deletes, both in step); no cascade either, so
    # the prune stays a plain DELETE instead of loading every event it removes.
    event = models.ForeignKey(
        AuditEvent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    patient_ref = models.BigIntegerField()
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["patient_ref", "-at", "-event"], name="audit_listed_latest"),
        ]

    def __str__(self) -> str:
        return f"patient {self.patient_ref} listed by event {self.event_id}"
