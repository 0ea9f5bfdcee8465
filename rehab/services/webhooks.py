"""Signed webhooks: a clinic's endpoints, the events its writes emit, and their delivery.

`webhook_emit` is called inside the transaction of the write that makes the event: the delivery
rows (one per subscribed endpoint) commit with it and are the outbox; after commit a message
per row is the fast path (tasks.webhook_deliver), and the outbox sweep hands over whatever the
broker lost and every retry that has come due. A clinic whose enabled endpoints subscribe to
nothing of the event costs no query: the clinic row the write already holds says so
(Clinic.webhook_events, kept here whenever an endpoint changes).

Delivery is at least once: a 2xx within 10 s is a success; anything else is tried again with
exponential backoff and jitter until WEBHOOK_GIVE_UP_AFTER from the event; an endpoint failing
since WEBHOOK_DISABLE_AFTER is disabled and its clinic's administrators are told by e-mail.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import F, Model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rehab import notify, outbox, webhooks
from rehab.audit import Actor, AuditAction, as_user, audit_record
from rehab.errors import ErrorCode, RehabError, validation_error
from rehab.models import (
    Clinic,
    Clinician,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from rehab.services.common import check_row_fields, site_url

log = logging.getLogger(__name__)

# [I] The delivery rules (README "Webhooks").
WEBHOOK_GIVE_UP_AFTER = dt.timedelta(hours=24)
WEBHOOK_DISABLE_AFTER = dt.timedelta(days=3)
WEBHOOK_FIRST_RETRY = dt.timedelta(seconds=30)
WEBHOOK_MAX_BACKOFF = dt.timedelta(hours=2)
# How long the previous secret keeps signing after a rotation, unless the caller says.
WEBHOOK_ROTATION_OVERLAP = dt.timedelta(hours=24)
WEBHOOK_ROTATION_OVERLAP_MAX = dt.timedelta(days=7)
# A worker's clock a little behind the web server's that recorded the event must not leave a
# first attempt to the sweep: an attempt may be claimed this much before it is due.
WEBHOOK_CLOCK_SKEW = dt.timedelta(seconds=5)
# An endpoint per integration; a clinic needs a handful, not hundreds.
WEBHOOK_ENDPOINTS_MAX = 20


# --- Endpoints -------------------------------------------------------------------------------


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise validation_error({"events": "Choose at least one event."})
    unknown = sorted({str(e) for e in events} - set(WebhookEvent.values))
    if unknown:
        raise validation_error({"events": f"Unknown event(s): {', '.join(unknown)}."})
    return sorted(set(events))


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        webhooks.check_url(url)
    except ValueError as exc:
        raise validation_error({"url": str(exc)}) from None
    return url


def _refresh_clinic_events(clinic: Clinic) -> None:
    """Keep Clinic.webhook_events the union of its enabled endpoints' events (under the clinic's
    row lock, so two admins' changes at once cannot leave it stale)."""
    Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
    events: set[str] = set()
    for subscribed in WebhookEndpoint.objects.filter(
        clinic=clinic, disabled_at__isnull=True
    ).values_list("events", flat=True):
        events.update(subscribed)
    clinic.webhook_events = sorted(events)
    Clinic.objects.filter(pk=clinic.pk).update(webhook_events=clinic.webhook_events)


@transaction.atomic
def webhook_endpoint_create(
    *, clinic: Clinic, actor: Actor, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint. Returns it and its signing secret, which is shown once."""
    endpoint = WebhookEndpoint(
        clinic=clinic,
        url=_clean_url(url),
        events=_clean_events(events),
        description=(description or "").strip(),
        secret_seed=webhooks.new_seed(),
        created_by=as_user(actor),
    )
    check_row_fields(endpoint, "url", "description")
    if WebhookEndpoint.objects.filter(clinic=clinic).count() >= WEBHOOK_ENDPOINTS_MAX:
        raise validation_error(
            {"url": f"A clinic has at most {WEBHOOK_ENDPOINTS_MAX} webhook endpoints."}
        )
    endpoint.save()
    _refresh_clinic_events(clinic)
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_CREATE,
        obj=endpoint,
        clinic=clinic,
        detail={"events": endpoint.events},
    )
    return endpoint, webhooks.secret_for(endpoint.secret_seed)


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: Actor,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint. `enabled`: False disables it (its waiting deliveries fail when their
    turn comes); True enables it again and forgets its failures."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    changed = []
    if url is not None and url.strip() != endpoint.url:
        endpoint.url = _clean_url(url)
        changed.append("url")
    if events is not None and _clean_events(events) != endpoint.events:
        endpoint.events = _clean_events(events)
        changed.append("events")
    if description is not None and description.strip() != endpoint.description:
        endpoint.description = description.strip()
        changed.append("description")
    if enabled is not None and enabled != endpoint.enabled:
        endpoint.disabled_at = None if enabled else timezone.now()
        endpoint.disabled_reason = "" if enabled else "Disabled by the clinic."
        endpoint.failing_since = None
        changed.append("enabled")
    check_row_fields(endpoint, "url", "description")
    if changed:
        endpoint.save()
        _refresh_clinic_events(endpoint.clinic)
        audit_record(
            actor=actor,
            action=AuditAction.WEBHOOK_UPDATE,
            obj=endpoint,
            clinic=endpoint.clinic,
            detail={"fields": changed},
        )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    """Remove an endpoint, its delivery log and whatever was waiting for it."""
    clinic = endpoint.clinic
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_DELETE,
        obj=endpoint,
        clinic=clinic,
        detail={"events": endpoint.events},
    )
    endpoint.delete()
    _refresh_clinic_events(clinic)


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *,
    endpoint: WebhookEndpoint,
    actor: Actor,
    overlap: dt.timedelta = WEBHOOK_ROTATION_OVERLAP,
    now: dt.datetime | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, shown once. The previous one keeps signing too (a second
    `v1,` signature) for `overlap` (0 ends it at once), so receivers move at their pace."""
    if not dt.timedelta(0) <= overlap <= WEBHOOK_ROTATION_OVERLAP_MAX:
        raise validation_error(
            {"overlap_hours": f"Choose 0 to {WEBHOOK_ROTATION_OVERLAP_MAX.days * 24} hours."}
        )
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret_seed = endpoint.secret_seed if overlap else ""
    endpoint.previous_secret_until = now + overlap if overlap else None
    endpoint.secret_seed = webhooks.new_seed()
    endpoint.save()
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_ROTATE,
        obj=endpoint,
        clinic=endpoint.clinic,
        detail={"overlap_hours": overlap.total_seconds() / 3600},
    )
    return endpoint, webhooks.secret_for(endpoint.secret_seed)


def webhook_signing_secrets(*, endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    current = [webhooks.secret_for(endpoint.secret_seed)]
    if (
        endpoint.previous_secret_seed
        and endpoint.previous_secret_until is not None
        and endpoint.previous_secret_until > now
    ):
        current.append(webhooks.secret_for(endpoint.previous_secret_seed))
    return current


# --- Events ----------------------------------------------------------------------------------


def webhook_emit(
    *,
    clinic: Clinic,
    event: WebhookEvent,
    resource: Model,
    patient_id: int | None = None,
    extra: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Record the event's delivery to each enabled endpoint of the clinic that subscribes to
    it, in the caller's transaction; returns how many. Nothing is read when the clinic's
    endpoints subscribe to nothing of the event (the clinic row says so)."""
    if event not in clinic.webhook_events:
        return 0
    endpoint_ids = [
        pk
        for pk, events in WebhookEndpoint.objects.filter(
            clinic=clinic, disabled_at__isnull=True
        ).values_list("id", "events")
        if event in events
    ]
    if not endpoint_ids:
        return 0
    now = now or timezone.now()
    message_id = f"msg_{uuid.uuid4().hex}"
    data: dict[str, Any] = {
        "clinic_id": clinic.pk,
        "patient_id": patient_id,
        "object": resource._meta.model_name,
        "id": resource.pk,
        **(extra or {}),
        "resource": webhooks.render(resource),
    }
    payload = {"type": str(event), "timestamp": now.isoformat(), "data": data}
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=pk,
            event=event,
            message_id=message_id,
            payload=payload,
            next_attempt_at=now,
            created_at=now,
            retry_until=now + WEBHOOK_GIVE_UP_AFTER,
        )
        for pk in endpoint_ids
    )
    for row in rows:
        outbox.enqueue_after_commit("webhook_deliver", row.pk)
    return len(rows)


# --- Delivery --------------------------------------------------------------------------------


def webhook_backoff(attempts: int) -> dt.timedelta:
    """The wait before the next attempt after `attempts` failed ones: doubling from
    WEBHOOK_FIRST_RETRY, capped at WEBHOOK_MAX_BACKOFF, each with up to a fifth of jitter either
    way, so endpoints that failed together are not all tried again at the same second."""
    base = min(WEBHOOK_FIRST_RETRY * 2 ** max(attempts - 1, 0), WEBHOOK_MAX_BACKOFF)
    return base * random.uniform(0.8, 1.2)


def webhook_deliver(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """One attempt of one delivery (tasks.webhook_deliver). Claimed with a guarded update first,
    so a second message for it (the sweep's, a redelivery) does nothing; the POST runs outside
    any transaction. Returns the delivery's status after the attempt, or "not_claimed"."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now + WEBHOOK_CLOCK_SKEW,
    ).update(status=WebhookDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "not_claimed"
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "not_claimed"  # its endpoint was removed meanwhile, and it with it
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED,
            next_attempt_at=None,
            last_error="The endpoint is disabled.",
        )
        return WebhookDelivery.Status.FAILED
    attempt = webhooks.post(
        url=endpoint.url,
        message_id=delivery.message_id,
        body=webhooks.body_of(delivery.payload),
        secrets_now=webhook_signing_secrets(endpoint=endpoint, now=now),
        at=now,
    )
    return _record_attempt(delivery, attempt, now=now)


@transaction.atomic
def _record_attempt(delivery: WebhookDelivery, attempt: webhooks.Attempt, *, now) -> str:
    Status = WebhookDelivery.Status
    result = {
        "last_attempt_at": now,
        "last_status_code": attempt.status_code,
        "last_duration_ms": attempt.duration_ms,
        "last_error": attempt.error[:300],
        "claimed_at": None,
    }
    endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
    if attempt.ok:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.SUCCEEDED, next_attempt_at=None, delivered_at=now, **result
        )
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
        return Status.SUCCEEDED
    next_at = now + webhook_backoff(delivery.attempts)
    if next_at > delivery.retry_until:
        status, next_at = Status.FAILED, None
    else:
        status = Status.PENDING
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, next_attempt_at=next_at, **result
    )
    endpoints.filter(failing_since__isnull=True).update(failing_since=now)
    endpoint = endpoints.select_for_update().first()
    if (
        endpoint is not None
        and endpoint.enabled
        and endpoint.failing_since is not None
        and now - endpoint.failing_since >= WEBHOOK_DISABLE_AFTER
    ):
        _disable_failing(endpoint, now=now)
    return status


def _disable_failing(endpoint: WebhookEndpoint, *, now: dt.datetime) -> None:
    days = WEBHOOK_DISABLE_AFTER.days
    endpoint.disabled_at = now
    endpoint.disabled_reason = f"Every delivery failed for {days} days."
    endpoint.save(update_fields=["disabled_at", "disabled_reason", "updated_at"])
    _refresh_clinic_events(endpoint.clinic)
    # Its waiting deliveries will not be sent: say so now rather than at their turn.
    endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED,
        next_attempt_at=None,
        last_error="The endpoint was disabled.",
    )
    audit_record(
        actor=None,
        action=AuditAction.WEBHOOK_DISABLE,
        obj=endpoint,
        clinic=endpoint.clinic,
        detail={"failing_since": endpoint.failing_since.isoformat()},
    )
    transaction.on_commit(lambda: _tell_admins_disabled(endpoint.pk))


def _tell_admins_disabled(endpoint_id: int) -> None:
    """E-mail each clinic administrator; the subject names no URL or data, the body says which
    endpoint and what to do. A send that fails is logged: the endpoint page says it too."""
    endpoint = WebhookEndpoint.objects.select_related("clinic").get(pk=endpoint_id)
    admins = Clinician.objects.filter(
        clinic=endpoint.clinic, is_clinic_admin=True, user__is_active=True
    ).select_related("user")
    context = {
        "endpoint": endpoint,
        "clinic": endpoint.clinic,
        "days": WEBHOOK_DISABLE_AFTER.days,
        "api_url": site_url(f"/api/v1/webhooks/{endpoint.pk}/"),
        # The dashboard's page of its deliveries (behind its sign-in), as the alerts link the
        # patient's page: where an administrator sees why and enables it again.
        "page_url": site_url(reverse("clinicians:webhook_deliveries", args=[endpoint.pk])),
    }
    text = render_to_string("emails/webhook_disabled.txt", context)
    html = render_to_string("emails/webhook_disabled.html", context)
    for admin in admins:
        try:
            notify.send_email(
                to=admin.user.email, subject="A webhook endpoint was disabled", text=text, html=html
            )
        except notify.SendError as exc:
            log.warning(
                "webhook %s disabled; telling clinician %s failed (%s)",
                endpoint.pk,
                admin.pk,
                exc.__class__.__name__,
            )


def webhook_deliveries_purge(*, now: dt.datetime | None = None) -> int:
    """Daily: remove the finished deliveries older than WEBHOOK_LOG_DAYS (their payloads hold
    patient data); waiting ones stay whatever their age."""
    now = now or timezone.now()
    deleted, _ = WebhookDelivery.objects.filter(
        status__in=(WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED),
        created_at__lt=now - dt.timedelta(days=django_settings.WEBHOOK_LOG_DAYS),
    ).delete()
    return deleted


def webhook_deliveries_forget_patient(*, patient_id: int) -> int:
    """Remove every delivery whose payload is about this patient, sent or waiting (for an
    erasure: the payloads are copies of the patient's data)."""
    deleted, _ = WebhookDelivery.objects.filter(payload__data__patient_id=patient_id).delete()
    return deleted


@transaction.atomic
def webhook_delivery_retry(
    *, delivery: WebhookDelivery, actor: Actor, now: dt.datetime | None = None
) -> WebhookDelivery:
    """Send a finished delivery (failed, or succeeded and wanted again) once more, now; the same
    webhook-id, so a receiver that has it already can drop it."""
    now = now or timezone.now()
    delivery = (
        WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    )
    if delivery.status in (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING):
        raise RehabError(
            ErrorCode.WEBHOOK_DELIVERY_WAITING,
            "This delivery is waiting for its next attempt already.",
            status=409,
        )
    if not delivery.endpoint.enabled:
        raise RehabError(
            ErrorCode.WEBHOOK_DISABLED,
            "The endpoint is disabled; enable it before sending again.",
            status=409,
        )
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = now
    # The 24 hours of retries count from here: the clinic asked for it again.
    delivery.retry_until = now + WEBHOOK_GIVE_UP_AFTER
    delivery.save(update_fields=["status", "next_attempt_at", "retry_until"])
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_RETRY,
        obj=delivery,
        clinic=delivery.endpoint.clinic,
        detail={"event": delivery.event},
    )
    outbox.enqueue_after_commit("webhook_deliver", delivery.pk)
    return delivery
