"""Adherence, the one rule (docs/clinical.md "Adherence: one rule"): each day's state in a plan,
the share of planned sessions done, and its band.

Pure Python, no Django. Every door asks this module (or, for the Today list's sorting, an SQL
twin that a test holds to it): the portal's calendar and its "N of M planned", the PDF report,
the clinician digest and the dashboard. Days are the patient's local dates; the caller turns
moments into days (Patient.local_today).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

_EPSILON = 1e-9


class DayState(StrEnum):
    """What a day of a plan was, or is going to be. Its words are the pages': the report's
    calendar (rehab.wording.DAY_STATES) and the portal's (rehab.wording.CALENDAR_DAYS)."""

    DONE = "done"  # a session was logged that day
    MISSED = "missed"  # a planned day that is over without a session
    PLANNED = "planned"  # a planned day not over yet (today or later) without a session so far
    REST = "rest"  # not one of the plan's weekdays
    PAUSED = "paused"  # the plan was paused that day
    BEFORE = "before"  # before the plan started
    AFTER = "after"  # after the plan ended


class Band(StrEnum):
    """CLINICAL.md §4's adherence bands."""

    ADHERENT = "adherent"
    PARTIAL = "partial"
    REVIEW = "review"  # flagged for review

    @property
    def label(self) -> str:
        return {"adherent": "Adherent", "partial": "Partial", "review": "Flagged for review"}[self]


@dataclass(frozen=True)
class AdherenceSettings:
    """The [I] figures of CLINICAL.md §4 ("Adherence bands [I]: >= 80 % adherent, 50-79 %
    partial, < 50 % flagged for review") and this project's choice of when the flag is raised
    (docs/clinical.md: under 50 % of at least 2 planned sessions due in the last 7 days)."""

    adherent_from: float = 0.8  # a ratio at or above this is adherent
    partial_from: float = 0.5  # at or above this (and below adherent_from) is partial
    review_window_days: int = 7  # the flag looks at this many days up to today
    review_min_due: int = 2  # and only once at least this many planned sessions were due

    def __post_init__(self) -> None:
        if not 0 <= self.partial_from <= self.adherent_from <= 1:
            raise ValueError("need 0 <= partial_from <= adherent_from <= 1")
        if self.review_window_days < 1 or self.review_min_due < 1:
            raise ValueError("the review window and minimum are at least 1")


DEFAULT_SETTINGS = AdherenceSettings()


@dataclass(frozen=True)
class PlanDays:
    """What the rule needs to know of a plan: its first day, its last day (the day it was
    completed or discontinued, None while open), its weekdays (Monday = 0) and the spans it was
    paused, each (first paused day, day it resumed), the end None while still paused. The day a
    plan resumes is a plan day again; the day it is paused is paused from the start (a clinician
    pausing at noon means nobody expected that day's walk), unless a session was logged that
    day (a fall pauses the plan on the day of the session that reported it)."""

    start: date
    end: date | None = None
    schedule_days: frozenset[int] = frozenset()
    pauses: tuple[tuple[date, date | None], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "schedule_days", frozenset(self.schedule_days))
        object.__setattr__(self, "pauses", tuple(self.pauses))

    def in_plan(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def paused(self, day: date) -> bool:
        # Most plans were never paused: no generator to build for them (the Today list asks
        # this of every day of a page's 25 plans).
        return bool(self.pauses) and any(
            first <= day and (until is None or day < until) for first, until in self.pauses
        )

    def paused_all_day(self, day: date) -> bool:
        """Paused from before the day began: no walk was due that day, even one logged for it
        later. The day a pause began is not one (its walk was done while the plan ran)."""
        return bool(self.pauses) and any(
            first < day and (until is None or day < until) for first, until in self.pauses
        )

    def scheduled(self, day: date) -> bool:
        return day.weekday() in self.schedule_days


def pauses_from_json(spans: Iterable) -> tuple[tuple[date, date | None], ...]:
    """Pause spans as Plan.pauses stores them ([first day, day resumed or null], ISO dates)."""
    return tuple(
        (date.fromisoformat(first), date.fromisoformat(until) if until else None)
        for first, until in spans
    )


def day_state(plan: PlanDays, day: date, *, walked: bool, today: date) -> DayState:
    """The state of one day. `walked`: a session was logged on that day (a session logged for a
    day still to come is not counted: it has not happened). Before/after the plan come first, so
    a walk outside the plan's dates is no part of it; then a walk, which is done even on a rest
    day or the day a pause began; a planned day is missed only once it is over."""
    if day < plan.start:
        return DayState.BEFORE
    if plan.end is not None and day > plan.end:
        return DayState.AFTER
    if walked and day <= today:
        return DayState.DONE
    if plan.paused(day):
        return DayState.PAUSED
    if not plan.scheduled(day):
        return DayState.REST
    return DayState.MISSED if day < today else DayState.PLANNED


def is_planned_session(plan: PlanDays, day: date, state: DayState) -> bool:
    """Whether a day counts towards "planned sessions due": a missed day, or a done day that was
    one of the plan's weekdays and not paused. A walk on a rest day, or one logged for a day the
    plan was paused, is done but is not a planned session, so it never lifts the ratio above
    what was planned. The walk on the day a pause began is one: a fall pauses the plan from the
    day of the session that reported it, a session the plan asked for."""
    return state is DayState.MISSED or (
        state is DayState.DONE and plan.scheduled(day) and not plan.paused_all_day(day)
    )


def days(
    plan: PlanDays, *, first: date, last: date, walked: Collection[date], today: date
) -> Iterator[tuple[date, DayState]]:
    """Each day from first to last (both included) with its state."""
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        yield day, day_state(plan, day, walked=day in walked, today=today)


@dataclass(frozen=True)
class Adherence:
    """A tally of days. `done` and `due` count planned sessions only; `extra` counts the walks on
    rest days, which are done but not planned."""

    done: int = 0  # planned sessions done
    due: int = 0  # planned sessions due: done + missed
    extra: int = 0  # walks on days that were not planned sessions
    states: dict[DayState, int] = field(default_factory=dict, compare=False)

    @property
    def missed(self) -> int:
        return self.due - self.done

    def __add__(self, other: Adherence) -> Adherence:
        """The tally of two periods that do not overlap, as one."""
        states = dict(self.states)
        for state, n in other.states.items():
            states[state] = states.get(state, 0) + n
        return Adherence(
            done=self.done + other.done,
            due=self.due + other.due,
            extra=self.extra + other.extra,
            states=states,
        )

    @property
    def walks(self) -> int:
        """Every session done, planned or not."""
        return self.done + self.extra

    @property
    def ratio(self) -> float | None:
        """Done planned sessions over planned sessions due; None while none was due."""
        return self.done / self.due if self.due else None

    @property
    def percent(self) -> int | None:
        return None if self.due == 0 else round(100 * self.done / self.due)

    def band(self, settings: AdherenceSettings = DEFAULT_SETTINGS) -> Band | None:
        return band_of(self.done, self.due, settings)


def band_of(done: int, due: int, settings: AdherenceSettings = DEFAULT_SETTINGS) -> Band | None:
    """The band of done out of due planned sessions; None while none was due."""
    if due == 0:
        return None
    if done >= settings.adherent_from * due - _EPSILON:
        return Band.ADHERENT
    if done >= settings.partial_from * due - _EPSILON:
        return Band.PARTIAL
    return Band.REVIEW


def tally(plan: PlanDays, states: Iterable[tuple[date, DayState]]) -> Adherence:
    """Counts the days `days` gave (days after today are only planned, rest or paused, and add
    nothing to done or due)."""
    done = due = extra = 0
    by_state: dict[DayState, int] = {}
    for day, state in states:
        by_state[state] = by_state.get(state, 0) + 1
        if is_planned_session(plan, day, state):
            due += 1
            done += state is DayState.DONE
        elif state is DayState.DONE:
            extra += 1
    return Adherence(done=done, due=due, extra=extra, states=by_state)


def adherence(
    plan: PlanDays, *, first: date, last: date, walked: Collection[date], today: date
) -> Adherence:
    """The tally from first to last (both included)."""
    return tally(plan, days(plan, first=first, last=last, walked=walked, today=today))


def adherences(
    plan: PlanDays, *, firsts: Sequence[date], last: date, walked: Collection[date], today: date
) -> tuple[Adherence, ...]:
    """adherence() for several periods that all end on `last` (the Today list's last 7 and last
    28 days), in the order of `firsts`: each day's state is worked out once, a shorter period's
    tally being part of a longer one's."""
    by_first: dict[date, Adherence] = {}
    total, end = Adherence(), last
    for first in sorted(set(firsts), reverse=True):
        if first <= end:
            total = total + adherence(plan, first=first, last=end, walked=walked, today=today)
            end = first - timedelta(days=1)
        by_first[first] = total
    return tuple(by_first[first] for first in firsts)


def review_window(today: date, settings: AdherenceSettings = DEFAULT_SETTINGS) -> date:
    """The first day of the window the low-adherence flag looks at (it ends today)."""
    return today - timedelta(days=settings.review_window_days - 1)


def needs_review(result: Adherence, settings: AdherenceSettings = DEFAULT_SETTINGS) -> bool:
    """The low-adherence flag (Today, the digest): enough planned sessions were due in the window
    to judge, and too few of them were done (the "flagged for review" band)."""
    return flag_low(result.done, result.due, settings)


def flag_low(done: int, due: int, settings: AdherenceSettings = DEFAULT_SETTINGS) -> bool:
    """needs_review from the two counts alone (what the dashboard's SQL twin has)."""
    return due >= settings.review_min_due and band_of(done, due, settings) is Band.REVIEW
