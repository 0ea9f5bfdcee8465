"""OpenAPI: every operation documents the error responses it can give, in the one error shape,
and the two credential schemes are described."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `code` is validation_error (with `fields`) or a domain code.",
    "401": "No valid credentials (missing, unknown, revoked or expired key or token).",
    "403": "Authenticated, but this kind of caller may not use this endpoint.",
    "404": "Not found, or not visible to this caller (another clinic's or patient's record); "
    "for a list, a page past the last.",
    "409": "Conflicts with the record's state, e.g. plan_paused, screening_blocked, "
    "session_duplicate, idempotency_in_progress.",
    "422": "The Idempotency-Key was already used for a different request.",
    "429": "Too many requests; the Retry-After header says when to try again.",
}


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction="response"):
        from rehab.api.serializers import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        # 404 everywhere: a detail's record may not be visible, a list's page may not exist.
        codes = ["400", "401", "403", "404", "429"]
        if self.method in ("POST", "PATCH", "PUT", "DELETE"):
            codes += ["409", "422"]
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "rehab.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A clinic's API key: `Authorization: Api-Key <key>` "
            "(`manage.py create_api_key`).",
        }


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "rehab.api.auth.PersonalTokenAuthentication"
    name = "PersonalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A person's own token: `Authorization: Token <token>` "
            "(POST /api/v1/auth/token/).",
        }
