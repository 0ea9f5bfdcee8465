"""Audit events: who read or changed which patient's data, when, from where.

Services record every write; selectors and the doors record reads. The request's address comes
from a context variable the middleware sets, so services need not know about requests.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import models

from rehab.client_ip import client_address
from rehab.models import ApiKey, AuditEvent, Clinic, Patient, User

# Who can act: a person, a clinic system's API key, or the system itself (None).
Actor = User | ApiKey | None

_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)


def actor_label(actor: Actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, ApiKey):
        return f"api-key:{actor.name}"
    return actor.get_username()


def as_user(actor: Actor) -> User | None:
    """The person behind an actor, for the *_by columns (an API key or the system has none)."""
    return actor if isinstance(actor, User) and actor.pk else None


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(**_event_fields(actor, action, obj, patient, clinic, detail))


def _event_fields(actor, action, obj, patient, clinic, detail) -> dict[str, Any]:
    if clinic is None and patient is not None:
        clinic = patient.clinic
    return {
        "actor": as_user(actor),
        "api_key": actor if isinstance(actor, ApiKey) else None,
        "actor_label": actor_label(actor),
        "clinic": clinic,
        "patient": patient,
        "patient_ref": patient.pk if patient is not None else None,
        "action": action,
        "object_type": obj._meta.model_name if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None and obj.pk is not None else "",
        "detail": detail or {},
        "ip_address": _request_ip.get(),
    }


def audit_reads(*, actor: Actor, action: str, patients: list[Patient], clinic: Clinic) -> None:
    """One event per patient whose data a response showed, written in one query, so a list
    costs the same number of queries for one patient or a full page."""
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(**_event_fields(actor, action, None, patient, clinic, None))
            for patient in {p.pk: p for p in patients}.values()
        ]
    )


# (patient id, clinic id) of a row shown: reads where the rows span clinics (the Django admin)
# or where loading each patient would cost a query per row (the audit trail) name them by id.
PatientRef = tuple[int, int | None]


def audit_reads_by_ref(
    *,
    actor: Actor,
    action: str,
    refs: list[PatientRef],
    detail: dict[str, Any] | None = None,
    clinic: Clinic | None = None,
    obj: models.Model | None = None,
    always: bool = False,
) -> None:
    """audit_reads for rows named by (patient id, clinic id): one event per patient, each in
    its patient's clinic's trail, in one query (none when no patient was shown). With `always`,
    a read that showed no patient records one event without one (in `clinic`'s trail), so that
    reading, e.g., a page of the audit trail without patients still leaves a trace."""
    fields = _event_fields(actor, action, obj, None, clinic, detail)
    shared = {k: v for k, v in fields.items() if k not in ("clinic", "patient", "patient_ref")}
    events = [
        AuditEvent(**shared, clinic_id=clinic_id, patient_id=pk, patient_ref=pk)
        for pk, clinic_id in dict(refs).items()
    ]
    if not events and always:
        events = [AuditEvent(**fields)]
    AuditEvent.objects.bulk_create(events)


def audit_trail_read(*, actor: Actor, events, via: str, clinic: Clinic | None = None) -> None:
    """Reading the audit trail is a read of patient data too (who was seen, by whom, when): one
    `audit.read` event per patient whose events were shown, or one for the clinic when none
    was, written in one query whatever the page size."""
    audit_reads_by_ref(
        actor=actor,
        action="audit.read",
        refs=[(e.patient_id, e.clinic_id) for e in events if e.patient_id is not None],
        detail={"via": via},
        clinic=clinic,
        always=True,
    )


def audit_view_with_trail(
    *, actor: Actor, action: str, patient: Patient, clinic: Clinic, reads: tuple[str, ...] = ()
) -> None:
    """A page showing a patient's record with its audit trail: the view and the trail's read
    (`audit.read`), and one event per other read action the page makes (`reads`, e.g. its
    clinical notes' `note.read`), all in one insert, so the page costs no extra query."""
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(**_event_fields(actor, action, patient, patient, clinic, None)),
            *(
                AuditEvent(
                    **_event_fields(actor, read, None, patient, clinic, {"via": "dashboard"})
                )
                for read in ("audit.read", *reads)
            ),
        ]
    )


class AuditContextMiddleware:
    """Makes the client's address available to audit_record for the length of a request (behind
    the TLS proxy the client's, not the proxy's: rehab.client_ip)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_ip.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            _request_ip.reset(token)
