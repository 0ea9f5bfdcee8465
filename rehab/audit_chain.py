"""The audit trail made tamper-evident, and its retention.

Requests insert audit events as they always did: no lock, no extra query. Every minute the
sealer (beat's `audit_seal`, or `manage.py audit_seal`) takes each clinic's chain head row with
SELECT ... FOR UPDATE, gives that clinic's unsealed events the next places in the chain (in
sealing order) and a hash:

    hash = sha256(canonical content of the event + hash of the previous place)

An event whose transaction commits late is simply chained by a later seal, so the order by
place is always the order of sealing. The unique (chain, place) constraint makes a fork
impossible even if the lock were bypassed.

audit_verify walks each chain by place from its anchor: it recomputes every hash (an edited
event, or two events swapped, breaks the link at the first of them), looks for missing places
(a deleted event), for places past the head (an inserted one) and for events the sealer has
not chained after a grace period (inserted behind its back, or the sealer is not running).

Retention: `audit_export --before DATE` writes the events before a date as JSON lines (with
their places and hashes) and marks them exported; `audit_prune` (or the daily retention task)
removes, per chain, the longest run of events from the start that are sealed, exported and
older than both the date and AUDIT_RETENTION_DAYS, and moves the chain's anchor to the last
one removed, so the rest still verifies. A prune is itself an audit event.

The hash covers the columns that never change after insertion: the foreign keys to a person,
key, clinic or patient are left out, as deleting those rows legitimately empties them (their
lasting copies, actor_label, patient_ref and the chain's clinic, are covered).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rehab.audit import AuditAction, audit_record
from rehab.errors import ErrorCode, RehabError
from rehab.models import AuditChain, AuditEvent, AuditListing, Clinic

GENESIS = "0" * 64
SEAL_BATCH = 2000
VERIFY_CHUNK = 2000


def event_content(event: AuditEvent, clinic_ref: int) -> bytes:
    """The canonical bytes of an event: sorted keys, no spaces, UTC times to the microsecond."""
    return json.dumps(
        {
            "chain": clinic_ref,
            "seq": event.chain_seq,
            "id": event.pk,
            "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor": event.actor_label,
            "patient": event.patient_ref,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "detail": event.detail,
            "ip": event.ip_address,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode()


def event_hash(event: AuditEvent, clinic_ref: int, previous: str) -> str:
    return hashlib.sha256(event_content(event, clinic_ref) + previous.encode()).hexdigest()


def _of_clinic(clinic_ref: int) -> Q:
    return Q(clinic_id=clinic_ref) if clinic_ref else Q(clinic_id__isnull=True)


# --- Sealing -------------------------------------------------------------------------------------


def audit_seal(*, batch_size: int = SEAL_BATCH) -> int:
    """Chain every event not yet chained, clinic by clinic; returns how many were sealed. Safe
    to run twice at once: the second waits for each chain's lock and finds less to do."""
    refs = (
        AuditEvent.objects.filter(chain_seq__isnull=True)
        .order_by()
        .values_list("clinic_id", flat=True)
        .distinct()
    )
    return sum(_seal_chain(clinic_ref=ref or 0, batch_size=batch_size) for ref in set(refs))


def _seal_chain(*, clinic_ref: int, batch_size: int) -> int:
    chain, _ = AuditChain.objects.get_or_create(clinic_ref=clinic_ref)
    sealed = 0
    while True:
        with transaction.atomic():
            # The lock orders sealers of this chain; events are read after it is held, so a
            # sealer that waited sees what the one before it chained.
            chain = AuditChain.objects.select_for_update().get(pk=chain.pk)
            rows = list(
                AuditEvent.objects.filter(_of_clinic(clinic_ref), chain_seq__isnull=True).order_by(
                    "id"
                )[:batch_size]
            )
            if not rows:
                return sealed
            seq, previous = chain.head_seq, chain.head_hash or GENESIS
            for row in rows:
                seq += 1
                row.chain, row.chain_seq = chain, seq
                row.chain_hash = previous = event_hash(row, clinic_ref, previous)
            AuditEvent.objects.bulk_update(rows, ["chain", "chain_seq", "chain_hash"], 500)
            chain.head_seq, chain.head_hash, chain.sealed_at = seq, previous, timezone.now()
            chain.save(update_fields=["head_seq", "head_hash", "sealed_at"])
        sealed += len(rows)
        if len(rows) < batch_size:
            return sealed


# --- Verification --------------------------------------------------------------------------------


@dataclass
class ChainCheck:
    clinic_ref: int
    head_seq: int
    verified: int = 0
    broken: str = ""  # the first broken link, in words; empty when the chain holds


@dataclass
class VerifyResult:
    chains: list[ChainCheck] = field(default_factory=list)
    unsealed_late: int = 0  # events older than the grace period that no seal has chained
    oldest_unsealed: AuditEvent | None = None

    @property
    def ok(self) -> bool:
        return not self.unsealed_late and not any(c.broken for c in self.chains)


def audit_verify(
    *, grace: dt.timedelta | None = None, now: dt.datetime | None = None
) -> VerifyResult:
    """Walk every chain and report its first broken link (see the module's docstring)."""
    now = now or timezone.now()
    if grace is None:
        grace = dt.timedelta(minutes=settings.AUDIT_SEAL_GRACE_MINUTES)
    result = VerifyResult()
    for chain in AuditChain.objects.order_by("clinic_ref"):
        result.chains.append(_verify_chain(chain))
    late = AuditEvent.objects.filter(chain_seq__isnull=True, at__lt=now - grace)
    result.unsealed_late = late.count()
    result.oldest_unsealed = late.order_by("at", "id").first()
    return result


def _verify_chain(chain: AuditChain) -> ChainCheck:
    check = ChainCheck(clinic_ref=chain.clinic_ref, head_seq=chain.head_seq)
    before_anchor = (
        AuditEvent.objects.filter(chain=chain, chain_seq__lte=chain.anchor_seq)
        .order_by("chain_seq")
        .first()
    )
    if before_anchor is not None:
        check.broken = (
            f"event {before_anchor.pk} has place {before_anchor.chain_seq}, at or before the "
            f"prune anchor {chain.anchor_seq}: it was inserted"
        )
        return check
    expected, previous = chain.anchor_seq + 1, chain.anchor_hash or GENESIS
    for row in _events_in_order(chain):
        if row.chain_seq != expected:
            missing = (
                f"place {expected}"
                if row.chain_seq == expected + 1
                else f"places {expected}-{row.chain_seq - 1}"
            )
            check.broken = f"{missing} missing before event {row.pk}: deleted"
            return check
        if event_hash(row, chain.clinic_ref, previous) != row.chain_hash:
            check.broken = (
                f"place {row.chain_seq} (event {row.pk}): the hash does not match; the event "
                "was changed, moved or replaced"
            )
            return check
        previous = row.chain_hash
        expected += 1
        check.verified += 1
    last = expected - 1
    if last < chain.head_seq:
        check.broken = (
            f"places {last + 1}-{chain.head_seq} missing at the end of the chain: deleted"
        )
    elif last > chain.head_seq:
        check.broken = (
            f"place {chain.head_seq + 1} is past the chain's head {chain.head_seq}: inserted"
        )
    elif previous != (chain.head_hash or GENESIS):
        check.broken = f"place {last}: its hash is not the chain head's; the head was changed"
    return check


def _events_in_order(chain: AuditChain) -> Iterator[AuditEvent]:
    return (
        AuditEvent.objects.filter(chain=chain, chain_seq__gt=chain.anchor_seq)
        .order_by("chain_seq")
        .iterator(chunk_size=VERIFY_CHUNK)
    )


# --- Export and prune ----------------------------------------------------------------------------


def event_record(event: AuditEvent, clinic_ref: int) -> dict:
    """One line of an export: everything needed to re-verify the chain from it."""
    return {
        "clinic": clinic_ref,
        "seq": event.chain_seq,
        "hash": event.chain_hash,
        "id": event.pk,
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_label,
        "actor_id": event.actor_id,
        "api_key_id": event.api_key_id,
        "patient": event.patient_ref,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail,
        "ip": event.ip_address,
    }


def audit_export(*, before: dt.datetime, out: TextIO, now: dt.datetime | None = None) -> int:
    """Write every event before `before` as JSON lines, chain by chain in chain order, and mark
    them exported (what a prune may then remove). Events are sealed first, so each line carries
    its place and hash. Returns how many lines were written."""
    now = now or timezone.now()
    audit_seal()
    written = 0
    for chain in AuditChain.objects.order_by("clinic_ref"):
        # The head as it is now: a seal running meanwhile adds places after it, not before.
        rows = AuditEvent.objects.filter(
            chain=chain, chain_seq__lte=chain.head_seq, at__lt=before
        ).order_by("chain_seq")
        count = 0
        for row in rows.iterator(chunk_size=VERIFY_CHUNK):
            out.write(json.dumps(event_record(row, chain.clinic_ref), sort_keys=True) + "\n")
            count += 1
        if count:
            out.flush()
            rows.filter(exported_at__isnull=True).update(exported_at=now)
            audit_record(
                actor=None,
                action=AuditAction.AUDIT_EXPORT,
                clinic=Clinic.objects.filter(pk=chain.clinic_ref).first(),
                detail={"before": before.isoformat(), "events": count},
            )
        written += count
    return written


@dataclass
class Pruned:
    clinic_ref: int
    events: int
    through_seq: int


def audit_prune(*, before: dt.datetime, now: dt.datetime | None = None) -> list[Pruned]:
    """Remove, chain by chain, the events from the start of the chain that are sealed, exported
    and older than both `before` and the retention policy; record the anchor and the prune."""
    now = now or timezone.now()
    if settings.AUDIT_RETENTION_DAYS is None:
        raise RehabError(
            ErrorCode.AUDIT_RETENTION_KEEP,
            "AUDIT_RETENTION_DAYS is not set, so audit events are kept for ever; nothing was "
            "removed.",
        )
    cutoff = min(before, now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS))
    return [
        pruned
        for chain_id in AuditChain.objects.order_by("clinic_ref").values_list("pk", flat=True)
        if (pruned := _prune_chain(chain_id=chain_id, cutoff=cutoff, now=now)) is not None
    ]


@transaction.atomic
def _prune_chain(*, chain_id: int, cutoff: dt.datetime, now: dt.datetime) -> Pruned | None:
    chain = AuditChain.objects.select_for_update().get(pk=chain_id)
    rest = AuditEvent.objects.filter(chain=chain, chain_seq__gt=chain.anchor_seq)
    first_kept = (
        rest.filter(Q(at__gte=cutoff) | Q(exported_at__isnull=True))
        .order_by("chain_seq")
        .values_list("chain_seq", flat=True)
        .first()
    )
    through = chain.head_seq if first_kept is None else first_kept - 1
    if through <= chain.anchor_seq:
        return None
    last = rest.get(chain_seq=through)
    gone = rest.filter(chain_seq__lte=through)
    # The listing rows of the list reads removed go with them (AuditListing: no cascade).
    AuditListing.objects.filter(event__in=gone.values("pk")).delete()
    removed, _ = gone.delete()
    chain.anchor_seq, chain.anchor_hash, chain.pruned_at = through, last.chain_hash, now
    chain.save(update_fields=["anchor_seq", "anchor_hash", "pruned_at"])
    audit_record(
        actor=None,
        action=AuditAction.AUDIT_PRUNE,
        clinic=Clinic.objects.filter(pk=chain.clinic_ref).first(),
        detail={
            "events": removed,
            "through_seq": through,
            "anchor_hash": last.chain_hash,
            "before": cutoff.isoformat(),
        },
    )
    return Pruned(clinic_ref=chain.clinic_ref, events=removed, through_seq=through)


def audit_retention(*, now: dt.datetime | None = None) -> list[Pruned]:
    """The daily job: with a policy set, prune what it allows (exported events only)."""
    now = now or timezone.now()
    if settings.AUDIT_RETENTION_DAYS is None:
        return []
    return audit_prune(before=now, now=now)
