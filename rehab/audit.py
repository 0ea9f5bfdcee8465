"""Audit events: who read or changed which patient's data, when, from where.

Services record every write; selectors and the doors record reads. The request's address comes
from a context variable the middleware sets, so services need not know about requests.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import models

from rehab.models import AuditEvent, Clinic, Patient, User

_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)


def actor_label(actor: User | None) -> str:
    if actor is None:
        return "system"
    return actor.get_username()


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    if clinic is None and patient is not None:
        clinic = patient.clinic
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor_label(actor),
        clinic=clinic,
        patient=patient,
        patient_ref=patient.pk if patient is not None else None,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        detail=detail or {},
        ip_address=_request_ip.get(),
    )


class AuditContextMiddleware:
    """Makes the client's address available to audit_record for the length of a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _request_ip.reset(token)
