"""Readiness: can this process do its work now? The database, the Celery broker and the cache,
each checked for real (a query, a broker connection, a cache write and read) and reported on
its own, so an operator sees which one is missing.

Liveness (/healthz) is the other question, answered without any dependency: a process whose
database is down is alive and must not be restarted for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.core.cache import cache
from django.db import connections

from rehab.celery import app as celery_app

OK = "ok"


def _database() -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # The check runs in a thread of its own; its connection must not outlive it.
        connections.close_all()


def _broker() -> None:
    timeout = settings.READYZ_TIMEOUT_SECONDS
    with celery_app.connection_for_write(connect_timeout=timeout) as conn:
        # One attempt, no back-off: a probe reports, it does not wait for recovery.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)


def _cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, OK, timeout=10)
    if cache.get(key) != OK:
        raise LookupError("the cache did not keep a value")
    cache.delete(key)


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "broker": _broker,
    "cache": _cache,
}


def readiness() -> dict[str, str]:
    """Each check's result: "ok" or the class name of what it raised ("TimeoutError" when it
    took longer than READYZ_TIMEOUT_SECONDS). Class names only: an error's message can carry a
    host, a user name or a key."""
    executor = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
    futures = {name: executor.submit(check) for name, check in CHECKS.items()}
    # The checks run side by side under one deadline, so a black-holed host costs the probe
    # the timeout once, not once per dependency; a check still hanging is left to finish on
    # its own socket timeout.
    wait(futures.values(), timeout=settings.READYZ_TIMEOUT_SECONDS)
    executor.shutdown(wait=False, cancel_futures=True)
    results = {}
    for name, future in futures.items():
        if not future.done():
            results[name] = "TimeoutError"
        elif (error := future.exception()) is not None:
            results[name] = type(error).__name__
        else:
            results[name] = OK
    return results
