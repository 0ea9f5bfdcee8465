"""How the rules' reasons say days, numbers and counts: in English, whatever the server's locale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rehab.clinical.progression.records import SessionRecord

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def day(d: date) -> str:
    # Spelled out by hand: strftime's %B follows the server locale.
    return f"{d.day} {MONTHS[d.month - 1]}"


def num(x: float) -> str:
    return f"{round(x, 1):g}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def days_list(sessions: Sequence[SessionRecord]) -> str:
    days = [day(s.day) for s in sessions]
    if len(days) == 1:
        return days[0]
    return ", ".join(days[:-1]) + " and " + days[-1]


def also(count: int, what: str) -> str:
    return "" if count <= 1 else f" This happened in {count} {what}."
