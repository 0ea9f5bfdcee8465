"""The client's address of a request: one answer for the lockout (django-axes), the API's
anonymous throttle (DRF) and the audit trail.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only as far as
our own proxies wrote it: with TRUSTED_PROXY_COUNT = n, the nearest proxy is REMOTE_ADDR and the
client is the n-th entry from the right (each proxy appends the address it saw). Entries further
left were written by the client and are ignored. With 0 (no proxy) only REMOTE_ADDR counts.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The address the request came from, as far as our own proxies vouch for it; None when
    there is no valid address (a test client without REMOTE_ADDR)."""
    meta = request.META
    remote = _valid(meta.get("REMOTE_ADDR", ""))
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        return remote
    # Fewer hops than proxies: the request skipped one of them; the leftmost is then the best
    # any of our proxies saw (the same rule as DRF's NUM_PROXIES).
    return _valid(hops[-min(trusted, len(hops))]) or remote


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
