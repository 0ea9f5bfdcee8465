from rest_framework.throttling import SimpleRateThrottle

from rehab.api.auth import principal_of


class PrincipalRateThrottle(SimpleRateThrottle):
    """A request budget per API key or per person (API_THROTTLE_RATE); 429 with Retry-After."""

    scope = "principal"

    def get_cache_key(self, request, view):
        principal = principal_of(request)
        if principal is None:
            return None  # anonymous callers fall under the anon throttle
        return self.cache_format % {"scope": self.scope, "ident": principal.owner_id}
