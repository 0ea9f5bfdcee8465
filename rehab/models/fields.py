"""The field rules every table shares: choices, validators and text limits."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from rehab.clinical import levels as clinical_levels
from rehab.validators import validate_date_in_range, validate_single_line

CONDITION_CHOICES = list(clinical_levels.CONDITIONS.items())
SETTING_CHOICES = list(clinical_levels.SETTINGS.items())
PAIN_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]
# Every text a person types: one line (names, titles, reasons) or a note (rehab.validators).
ONE_LINE = [validate_single_line]
DATE_RANGE = [validate_date_in_range]
NOTE_MAX = 2000
CLINIC_TEXT_MAX = 500  # a clinic's address or opening hours: a few lines


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"{value!r} is not a known time zone (use a name like Europe/London)."
        )
