"""Codes in words, for clinicians and for patients: one wording for the pages, the portal and
the PDF. Pure Python, no Django; every text is marked for translation (i18n) and translated
when read, so a later translation needs no code change.

- reasons: a progression decision's reasons (the clinician's sentence, the patient's "because")
- vocabulary: adverse events, plan statuses, questionnaire parts, a report calendar's days, a
  decision still to come
- lists: "a, b and c", and a plan's walking days
- i18n: the gettext indirection rehab.apps connects to Django
"""

from rehab.wording.i18n import gettext, gettext_noop, install_translator
from rehab.wording.lists import (
    WEEKDAYS,
    WEEKDAYS_SHORT,
    days_words,
    join_words,
    weekday_choices,
    weekday_name,
    weekday_short,
)
from rehab.wording.reasons import (
    CLINICIAN_ADJUSTED,
    REASONS,
    because,
    patient_reason,
    reason_because,
    reason_sentence,
    reason_text,
)
from rehab.wording.vocabulary import (
    ADVERSE_EVENTS,
    AUDIENCES,
    CALENDAR_DAYS,
    CLINICIAN,
    DAY_STATES,
    DECISION_PENDING,
    PATIENT,
    PLAN_STATUSES,
    REMINDER_CHANNELS,
    SUBSCALES,
    Audience,
    EventWords,
    Words,
    adverse_event,
    adverse_event_told,
    calendar_day,
    day_state,
    decision_pending,
    plan_status,
    reminder_channel,
    subscale,
)

__all__ = (
    "ADVERSE_EVENTS",
    "AUDIENCES",
    "CALENDAR_DAYS",
    "CLINICIAN",
    "CLINICIAN_ADJUSTED",
    "DAY_STATES",
    "DECISION_PENDING",
    "PATIENT",
    "PLAN_STATUSES",
    "REASONS",
    "REMINDER_CHANNELS",
    "SUBSCALES",
    "WEEKDAYS",
    "WEEKDAYS_SHORT",
    "Audience",
    "EventWords",
    "Words",
    "adverse_event",
    "adverse_event_told",
    "because",
    "calendar_day",
    "day_state",
    "days_words",
    "decision_pending",
    "gettext",
    "gettext_noop",
    "install_translator",
    "join_words",
    "patient_reason",
    "plan_status",
    "reason_because",
    "reason_sentence",
    "reason_text",
    "reminder_channel",
    "subscale",
    "weekday_choices",
    "weekday_name",
    "weekday_short",
)
