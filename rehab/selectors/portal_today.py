"""The portal's Today and session log: the patient's plan and their recent sessions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    IntegerField,
    Value,
    When,
)

from rehab.access import Principal
from rehab.models import (
    Plan,
    SessionLog,
)
from rehab.selectors.scoped import plans_for, sessions_for

# [I] How long after a session the portal still asks for its next-morning pain: a pain score
# remembered three days later is not worth the prompt.
NEXT_MORNING_PROMPT_DAYS = 2


def portal_plan(principal: Principal) -> Plan | None:
    """The plan a patient's Today page is about: the open one, else the latest that ended."""
    return (
        plans_for(principal)
        .annotate(
            open_rank=Case(
                When(status__in=Plan.OPEN_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_rank", "-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class PortalRecentSessions:
    logged_today: SessionLog | None
    awaiting_next_morning: SessionLog | None  # the latest recent session without it


def portal_recent_sessions(
    principal: Principal, *, plan: Plan, today: dt.date
) -> PortalRecentSessions:
    """Today's log of the plan, and the latest session of the last few days still waiting for
    its next-morning pain (the service accepts it from the day after the session on). One
    query."""
    since = today - dt.timedelta(days=NEXT_MORNING_PROMPT_DAYS)
    sessions = list(
        sessions_for(principal)
        .filter(plan=plan, date__gte=since, date__lte=today)
        .order_by("-date", "-id")
    )
    logged_today = next((s for s in sessions if s.date == today), None)
    awaiting = next((s for s in sessions if s.date < today and s.pain_next_morning is None), None)
    return PortalRecentSessions(logged_today=logged_today, awaiting_next_morning=awaiting)


def portal_session(principal: Principal, *, session_id: int) -> SessionLog:
    """One of the patient's own sessions with its plan; SessionLog.DoesNotExist otherwise."""
    return sessions_for(principal).get(pk=session_id)
