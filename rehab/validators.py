"""What typed input may hold, checked once for every door: the model fields carry these
validators, the services run them (full_clean, or check_json_text for free JSON), the forms and
serializers repeat the same ones only to put the error on their own field.

Text: a name, a title or a reason is one line of plain text; a note may break lines. Neither may
hold characters that make what is shown differ from what is stored, or that split a line where
the text is used as one: a first name goes into an e-mail header ("Nina\\r\\nBcc: ..." would
add a recipient, and Python's mail refuses it with BadHeaderError, so the alert is never sent),
a log line, a CSV cell, a PDF.

Dates: the calendar of Python and the databases ends at year 9999, and a day added to
9999-12-31 or a time zone applied to it overflows. No date this service keeps is outside
1900-2199, so anything beyond is refused in words before any arithmetic.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
# JSON nested deeper than this is refused (a request body, or a JSON value a service keeps).
# Our deepest real input is a protocol's levels: object -> list -> level -> interval.
MAX_JSON_DEPTH = 32

# Line and paragraph separators break a line as \n does in browsers, e-mail and log readers.
# Bidirectional embeddings, overrides and isolates reorder what is displayed (the "Trojan
# Source" trick, CVE-2021-42574): a name or reason could show one thing and store another.
# Marks that only set a direction (U+200E/U+200F), needed in mixed Arabic or Hebrew text,
# stay allowed.
_REFUSED_FORMAT = {
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
    **dict.fromkeys("\u202a\u202b\u202c\u202d\u202e", "a bidirectional override"),
    **dict.fromkeys("\u2066\u2067\u2068\u2069", "a bidirectional isolate"),
}


def _refused(text: str, *, multiline: bool) -> Iterator[tuple[int, str, str]]:
    """(position, character, what it is) of each character a text may not hold."""
    for index, char in enumerate(text):
        if char in _REFUSED_FORMAT:
            yield index, char, _REFUSED_FORMAT[char]
            continue
        category = unicodedata.category(char)
        if category == "Cs":
            yield index, char, "half of a broken character pair"
        elif category == "Cc":  # C0, DEL and C1
            if multiline and char in "\n\t":
                continue
            # Browsers send a textarea's line breaks as \r\n (HTML's form encoding); a lone \r
            # is what splits a line where the text is read as one.
            if multiline and char == "\r" and text[index + 1 : index + 2] == "\n":
                continue
            yield index, char, "a control character"


def _message(index: int, char: str, what: str, *, multiline: bool) -> ValidationError:
    kind = "Text here" if multiline else "This is one line of text and"
    return ValidationError(
        f"{kind} cannot contain {what} (U+{ord(char):04X}, character {index + 1}); "
        "remove it and try again.",
        code="control_character",
        params={"position": index + 1},
    )


def validate_single_line(value: Any) -> None:
    """A name, title, identifier or reason: no control character at all, not even a tab."""
    if isinstance(value, str):
        for index, char, what in _refused(value, multiline=False):
            raise _message(index, char, what, multiline=False)


def validate_multiline(value: Any) -> None:
    """A note or summary: line breaks and tabs, nothing else of the kind."""
    if isinstance(value, str):
        for index, char, what in _refused(value, multiline=True):
            raise _message(index, char, what, multiline=True)


@deconstructible
class TextLimit:
    """A text field's maximum length, enforced where Django's TextField does not (it only puts
    max_length on a form's widget): the same limit for every door."""

    def __init__(self, limit_value: int) -> None:
        self.limit_value = limit_value

    def __call__(self, value: Any) -> None:
        if isinstance(value, str) and len(value) > self.limit_value:
            raise ValidationError(
                f"Keep this to {self.limit_value} characters or fewer (it has {len(value)}).",
                code="max_length",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextLimit) and other.limit_value == self.limit_value


def note_validators(limit: int) -> list:
    """A multi-line text column's validators: its length and the characters it may hold."""
    return [TextLimit(limit), validate_multiline]


# A number people dial: digits with the separators people write ("+44 (0)161 496-0000"), and
# between 5 digits (a short hospital extension line) and 15 (E.164's most).
_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-/]+$")
PHONE_MIN_DIGITS, PHONE_MAX_DIGITS = 5, 15
PHONE_EXAMPLE = "for example +44 161 496 0000 or 0161 496 0000"


def validate_phone(value: Any) -> None:
    """A phone number a patient can tap to call: one line of digits and separators."""
    if not isinstance(value, str) or not value.strip():
        return
    digits = sum(char.isdigit() for char in value)
    if not _PHONE_CHARS.match(value.strip()) or not (
        PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS
    ):
        raise ValidationError(
            f"Enter a phone number people can dial, {PHONE_EXAMPLE}.", code="invalid_phone"
        )


def phone_tel_uri(value: str) -> str:
    """The `tel:` link of a phone number (RFC 3966): its digits, and a leading + kept; "" when
    there is none. "(0)" is a national trunk digit written beside the country code: it is never
    dialled after one."""
    text = (value or "").strip()
    if text.startswith("+"):
        text = text.replace("(0)", "")
    digits = "".join(char for char in text if char.isdigit())
    if not digits:
        return ""
    return "tel:" + ("+" if text.startswith("+") else "") + digits


def validate_date_in_range(value: Any) -> None:
    """A date (or the date of a datetime) this service can keep and calculate with."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date) and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            f"Give a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}.",
            code="date_out_of_range",
        )


def json_refusal(value: Any, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Why decoded JSON cannot be taken, or None: nested deeper than `limit`, or text holding
    half of a surrogate pair ("\\ud800" is valid JSON, but no UTF-8 text: it could be neither
    stored nor echoed back in an error). Iterative, so it cannot itself recurse too deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if any(0xD800 <= ord(char) <= 0xDFFF for char in item):
                return "The JSON holds a broken character (half of a surrogate pair)."
        elif isinstance(item, dict | list):
            if depth > limit:
                return f"The JSON is nested deeper than {limit} levels."
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


def check_json_text(value: Any, *, max_length: int) -> dict[str, list[str]]:
    """Field errors for free JSON a service keeps (screening answers, questionnaire answers,
    settings): too deep, or a key or text that is not one short line. Keys are paths as the
    API reports them, e.g. "activities[0].activity"."""
    if refusal := json_refusal(value):
        return {"": [refusal]}
    errors: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        texts: list[tuple[str, str]] = []
        if isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                texts.append((child_path, str(key)))
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
        elif isinstance(item, str):
            texts.append((path, item))
        for where, text in texts:
            if len(text) > max_length:
                errors.setdefault(where, []).append(
                    f"Keep this to {max_length} characters or fewer (it has {len(text)})."
                )
                continue
            try:
                validate_single_line(text)
            except ValidationError as exc:
                errors.setdefault(where, []).extend(exc.messages)
    return errors
