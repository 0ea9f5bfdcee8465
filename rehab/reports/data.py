"""The report's input: plain dataclasses a task fills from the database, with no ORM in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rehab.reports.charts import SessionPoint

AUDIENCES = ("clinician", "patient")
CALENDAR_STATES = ("done", "missed", "not_scheduled", "paused", "future")


# --- data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelChange:
    day: date
    from_level: str
    to_level: str
    # In words (rehab.wording, as the pages say it); a string of bare reason codes
    # ("min_days; low_adherence") is put in words here too.
    reason: str


@dataclass(frozen=True)
class OutcomeRow:
    measure: str  # a measure code ("koos") or a display name
    subscale: str
    baseline: float | None
    current: float | None
    threshold: str  # the meaningful-change threshold in words
    meaningful: bool  # improved by at least the threshold
    worsened: bool  # worsened by at least the threshold


@dataclass(frozen=True)
class SafetyEvent:
    day: date
    event: str  # a code ("near_fall") or words
    note: str


@dataclass(frozen=True)
class CalendarDay:
    day: date
    state: str  # "done" | "missed" | "not_scheduled" | "paused" | "future"


@dataclass(frozen=True)
class ReportNote:
    day: date
    author: str  # "" when the author's account is gone
    text: str  # the clinician's words, as written


@dataclass(frozen=True)
class Reference:
    text: str  # the full reference
    supports: str = ""  # the claim of the protocol it supports


@dataclass(frozen=True)
class ReportData:
    audience: str  # "clinician" | "patient"
    clinic_name: str
    patient_name: str
    condition: str
    clinician_name: str
    period_start: date
    period_end: date
    generated_at: datetime  # aware
    protocol_name: str
    plan_status: str
    current_level: str
    constraints: tuple[str, ...]  # the screening's constraints in words
    override_reason: str  # "" when none
    level_changes: tuple[LevelChange, ...]
    adherence_percent: float | None
    calendar: tuple[CalendarDay, ...]
    sessions: tuple[SessionPoint, ...]
    outcomes: tuple[OutcomeRow, ...]
    safety_events: tuple[SafetyEvent, ...]
    citations: tuple[Reference | str, ...]  # the patient's protocol's only
    # Who the patient is on every page, beside the name: two people can share a name.
    record_number: str = ""  # the clinic's own record number ("" when it has none)
    date_of_birth: date | None = None
    # The clinician's version only (services leave it empty for the patient's).
    clinical_notes: tuple[ReportNote, ...] = ()
    # The adherence rule's counts (rehab.clinical.adherence): planned sessions done and due, and
    # the walks on rest days, which are done but not planned. None: counted from the calendar.
    planned_done: int | None = None
    planned_due: int | None = None
    rest_day_walks: int = 0
