"""The vocabularies' words for each reader: adverse events, plan statuses, questionnaire parts,
a report calendar's day states. Each code is worded here once, for clinicians and for patients.

Read the words through the functions (translated at use time, rehab.wording.i18n); a code
nobody has worded yet is shown with spaces for underscores, never as a bare code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rehab.wording.i18n import gettext as _
from rehab.wording.i18n import gettext_noop

__all__ = (
    "ADVERSE_EVENTS",
    "AUDIENCES",
    "CALENDAR_DAYS",
    "CLINICIAN",
    "DAY_STATES",
    "DECISION_PENDING",
    "PATIENT",
    "PLAN_STATUSES",
    "REMINDER_CHANNELS",
    "SUBSCALES",
    "Audience",
    "EventWords",
    "Words",
    "adverse_event",
    "adverse_event_told",
    "calendar_day",
    "day_state",
    "decision_pending",
    "plan_status",
    "reminder_channel",
    "subscale",
)

Audience = Literal["clinician", "patient"]
CLINICIAN: Audience = "clinician"
PATIENT: Audience = "patient"
AUDIENCES: tuple[Audience, ...] = (CLINICIAN, PATIENT)


@dataclass(frozen=True)
class Words:
    clinician: str  # terse, clinical
    patient: str  # plain and kind

    def read_by(self, audience: Audience) -> str:
        return _(self.patient if audience == PATIENT else self.clinician)


@dataclass(frozen=True)
class EventWords(Words):
    told: str = ""  # as the patient tells it, ticking it on the portal's session log


def _spaced(code: str) -> str:
    return code.replace("_", " ")


# The session log's adverse events (rehab.clinical.progression.ADVERSE_EVENTS), and the other
# safety events a report lists.
ADVERSE_EVENTS: dict[str, EventWords] = {
    "fall": EventWords(gettext_noop("Fall"), gettext_noop("A fall"), gettext_noop("I fell")),
    "near_fall": EventWords(
        gettext_noop("Near fall"), gettext_noop("A near fall"), gettext_noop("I nearly fell")
    ),
    "dizziness": EventWords(
        gettext_noop("Dizziness"), gettext_noop("Feeling dizzy"), gettext_noop("I felt dizzy")
    ),
    "chest_pain": EventWords(
        gettext_noop("Chest pain"), gettext_noop("Chest pain"), gettext_noop("I had chest pain")
    ),
    "severe_pain": EventWords(gettext_noop("Severe pain"), gettext_noop("Severe pain")),
    "swelling_more": EventWords(
        gettext_noop("Swelling more than usual"), gettext_noop("More swelling than usual")
    ),
}

PLAN_STATUSES: dict[str, Words] = {
    "active": Words(gettext_noop("Active"), gettext_noop("Going ahead")),
    "paused": Words(gettext_noop("Paused"), gettext_noop("Paused for now")),
    "completed": Words(gettext_noop("Completed"), gettext_noop("Finished")),
    "discontinued": Words(gettext_noop("Discontinued"), gettext_noop("Stopped")),
}

# How a reminder reaches a patient (Patient.Channel), said as "We'll remind you ...".
REMINDER_CHANNELS: dict[str, Words] = {
    "email": Words(gettext_noop("by e-mail"), gettext_noop("by e-mail")),
    "sms": Words(gettext_noop("by text message"), gettext_noop("by text message")),
}

# A questionnaire's parts (rehab.clinical.outcomes: "total" and KOOS's five subscales).
SUBSCALES: dict[str, Words] = {
    "total": Words(gettext_noop("Total"), gettext_noop("Score")),
    "pain": Words(gettext_noop("Pain"), gettext_noop("Pain")),
    "symptoms": Words(gettext_noop("Symptoms"), gettext_noop("Symptoms")),
    "adl": Words(gettext_noop("Daily living"), gettext_noop("Everyday activities")),
    "sport_rec": Words(gettext_noop("Sport and recreation"), gettext_noop("Sport and leisure")),
    "qol": Words(gettext_noop("Quality of life"), gettext_noop("Quality of life")),
}

# A report's walking calendar (rehab.reports.CALENDAR_STATES).
DAY_STATES: dict[str, Words] = {
    "done": Words(gettext_noop("Done"), gettext_noop("Done")),
    "missed": Words(gettext_noop("Missed"), gettext_noop("Missed")),
    "not_scheduled": Words(gettext_noop("Rest"), gettext_noop("Rest")),
    "paused": Words(gettext_noop("Paused"), gettext_noop("Paused")),
    "future": Words(gettext_noop("To come"), gettext_noop("To come")),
}


# A day of the portal's walking calendar (rehab.selectors.CalendarDay), the words a screen reader
# says beside its mark (✓, ○, —, □, ‖).
CALENDAR_DAYS: dict[str, Words] = {
    "done": Words(gettext_noop("done"), gettext_noop("walked")),
    "missed": Words(gettext_noop("missed"), gettext_noop("missed")),
    "rest": Words(gettext_noop("rest day"), gettext_noop("rest day")),
    "planned": Words(gettext_noop("planned"), gettext_noop("planned")),
    "paused": Words(gettext_noop("paused"), gettext_noop("plan paused")),
    "outside": Words(gettext_noop("outside the plan"), gettext_noop("not in your plan")),
}


# After a session with no safety signal is saved, while its progression decision is still to
# come (services.session_evaluate runs moments later; a safety signal is decided at once).
DECISION_PENDING = Words(
    gettext_noop("The decision after this session follows in a moment; reload to see it."),
    gettext_noop(
        "We are checking your plan against this walk. What it means for your next walks "
        "will show here in a moment: reload this page to see it."
    ),
)


def decision_pending(audience: Audience) -> str:
    """'The decision after this session follows in a moment' in the reader's words."""
    return DECISION_PENDING.read_by(audience)


def _read(table: dict[str, Words], code: str, audience: Audience) -> str:
    known = table.get(code)
    return known.read_by(audience) if known else _spaced(code)


def adverse_event(code: str, audience: Audience) -> str:
    """'Near fall' for a clinician, 'A near fall' for a patient."""
    return _read(ADVERSE_EVENTS, code, audience)


def adverse_event_told(code: str) -> str:
    """The event as the patient ticks it: 'I nearly fell'."""
    known = ADVERSE_EVENTS.get(code)
    return _(known.told) if known and known.told else adverse_event(code, PATIENT)


def calendar_day(code: str, audience: Audience = PATIENT) -> str:
    """A calendar day's state as said beside its mark: 'walked', 'rest day', 'plan paused'."""
    return _read(CALENDAR_DAYS, code, audience)


def plan_status(code: str, audience: Audience) -> str:
    return _read(PLAN_STATUSES, code, audience)


def reminder_channel(code: str, audience: Audience = PATIENT) -> str:
    """'by text message'; empty for no channel at all."""
    return _read(REMINDER_CHANNELS, code, audience) if code in REMINDER_CHANNELS else ""


def subscale(code: str, audience: Audience) -> str:
    """A questionnaire's part: 'Daily living' for a clinician, 'Everyday activities' for a
    patient."""
    return _read(SUBSCALES, code, audience)


def day_state(state: str, audience: Audience) -> str:
    return _read(DAY_STATES, state, audience)
