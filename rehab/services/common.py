"""What every service shares: row checks that refuse with field errors, and the site's address."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from rehab.errors import RehabError, validation_error
from rehab.models import (
    Patient,
)
from rehab.validators import check_json_text, validate_date_in_range

# Table constraints whose refusal belongs to one field (the violation_error_code in models.py).
CONSTRAINT_FIELDS = {"external_id_taken": "external_id"}


def clean_row(
    instance, *, exclude: list[str] | None = None, validate_constraints: bool = True
) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_constraints=validate_constraints)
    except ValidationError as exc:
        fields = exc.message_dict
        # A conditional unique constraint reports on no field; its code says which it is.
        for error in getattr(exc, "error_dict", {}).get("__all__", []):
            field = CONSTRAINT_FIELDS.get(error.code)
            if field:
                fields["__all__"].remove(error.messages[0])
                fields.setdefault(field, []).extend(error.messages)
        raise validation_error({k: v for k, v in fields.items() if v}) from exc


def check_row_fields(instance, *names: str) -> None:
    """Run the model's own validators (length, characters, date range: rehab.validators) on the
    fields a service was given, for writes that do not clean the whole row. No query: unique
    fields and constraints are left to the database."""
    exclude = [f.name for f in instance._meta.concrete_fields if f.name not in names]
    clean_row(instance, exclude=exclude, validate_constraints=False)


def check_dates(**dates: dt.date | None) -> None:
    """Dates refused before any arithmetic on them can overflow the calendar."""
    errors = {}
    for name, value in dates.items():
        try:
            validate_date_in_range(value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise validation_error(errors)


def check_json(value: Any, *, field: str | None, max_length: int) -> None:
    """Free JSON a service keeps: not too deep, and every key and text one short line. Errors
    are named as the clinical rules name theirs (a path inside the object); `field` prefixes
    them where the object is one field among others."""
    errors = check_json_text(value, max_length=max_length)
    if errors:
        raise validation_error(
            {
                ".".join(filter(None, (field, path))) or "non_field_errors": m
                for path, m in errors.items()
            }
        )


def as_decimal(value: Any) -> Any:
    """Floats as their shortest decimal: 2.3 is Decimal('2.3'), not 2.29999... rounded to the
    field's precision as '2.30', which a one-decimal field would refuse. Other input is left to
    the field's own validation, so a bad value still gets its field error."""
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    return value


def require_active_patient(patient: Patient) -> None:
    if patient.archived_at is not None:
        raise RehabError(
            "patient_archived",
            f"{patient.full_name} is archived; restore the record first.",
            status=409,
        )


def site_url(path: str) -> str:
    return django_settings.SITE_URL.rstrip("/") + path
