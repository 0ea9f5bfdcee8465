"""OpenAPI: every operation documents the error responses it can give, in the one error shape,
and the two credential schemes are described. The document is strict OpenAPI 3.0, as code
generators and linters read it (.ci/openapi_check.py runs both)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `code` is validation_error (with `fields`) or a domain code.",
    "401": "No valid credentials (missing, unknown, revoked or expired key or token).",
    "403": "Authenticated, but this kind of caller may not use this endpoint.",
    "404": "Not found, or not visible to this caller (another clinic's or patient's record); "
    "for a list, a page past the last.",
    "409": "Conflicts with the record's state, e.g. plan_paused, plan_not_active, "
    "decision_not_pending.",
    "422": "The Idempotency-Key was already used for a different request.",
    "429": "Too many requests; the Retry-After header says when to try again.",
}


IDEMPOTENT_409 = (
    "Conflicts with the record's state, e.g. plan_paused, screening_blocked, session_duplicate; "
    "or idempotency_in_progress: a request with this Idempotency-Key is still running."
)


class AutoSchema(BaseAutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        # An operation open to anyone (getting a token) says so with an empty list: without
        # `security` a reader cannot tell "no credentials" from "forgot to say".
        if operation is not None:
            operation.setdefault("security", [])
        return operation

    def get_description(self):
        # Only a description written for the operation (extend_schema's): drf-spectacular would
        # fall back on the view class's docstring, written for this code's readers, and give
        # every operation of a view the same text.
        return ""

    def _takes_idempotency_key(self) -> bool:
        from rehab.api.idempotency import HEADER

        return any(getattr(p, "name", None) == HEADER for p in self.get_override_parameters())

    def _get_response_bodies(self, direction="response"):
        from rehab.api.serializers import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        # 404 everywhere: a detail's record may not be visible, a list's page may not exist.
        codes = ["400", "401", "403", "404", "429"]
        if self.method in ("POST", "PATCH", "PUT", "DELETE"):
            codes += ["409"]
        # Only an operation that takes the header can find its key used for another request.
        idempotent = self._takes_idempotency_key()
        if idempotent:
            codes += ["422"]
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = (
                    IDEMPOTENT_409 if code == "409" and idempotent else ERROR_DESCRIPTIONS[code]
                )
                responses[code] = response
        return responses


# The one schema that admits null and nothing else, in OpenAPI 3.0's words: `nullable` adds
# null to the `type` beside it, and the enum then leaves only null.
NULL_ONLY = {"type": "object", "nullable": True, "enum": [None]}


def nullable_references(result, generator, request, public):
    """A postprocessing hook: a nested serializer with allow_null=True (a level's interval, a
    session's decision) is written by drf-spectacular as `{allOf: [$ref], nullable: true}`. In
    OpenAPI 3.0.3 `nullable` without a `type` beside it adds nothing, and the referenced
    object's own `type: object` forbids null: a strict reader rejects the null the API returns
    (Redocly's nullable-type-sibling rule). A `type: object` beside the allOf would quiet the
    linter but not fix it: the allOf still forbids null, and openapi-python-client then types
    the field without None, a client that fails on the first null. `{oneOf: [$ref, NULL_ONLY]}`
    admits exactly the object or null, and generators read it as `Interval | None`. No
    annotation can write it: drf-spectacular has no other form of a nullable reference in 3.0
    (in 3.1 it writes `oneOf: [$ref, {type: null}]`)."""

    def rewrite(node):
        if isinstance(node, dict):
            if node.get("nullable") is True and "type" not in node and "allOf" in node:
                refs = node.pop("allOf")
                del node["nullable"]
                node["oneOf"] = [*refs, dict(NULL_ONLY)]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(result)
    return result


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
