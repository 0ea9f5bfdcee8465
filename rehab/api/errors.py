"""One error shape for every failure: {"code", "message", "fields"}.

`code` is stable for machines (e.g. screening_blocked, plan_paused, validation_error), `message`
is for people, `fields` maps a field (dotted for nested input, e.g. answers.berg_score) to its
messages. RehabError from a service keeps its own code and status."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.http import Http404
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
