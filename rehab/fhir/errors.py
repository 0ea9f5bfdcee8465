"""Every error of the FHIR door as an OperationOutcome with the HTTP status that goes with it:
401 (no or bad credentials), 403, 404 (an unknown type, an unknown id, another clinic's id: all
the same answer), 400 (a search or a resource we cannot read), 405, 409 and 412 (a write that
conflicts), 413, 415 (a body that is not JSON), 422 (a resource breaking a rule of ours), 429,
and 500/503 for our own failures, logged, never a traceback or an HTML page."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.http import Http404
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework import exceptions
from rest_framework.response import Response

from rehab.api.errors import DEPENDENCY_DOWN, RETRY_AFTER_SECONDS
from rehab.fhir.search import SearchError

logger = logging.getLogger(__name__)


class FhirNotFound(Exception):
    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)
        self.message = message


class FhirRefused(Exception):
    """A request refused with issues naming what to correct, each with the FHIRPath of its
    element where there is one (`Patient.birthDate`): a resource we cannot read (400), a write
    that conflicts (409, 412), a resource breaking a rule of ours (422)."""

    def __init__(self, status: int, issues: list[dict]) -> None:
        super().__init__("; ".join(issue["diagnostics"] for issue in issues))
        self.status = status
        self.issues = issues


def issue(
    code: str, message: str, expression: str | None = None, *, severity: str = "error"
) -> dict:
    """One OperationOutcome issue; `code` is FHIR's IssueType (invalid, required, value,
    business-rule, conflict, informational...)."""
    return {
        "severity": severity,
        "code": code,
        "diagnostics": message,
        **({"expression": [expression]} if expression else {}),
    }


def operation_outcome(code: str, message: str) -> OperationOutcome:
    return OperationOutcome(issue=[{"severity": "error", "code": code, "diagnostics": message}])


def outcome_response(status: int, code: str, message: str) -> Response:
    return Response(operation_outcome(code, message), status=status)


# DRF's exceptions -> the OperationOutcome issue code (FHIR's IssueType).
_ISSUE_CODES: tuple[tuple[type[exceptions.APIException], str], ...] = (
    (exceptions.NotAuthenticated, "login"),
    (exceptions.AuthenticationFailed, "login"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not-found"),
    (exceptions.MethodNotAllowed, "not-supported"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ValidationError, "invalid"),
    (exceptions.ParseError, "invalid"),
    (exceptions.UnsupportedMediaType, "not-supported"),
)


def _dependency_down(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, DEPENDENCY_DOWN):
            return True
        exc = exc.__cause__
    return False


def exception_handler(exc, context):
    if isinstance(exc, SearchError):
        return outcome_response(400, exc.code, exc.message)
    if isinstance(exc, FhirRefused):
        return Response(OperationOutcome(issue=exc.issues), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return outcome_response(
            413, "too-costly", f"The request body is larger than the limit of {limit} bytes."
        )
    if isinstance(exc, FhirNotFound):
        return outcome_response(404, "not-found", exc.message)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return outcome_response(404, "not-found", "Not found.")
    if isinstance(exc, exceptions.APIException):
        code = next((c for kind, c in _ISSUE_CODES if isinstance(exc, kind)), "processing")
        response = outcome_response(exc.status_code, code, str(exc.detail))
        # As DRF's own handler: the scheme to authenticate with, and when to come back.
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    # Our own failure: logged with its traceback (the path only, never a body), answered in the
    # door's shape.
    request = context.get("request")
    logger.error("FHIR request failed: %s", getattr(request, "path", "?"), exc_info=exc)
    if _dependency_down(exc):
        response = outcome_response(
            503, "transient", "A service we depend on is unavailable. Please retry shortly."
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return outcome_response(
        500, "exception", "Something went wrong on our side; it has been logged. Please try again."
    )
