"""Idempotency-Key on POST: a retried request (a timeout, a lost response) never creates twice.

The first request with a key claims it before doing anything; its response (success or 4xx) is
stored and replayed for any retry with the same key and the same body. A retry while the first
is still running gets 409 idempotency_in_progress (try again shortly); the same key with another
body gets 422 idempotency_key_reused. A failure of our own (5xx) releases the key so the retry
runs for real. Keys are per caller: two clinics may use the same key."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from rehab.access import Principal
from rehab.errors import ErrorCode, RehabError
from rehab.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A claim this old belongs to a request that died mid-way: a retry may take it over.
ABANDONED_AFTER = dt.timedelta(minutes=2)


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(owner: str, key: str, fingerprint: str) -> IdempotencyRecord | Response:
    # One INSERT commits by itself outside a transaction (a request's case: no BEGIN and COMMIT
    # round trips for it); inside a caller's transaction a savepoint keeps a clash from
    # breaking that transaction.
    inside = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if inside else nullcontext():
            return IdempotencyRecord.objects.create(owner=owner, key=key, fingerprint=fingerprint)
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(owner=owner, key=key)
    if record.fingerprint != fingerprint:
        raise RehabError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"This {HEADER} was already used for a different request; use a new key.",
            status=422,
        )
    if record.status_code is not None:
        return _replay(record)
    if timezone.now() - record.created_at < ABANDONED_AFTER:
        raise RehabError(
            ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            status=409,
        )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now())
    return record


def idempotent(request, principal: Principal, handler: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise RehabError(
            ErrorCode.VALIDATION_ERROR,
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
            fields={HEADER: [f"1 to {MAX_KEY_LENGTH} characters."]},
        )
    claimed = _claim(principal.owner_id, key, _fingerprint(request))
    if isinstance(claimed, Response):
        return claimed
    try:
        response = handler()
    except RehabError as exc:
        response = Response(exc.as_dict(), status=exc.status)
    except Exception:
        claimed.delete()  # our failure: let the retry run for real
        raise
    claimed.status_code = response.status_code
    claimed.response_body = response.data
    claimed.save(update_fields=["status_code", "response_body"])
    return response
