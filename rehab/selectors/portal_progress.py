"""The portal's progress pages: sessions, plan history, the calendar, outcomes and reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.utils import timezone

from rehab import wording
from rehab.access import Principal
from rehab.audit import AuditAction
from rehab.clinical import adherence
from rehab.clinical import outcomes as clinical_outcomes
from rehab.models import (
    AuditEvent,
    OutcomeScore,
    Plan,
    ProgressionDecision,
    QuestionnaireDraft,
    Report,
    SessionLog,
)
from rehab.selectors.scoped import decisions_for, outcomes_for, reports_for, sessions_for

# The patient's own progress page, questionnaires and reports. Each section reads one table in
# one query scoped by the principal, so the page costs the same for 3 sessions or 300; the
# calendar, the history and what is due are worked out from rows already read.

PORTAL_CHART_WEEKS = 12  # the charts: a report's default period


PORTAL_CALENDAR_WEEKS = 4  # the adherence calendar: this week and the three before it


# [I] docs/clinical.md §5: outcomes are retaken every 2 weeks where the protocol sets no retest
# week of its own (Protocol.retest_weeks is the setting; this is only its fallback).
OUTCOME_RETEST_DEFAULT_WEEKS = 2


# Asked of every patient besides the protocol's own measures (the issue: "KOOS or RMDQ, NPRS,
# PSFS"): pain in one number, and the activities that matter to this patient.
PORTAL_OUTCOMES_ALWAYS = ("nprs", "psfs")


PORTAL_REPORTS_SHOWN = 20


_PLAN_STATUS_ACTIONS = {AuditAction.PLAN_PAUSED: "pause", AuditAction.PLAN_RESUMED: "resume"}


def portal_progress_sessions(
    principal: Principal, *, plan: Plan, since: dt.date, today: dt.date
) -> list[SessionLog]:
    """The plan's sessions from `since` to today, oldest first, with only what the charts and
    the calendar use. One query."""
    return list(
        sessions_for(principal)
        .select_related(None)
        .filter(plan=plan, date__gte=since, date__lte=today)
        .only(
            "id",
            "date",
            "minutes_done",
            "speed_kmh",
            "pain_before",
            "pain_worst",
            "pain_after",
            # session_points reads these too: deferred, each would cost a query per session.
            "pain_next_morning",
            "effort",
        )
        .order_by("date", "id")
    )


@dataclass(frozen=True)
class PlanEvent:
    """One change in the life of a plan, as the patient's level history tells it."""

    day: dt.date
    kind: str  # "start" | "advance" | "regress" | "pause" | "resume" | "complete" | "discontinue"
    from_level: int | None = None  # 0-based level indexes of the plan
    to_level: int | None = None
    reasons: tuple[dict, ...] = ()  # the decision's stored reasons: {"code", "text", "outcome"}
    by_clinician: bool = False  # a clinician set the level by hand


def portal_plan_history(principal: Principal, *, plan: Plan) -> tuple[PlanEvent, ...]:
    """The plan's start, every level change and pause that took effect (applied, or approved by
    the clinician), the clinician's own pauses and resumes (recorded only in the audit trail),
    and its end, oldest first. Two queries."""
    Outcome, Status = ProgressionDecision.Outcome, ProgressionDecision.Status
    events = [PlanEvent(day=plan.start_date, kind="start", to_level=0)]
    decisions = (
        decisions_for(principal)
        .select_related(None)
        .filter(
            plan=plan,
            status__in=(Status.APPLIED, Status.APPROVED),
            outcome__in=(Outcome.ADVANCE, Outcome.REGRESS, Outcome.PAUSE),
            applied_on__isnull=False,
        )
        .order_by("applied_on", "created_at", "id")
        .values_list("applied_on", "outcome", "from_level", "to_level", "reasons", "trigger")
    )
    for day, outcome, from_level, to_level, reasons, trigger in decisions:
        events.append(
            PlanEvent(
                day=day,
                kind=outcome,
                from_level=from_level,
                to_level=to_level,
                reasons=tuple(r for r in reasons or () if isinstance(r, dict)),
                by_clinician=trigger == ProgressionDecision.Trigger.MANUAL,
            )
        )
    audit = AuditEvent.objects.filter(
        object_type="plan", object_id=str(plan.pk), action__in=tuple(_PLAN_STATUS_ACTIONS)
    )
    if principal.is_staff:
        audit = audit.filter(clinic=principal.clinic, patient__clinic=principal.clinic)
    else:
        audit = audit.filter(patient=principal.patient)
    for at, action in audit.order_by("at", "id").values_list("at", "action"):
        events.append(
            PlanEvent(day=plan.patient.local_today(at), kind=_PLAN_STATUS_ACTIONS[action])
        )
    if plan.ended_at is not None and plan.status in (
        Plan.Status.COMPLETED,
        Plan.Status.DISCONTINUED,
    ):
        kind = "complete" if plan.status == Plan.Status.COMPLETED else "discontinue"
        events.append(PlanEvent(day=plan.patient.local_today(plan.ended_at), kind=kind))
    # Stable: within a day the start comes first, then the rows in the order they were written.
    return tuple(sorted(events, key=lambda event: event.day))


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date
    # "done" (a session was logged), "missed" (a planned day gone by without one), "planned"
    # (today or later, not walked yet), "rest" (not a planned day), "paused" (the plan was
    # paused), "outside" (before the plan started or after it ended)
    state: str
    is_today: bool
    is_future: bool

    @property
    def words(self) -> str:
        """The state as a screen reader says it beside the day's mark (rehab.wording)."""
        return wording.calendar_day(self.state)


@dataclass(frozen=True)
class AdherenceCalendar:
    weeks: tuple[tuple[CalendarDay, ...], ...]  # Monday first
    first: dt.date
    last: dt.date
    done: int  # planned sessions walked from `first` to today
    planned: int  # planned sessions due from `first` to today (today's only once walked)
    extra: int = 0  # walks on rest days: done, but not planned sessions


def portal_adherence_calendar(
    *,
    plan: Plan,
    session_days: set[dt.date],
    today: dt.date,
    weeks: int = PORTAL_CALENDAR_WEEKS,
) -> AdherenceCalendar:
    """This week and the weeks before it, day by day, by the one adherence rule
    (rehab.clinical.adherence): walked, missed, planned, rest, paused or outside the plan. Today
    is never missed: there is still time to walk."""
    first = today - dt.timedelta(days=today.weekday(), weeks=weeks - 1)
    last = first + dt.timedelta(days=7 * weeks - 1)
    plan_days = plan.adherence_days()
    states = list(
        adherence.days(plan_days, first=first, last=last, walked=session_days, today=today)
    )
    tally = adherence.tally(plan_days, states)
    outside = (adherence.DayState.BEFORE, adherence.DayState.AFTER)
    days = [
        CalendarDay(
            day=day,
            state="outside" if state in outside else state.value,
            is_today=day == today,
            is_future=day > today,
        )
        for day, state in states
    ]
    return AdherenceCalendar(
        weeks=tuple(tuple(days[i : i + 7]) for i in range(0, len(days), 7)),
        first=first,
        last=last,
        done=tally.done,
        planned=tally.due,
        extra=tally.extra,
    )


def questionnaire_draft_fresh_since(now: dt.datetime | None = None) -> dt.datetime:
    """Drafts last saved before this are stale: a questionnaire asks about the last week, so
    answers older than QUESTIONNAIRE_DRAFT_DAYS are not offered again or added to."""
    now = now or timezone.now()
    return now - dt.timedelta(days=django_settings.QUESTIONNAIRE_DRAFT_DAYS)


def portal_questionnaire_drafts(principal: Principal) -> dict[str, QuestionnaireDraft]:
    """The signed-in patient's fresh drafts by measure, for My progress. One query."""
    drafts = QuestionnaireDraft.objects.filter(
        patient=principal.patient, updated_at__gte=questionnaire_draft_fresh_since()
    ).only("measure", "page")
    return {draft.measure: draft for draft in drafts}


def portal_questionnaire_draft(principal: Principal, *, measure: str) -> QuestionnaireDraft | None:
    """The signed-in patient's answers so far to a questionnaire answered page by page, while
    fresh (questionnaire_draft_fresh_since)."""
    return QuestionnaireDraft.objects.filter(
        patient=principal.patient,
        measure=measure,
        updated_at__gte=questionnaire_draft_fresh_since(),
    ).first()


def portal_outcome_measures(plan: Plan | None) -> tuple[str, ...]:
    """The questionnaires a plan asks for: the protocol's own (KOOS for a knee, RMDQ for a back)
    that the patient can answer themselves, then pain (NPRS) and their activities (PSFS)."""
    if plan is None:
        return ()
    codes = [*plan.protocol.outcome_measures, *PORTAL_OUTCOMES_ALWAYS]
    measures = clinical_outcomes.MEASURES
    # Licensed measures (ODI, WOMAC) are not embedded: only a clinician enters their totals.
    codes = [code for code in codes if code in measures and measures[code].embedded]
    # The condition's own questionnaire first, then the rest in the order given.
    codes.sort(key=lambda code: code in PORTAL_OUTCOMES_ALWAYS)
    return tuple(dict.fromkeys(codes))


@dataclass(frozen=True)
class OutcomeStatus:
    measure: str
    scores: tuple[OutcomeScore, ...]  # oldest first: the first is the baseline
    due: bool
    next_due: dt.date | None  # when it is due again (None: due now, or never again)
    changes: tuple[clinical_outcomes.Change, ...]  # latest against the first; () until twice

    @property
    def latest(self) -> OutcomeScore | None:
        return self.scores[-1] if self.scores else None


def portal_outcomes(
    principal: Principal, *, plan: Plan | None, today: dt.date
) -> tuple[OutcomeStatus, ...]:
    """Each questionnaire of the plan with the patient's scores and whether it is due: never
    answered (the baseline), or last answered `retest_weeks` ago or more. Nothing is due once
    the plan has ended. One query."""
    measures = portal_outcome_measures(plan)
    if not measures:
        return ()
    retest = dt.timedelta(weeks=plan.protocol.retest_weeks or OUTCOME_RETEST_DEFAULT_WEEKS)
    by_measure: dict[str, list[OutcomeScore]] = {code: [] for code in measures}
    for score in (
        outcomes_for(principal)
        .select_related(None)
        .filter(measure__in=measures)
        .order_by("taken_on", "id")
    ):
        by_measure[score.measure].append(score)
    statuses = []
    for code, scores in by_measure.items():
        next_due = scores[-1].taken_on + retest if scores else None
        due = plan.is_open and (next_due is None or next_due <= today)
        changes: tuple[clinical_outcomes.Change, ...] = ()
        if len(scores) >= 2:
            # The comparison outcome_changes makes, on rows already read.
            changes = clinical_outcomes.change(code, scores[0].scores, scores[-1].scores)
        statuses.append(
            OutcomeStatus(
                measure=code,
                scores=tuple(scores),
                due=due,
                next_due=next_due if plan.is_open and not due else None,
                changes=changes,
            )
        )
    return tuple(statuses)


def portal_reports(principal: Principal) -> list[Report]:
    """The patient's own plain-language reports, newest first (a clinician's version of the
    same report is not theirs to read)."""
    return list(
        reports_for(principal)
        .select_related(None)
        .order_by("-created_at", "-id")[:PORTAL_REPORTS_SHOWN]
    )
