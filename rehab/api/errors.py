"""One error shape for every failure: {"code", "message", "fields"}.

`code` is stable for machines (e.g. screening_blocked, plan_paused, validation_error), `message`
is for people, `fields` maps a field (dotted for nested input, e.g. answers.berg_score) to its
messages. RehabError from a service keeps its own code and status.

DRF's handler below covers what its views raise. What it leaves to Django (an unexpected
exception) and what never reaches it (a middleware's error, a URL that resolves to nothing, a
suspicious request) goes to Django's error handlers, set in rehab/urls.py to the functions at
the end of this module: under /api/ they answer the same shape, elsewhere people get the page."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from rehab.errors import RehabError


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def exception_handler(exc, context):
    if isinstance(exc, RehabError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        # Django's own answer would be an HTML 400 page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = {
            "code": "request_too_large",
            "message": f"The request body is larger than the limit of {limit} bytes.",
            "fields": {},
        }
        return Response(body, status=413)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound("Not found.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling and logging
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        names = ", ".join(sorted(fields))
        body = {
            "code": "validation_error",
            "message": f"Please correct: {names}.",
            "fields": fields,
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.NotFound):
            code = "not_found"
        body = {"code": code, "message": str(detail), "fields": {}}
    response.data = body
    return response


API_PREFIX = "/api/"
# A dependency that is down now (the database, Redis as cache or broker, a mail or SMS server
# that refuses connections) is worth retrying shortly; a bug is not.
DEPENDENCY_DOWN = (
    OperationalError,
    InterfaceError,
    RedisError,
    BrokerError,
    ConnectionError,
    TimeoutError,
)
RETRY_AFTER_SECONDS = 30


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "fields": {}}, status=status)


def _dependency_down(exc: BaseException | None) -> bool:
    # kombu and Django wrap the driver's error; the cause says what went wrong.
    while exc is not None:
        if isinstance(exc, DEPENDENCY_DOWN):
            return True
        exc = exc.__cause__
    return False


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return _error("bad_request", "The request could not be understood.", 400)


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return _error("permission_denied", "You do not have permission to perform this action.", 403)


def page_not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _error("not_found", "Not found.", 404)


def server_error(request: HttpRequest) -> JsonResponse:
    """Django's 500 handler. Django logs the exception with its traceback (logger
    django.request, path only, never the body) after this returns."""
    if not _is_api(request):
        return defaults.server_error(request)
    # Django calls this handler inside the `except` that caught the exception, and passes only
    # the request: the exception is the one being handled.
    if _dependency_down(sys.exc_info()[1]):
        response = _error(
            "service_unavailable",
            "A service we depend on is unavailable. Please retry shortly.",
            503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return _error(
        "server_error",
        "Something went wrong on our side; it has been logged. Please try again.",
        500,
    )
