"""Request budgets, counted in the shared cache (Redis in production), surviving its outage.

When the shared cache cannot be reached the budgets are counted in each process instead of
failing the request (DRF's throttles would raise, and every API call would be a 500) or being
dropped altogether: the anonymous budget is what slows password guessing at /auth/token/, and
an outage is no time to lift it. Per process, a caller gets at most (processes x rate) until
Redis is back; then the shared count takes over again by itself."""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError
from rest_framework import throttling

from rehab.api.auth import principal_of
from rehab.client_ip import client_address

logger = logging.getLogger(__name__)

# What the cache raises when Redis is down or unreachable (refused, reset, timed out).
CACHE_DOWN = (RedisError, OSError)

_local_counts = LocMemCache("throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


class RateLimitedWarning:
    """Logs a warning at most once per `every` seconds in this process: an outage under load
    would otherwise write one line per request."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.last: float | None = None
        self._lock = threading.Lock()

    def due(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if self.last is not None and now - self.last < self.every:
                return False
            self.last = now
            return True


outage_warning = RateLimitedWarning(every=60.0)


class SharedOrLocalCountMixin:
    """Counts in the shared cache; in this process's memory while that cache is down."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_DOWN as exc:
            if outage_warning.due():
                # The class name only: the message of a cache error can carry the key, and
                # the key carries the caller's id.
                logger.warning(
                    "API throttling is counting per process: the shared cache is unreachable "
                    "(%s). Repeated at most once a minute while it lasts.",
                    type(exc).__name__,
                )
            self.cache = _local_counts
            return super().allow_request(request, view)


class PrincipalRateThrottle(SharedOrLocalCountMixin, throttling.SimpleRateThrottle):
    """A request budget per API key or per person (API_THROTTLE_RATE); 429 with Retry-After."""

    scope = "principal"

    def get_cache_key(self, request, view):
        principal = principal_of(request)
        if principal is None:
            return None  # anonymous callers fall under the anon throttle
        return self.cache_format % {"scope": self.scope, "ident": principal.owner_id}


class AnonymousRateThrottle(SharedOrLocalCountMixin, throttling.AnonRateThrottle):
    """Callers without a credential (API_ANON_THROTTLE_RATE), counted per client address as the
    lockout and the audit trail see it, so a made-up X-Forwarded-For is not a new budget."""

    def get_ident(self, request):
        return client_address(request) or "unknown"
