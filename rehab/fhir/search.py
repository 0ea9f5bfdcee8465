"""Search parameter values, parsed: dates with their prefixes, tokens, references, _count and
our paging cursor. A value we cannot read is a SearchError (a 400 OperationOutcome naming the
parameter), never a guess and never a 500."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Q

# The prefixes of a date parameter we support (FHIR R4 §3.1.1.4.2): equal, and the four bounds.
DATE_PREFIXES = ("eq", "ge", "gt", "le", "lt")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Up to 18 digits: every id the database can hold and nothing that would overflow its integer
# type (as the API's ids).
ID = re.compile(r"[0-9]{1,18}")


class SearchError(Exception):
    """A search the server cannot run as asked: `code` is the OperationOutcome's issue code."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _prefixed(name: str, raw: str) -> tuple[str, str]:
    if raw[:2] in DATE_PREFIXES and raw[2:3].isdigit():
        return raw[:2], raw[2:]
    if raw[:1].isalpha():
        raise SearchError(
            f"{name}: the prefix {raw[:2]!r} is not supported; use one of "
            f"{', '.join(DATE_PREFIXES)} (or none for eq)."
        )
    return "eq", raw


def _parse_day(name: str, text: str) -> dt.date:
    if not _DATE.fullmatch(text):
        raise SearchError(f"{name}: {text!r} is not a date (YYYY-MM-DD).")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SearchError(f"{name}: {text!r} is not a date (YYYY-MM-DD).") from None


def date_filter(name: str, field: str, raw: str) -> Q:
    """A date parameter on a DateField: a day, with a prefix."""
    prefix, text = _prefixed(name, raw)
    day = _parse_day(name, text)
    lookup = {"eq": "", "ge": "__gte", "gt": "__gt", "le": "__lte", "lt": "__lt"}[prefix]
    return Q(**{f"{field}{lookup}": day})


def instant_filter(name: str, field: str, raw: str) -> Q:
    """A date parameter on a DateTimeField. A day (YYYY-MM-DD) is the whole UTC day, so
    `ge2026-03-01` starts at its midnight and `gt2026-03-01` after its end; a date-time
    (2026-03-01T10:00:00+01:00; without an offset, UTC) is that instant."""
    prefix, text = _prefixed(name, raw)
    if _DATE.fullmatch(text):
        start = dt.datetime.combine(_parse_day(name, text), dt.time(), tzinfo=dt.UTC)
        end = start + dt.timedelta(days=1)
        return {
            "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
            "ge": Q(**{f"{field}__gte": start}),
            "gt": Q(**{f"{field}__gte": end}),
            "le": Q(**{f"{field}__lt": end}),
            "lt": Q(**{f"{field}__lt": start}),
        }[prefix]
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or "T" not in text:
        raise SearchError(
            f"{name}: {text!r} is neither a date (YYYY-MM-DD) nor a date-time "
            "(YYYY-MM-DDThh:mm:ss with an offset)."
        )
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    lookup = {"eq": "", "ge": "__gte", "gt": "__gt", "le": "__lte", "lt": "__lt"}[prefix]
    return Q(**{f"{field}{lookup}": instant})


def token(raw: str) -> tuple[str | None, str]:
    """`system|code` -> (system, code); `code` alone -> (None, code), any system; `|code` -> ("",
    code), no system."""
    system, bar, code = raw.partition("|")
    if not bar:
        return None, raw
    return system, code


def reference_id(name: str, raw: str, resource_type: str) -> int | None:
    """`12`, `Patient/12` or an absolute URL ending in `Patient/12` -> 12. An id that cannot be
    one of ours is None (it matches nothing); a reference to another type is an error."""
    text = raw.rstrip("/")
    if "/" in text:
        *_, kind, text = text.split("/")
        if kind != resource_type:
            raise SearchError(f"{name}: expected a reference to a {resource_type}, got {raw!r}.")
    return int(text) if ID.fullmatch(text) else None


def count(raw_values: list[str], *, default: int, maximum: int) -> int:
    """_count: how many resources a page holds. More than we serve is served as our maximum (a
    server may return fewer, FHIR R4 §3.1.1.5.5); anything but a whole number from 1 is an
    error."""
    if not raw_values:
        return default
    if len(raw_values) > 1 or not raw_values[0].isdigit() or int(raw_values[0]) < 1:
        raise SearchError(f"_count: a whole number from 1 (at most {maximum} are returned).")
    return min(int(raw_values[0]), maximum)


BAD_CURSOR = "_cursor: not a cursor this server wrote; follow the next link as given."


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: the table (the type's nth source; 0, the first, is left out of the
    text), the row's id, and how many of the row's resources the previous page already gave."""

    source: int
    row: int
    skip: int = 0

    def text(self) -> str:
        head = f"{self.source}:" if self.source else ""
        return f"{head}{self.row}" + (f".{self.skip}" if self.skip else "")


def cursor(raw_values: list[str]) -> Cursor | None:
    """Our paging cursor, as the next link writes it: `[<table>:]<row id>[.<skip>]`, where a row
    (a session) gives several resources and the page ended inside it."""
    if not raw_values:
        return None
    match = re.fullmatch(r"(?:([0-9]):)?([0-9]{1,18})(?:\.([0-9]{1,2}))?", raw_values[0])
    if len(raw_values) > 1 or match is None:
        raise SearchError(BAD_CURSOR)
    return Cursor(int(match[1] or 0), int(match[2]), int(match[3] or 0))
