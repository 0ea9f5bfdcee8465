"""The strict JSON field types every serializer uses, and the one error shape."""

from __future__ import annotations

from rest_framework import serializers

MAX_ID = 2**63 - 1


class Text(serializers.CharField):
    """Text as sent: a JSON string only (DRF would turn 2590 into "2590"), not trimmed before
    the length check, so the documented type and maxLength hold for the raw value (services
    strip names and reasons themselves)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id of a row the caller may see. Out-of-range numbers read as "does not exist", like
    another clinic's ids, instead of overflowing the database's integer type."""

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    """A JSON integer only: DRF would also take "5" and 5.0, which the schema does not allow."""

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class Number(serializers.FloatField):
    """A JSON number only (not a numeric string, not a boolean)."""

    def to_internal_value(self, data):
        if not isinstance(data, int | float) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class Boolean(serializers.BooleanField):
    """A JSON boolean only: DRF would also read "yes", 1 or "on"."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class ErrorSerializer(serializers.Serializer):
    """Every error response has this shape."""

    code = Text(help_text="Stable machine code, e.g. screening_blocked.")
    message = Text(help_text="What went wrong, for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=Text()),
        help_text="Field name (dotted for nested input) -> messages.",
    )
