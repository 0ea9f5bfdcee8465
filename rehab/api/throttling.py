from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from rehab.api.auth import principal_of
from rehab.client_ip import client_address


class PrincipalRateThrottle(SimpleRateThrottle):
    """A request budget per API key or per person (API_THROTTLE_RATE); 429 with Retry-After."""

    scope = "principal"

    def get_cache_key(self, request, view):
        principal = principal_of(request)
        if principal is None:
            return None  # anonymous callers fall under the anon throttle
        return self.cache_format % {"scope": self.scope, "ident": principal.owner_id}


class AnonymousRateThrottle(AnonRateThrottle):
    """Callers without a credential (API_ANON_THROTTLE_RATE), counted per client address as the
    lockout and the audit trail see it, so a made-up X-Forwarded-For is not a new budget."""

    def get_ident(self, request):
        return client_address(request) or "unknown"
