"""Builders shared by the stored-need tests (the Today page's, and the dashboard refresh's): a
clinic's patients screened and given a plan on chosen days, sessions logged, and the clock's
noon in London for a day."""

from __future__ import annotations

import datetime as dt

from rehab import services
from rehab.models import Patient, Plan, SessionLog
from tests.factories import TODAY, PatientFactory, builtin_protocol, clean_answers, good_session

NOON = dt.time(12, 0)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def at_noon(day: dt.date) -> str:
    """The frozen clock for `day` in the clinics' (and patients') zone, Europe/London."""
    return dt.datetime.combine(day, NOON).isoformat()


def screened(clinic, last_name: str, *, on: dt.date | None = None, **fields) -> Patient:
    patient = PatientFactory(clinic=clinic, last_name=last_name, **fields)
    if on is not None:
        services.screening_submit(
            patient=patient, answers=clean_answers(patient.condition), actor=None, today=on
        )
    return patient


def plan_for(clinic, last_name: str, *, start: dt.date, auto_apply: bool = True) -> Plan:
    """Screened on `start` and given the built-in protocol from then (Monday, Wednesday and
    Friday for its first level)."""
    patient = screened(clinic, last_name, on=start)
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=start,
        auto_apply=auto_apply,
        today=start,
    )


def log(plan: Plan, day: dt.date, *, today: dt.date = TODAY, **overrides) -> SessionLog:
    return services.session_log(
        plan=plan, actor=None, date=day, today=today, **good_session(**overrides)
    )


def log_this_week(plan: Plan) -> None:
    """Every plan day of the 7 days to TODAY: Wednesday 25 Feb, Friday 27 Feb and Monday."""
    for back in (5, 3, 0):
        log(plan, days_ago(back))
