"""Lists in words: "a, b and c", and a plan's walking days ("Monday, Wednesday and Friday")."""

from __future__ import annotations

from collections.abc import Iterable

from rehab.wording.i18n import gettext as _
from rehab.wording.i18n import gettext_noop

__all__ = (
    "WEEKDAYS",
    "WEEKDAYS_SHORT",
    "days_words",
    "join_words",
    "weekday_choices",
    "weekday_name",
    "weekday_short",
)

# Monday = 0, as Python's date.weekday() and Plan.schedule_days count.
WEEKDAYS: tuple[str, ...] = (
    gettext_noop("Monday"),
    gettext_noop("Tuesday"),
    gettext_noop("Wednesday"),
    gettext_noop("Thursday"),
    gettext_noop("Friday"),
    gettext_noop("Saturday"),
    gettext_noop("Sunday"),
)

WEEKDAYS_SHORT: tuple[str, ...] = (
    gettext_noop("Mon"),
    gettext_noop("Tue"),
    gettext_noop("Wed"),
    gettext_noop("Thu"),
    gettext_noop("Fri"),
    gettext_noop("Sat"),
    gettext_noop("Sun"),
)


def join_words(parts: Iterable[str]) -> str:
    """'a, b and c', each part once."""
    unique = list(dict.fromkeys(part for part in parts if part))
    if len(unique) <= 1:
        return "".join(unique)
    return _("%(items)s and %(last)s") % {"items": ", ".join(unique[:-1]), "last": unique[-1]}


def weekday_name(day: int) -> str:
    """'Monday' for 0."""
    return _(WEEKDAYS[day])


def weekday_short(day: int) -> str:
    """'Mon' for 0, for a calendar's column heads."""
    return _(WEEKDAYS_SHORT[day])


def days_words(days: Iterable[int]) -> str:
    """A plan's weekdays in week order: 'Monday, Wednesday and Friday'."""
    return join_words(weekday_name(day) for day in sorted(set(days)) if 0 <= day < 7)


def weekday_choices() -> list[tuple[int, str]]:
    """(0, 'Monday') ... (6, 'Sunday'), for a form's choices (a callable: read at use time)."""
    return [(day, weekday_name(day)) for day in range(7)]
