"""Idempotency-Key on POST: a retried request (a timeout, a lost response) never creates twice.

The first request with a key claims it, does its work and stores its response (success or 4xx),
all in one transaction; the response is replayed for any retry with the same key and the same
body. A retry that arrives while the first is still running waits for it (the claim's unique
key holds it) and then gets the first response; the same key with another body gets 422
idempotency_key_reused. A failure of our own (5xx) rolls the claim back with the work, so the
retry runs for real. Keys are per caller: two clinics may use the same key."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from django.db import connection, transaction
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


# The claim and the stored response are one statement each, written here rather than through
# the ORM: they wrap every POST that carries a key, and the ORM's create() and save() cost twice
# the statements themselves (about a millisecond a request). The names come from the model.
def _q(name: str) -> str:
    return connection.ops.quote_name(name)


_TABLE = _q(IdempotencyRecord._meta.db_table)
_COLUMN = {f.name: _q(f.column) for f in IdempotencyRecord._meta.concrete_fields}


def _claim(owner: str, key: str, fingerprint: str) -> int | Response:
    """The new claim's id, or what a request with this key already made of it. ON CONFLICT DO
    NOTHING: a key taken is no error, so the transaction goes on without a savepoint; a claim
    another request holds in its running transaction is waited for, then found below with the
    response it stored (or, if that request failed and rolled back, this claim is made). A claim
    without a response is one a request of the previous release left when it died."""
    c = _COLUMN
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} ({c['owner']}, {c['key']}, {c['fingerprint']},"
            f" {c['created_at']}) VALUES (%s, %s, %s, %s)"
            f" ON CONFLICT ({c['owner']}, {c['key']}) DO NOTHING RETURNING {c['id']}",
            [owner, key, fingerprint, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
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
    return record.pk


def _store(claim_id: int, response: Response) -> None:
    body = IdempotencyRecord._meta.get_field("response_body").get_db_prep_save(
        response.data, connection
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} SET {_COLUMN['status_code']} = %s, {_COLUMN['response_body']} = %s"
            f" WHERE {_COLUMN['id']} = %s",
            [response.status_code, body, claim_id],
        )


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
    fingerprint = _fingerprint(request)
    # One transaction, one commit: the claim, the service's writes (its own atomic block is a
    # savepoint inside this one, so a refused request rolls back to it) and the response.
    with transaction.atomic():
        claimed = _claim(principal.owner_id, key, fingerprint)
        if isinstance(claimed, Response):
            return claimed
        try:
            response = handler()
        except RehabError as exc:
            response = Response(exc.as_dict(), status=exc.status)
        _store(claimed, response)
    return response
