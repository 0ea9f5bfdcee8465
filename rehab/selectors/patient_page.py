"""The dashboard's patient page: everything a clinician sees of one patient, in one read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rehab import wording
from rehab.access import Principal
from rehab.audit import audit_action_words
from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import screening as clinical_screening
from rehab.clinical.levels import CappedLevel, Constraints
from rehab.models import (
    AuditEvent,
    AuditListing,
    ClinicalNote,
    OutcomeScore,
    Patient,
    Plan,
    ProgressionDecision,
    ReferralAction,
    Reminder,
    Report,
    Screening,
    SessionLog,
)
from rehab.selectors.common import person_name
from rehab.selectors.referrals import OpenReferral, referrals_unacted_for

# One screen, a fixed number of queries whatever the history: each section is one capped query,
# and level names, verdict texts and outcome changes are worked out from rows already loaded
# (never a query per row).

PATIENT_PAGE_PLANS = 20


PATIENT_PAGE_SESSIONS = 30  # the timeline


PATIENT_PAGE_CHART_WEEKS = 12  # the charts, as a report's default period


PATIENT_PAGE_SESSIONS_READ = 100  # 12 weeks of daily sessions, with room for a change of plan


PATIENT_PAGE_SCREENINGS = 10


PATIENT_PAGE_DECISIONS = 20


PATIENT_PAGE_OUTCOME_ROWS = 10  # shown per measure; all are read, as the first is the baseline


PATIENT_PAGE_REMINDERS = 20


PATIENT_PAGE_REPORTS = 10


PATIENT_PAGE_AUDIT_EVENTS = 50


PATIENT_PAGE_NOTES = 20


def session_points(logs) -> tuple:
    """Session logs as `rehab.reports.SessionPoint`s, oldest first: the one conversion that the
    pages' charts and the PDF report's charts share."""
    from rehab.reports.charts import SessionPoint  # reportlab is loaded only where a chart is drawn

    return tuple(
        SessionPoint(
            day=log.date,
            minutes=log.minutes_done,
            speed_kmh=None if log.speed_kmh is None else float(log.speed_kmh),
            pain_before=log.pain_before,
            pain_worst=log.pain_worst,
            pain_after=log.pain_after,
            pain_next_morning=log.pain_next_morning,
            effort=log.effort,
        )
        for log in sorted(logs, key=lambda log: (log.date, log.pk or 0))
    )


def _page_level_name(plan: Plan | None, index: int) -> str:
    if plan is not None and 0 <= index < len(plan.levels):
        return plan.level_name(index) or f"Level {index + 1}"
    return f"Level {index + 1}"


def _page_short_level_name(plan: Plan, index: int) -> str:
    name = _page_level_name(plan, index)
    prefix = f"Level {index + 1}:"
    if not name.startswith(prefix):
        return name
    return name[len(prefix) :].strip() or name


@dataclass(frozen=True)
class PatientPagePlan:
    plan: Plan
    level_number: int  # 1-based, for people
    level_count: int
    level_name: str  # without a "Level n:" the name may start with, as the number is shown
    prescription: CappedLevel  # the current level within the plan's constraints
    prescription_words: str
    constraints: tuple[str, ...]


@dataclass(frozen=True)
class PatientPageSession:
    log: SessionLog
    level_name: str
    adverse_events: tuple[str, ...]
    logged_by: str = ""  # the person who recorded it (the supervising clinician, if supervised)


@dataclass(frozen=True)
class PatientPageNote:
    note: ClinicalNote
    author: str


@dataclass(frozen=True)
class PatientPageScreening:
    screening: Screening
    explanations: tuple[str, ...]
    constraints: tuple[str, ...]
    valid_today: bool
    screened_by: str
    referral_action: ReferralAction | None = None  # its urgent referral recorded as acted on
    acted_by: str = ""


@dataclass(frozen=True)
class PatientPageDecision:
    decision: ProgressionDecision
    plan_name: str
    from_level: str
    to_level: str
    reasons: tuple[str, ...]
    decided_by: str

    @property
    def is_pending(self) -> bool:
        return self.decision.status == ProgressionDecision.Status.PENDING


@dataclass(frozen=True)
class PatientPageChange:
    subscale: str  # in words
    change: clinical_outcomes.Change


@dataclass(frozen=True)
class PatientPageOutcome:
    measure: str
    name: str
    subscales: tuple[str, ...]  # in words, the columns of `rows`
    rows: tuple[tuple[dt.date, tuple[float | None, ...]], ...]  # newest first, capped
    count: int  # every score of the measure, shown or not
    changes: tuple[PatientPageChange, ...]  # latest against the first (the baseline)


@dataclass(frozen=True)
class PatientPageAudit:
    event: AuditEvent
    words: str


@dataclass(frozen=True)
class PatientPage:
    patient: Patient
    today: dt.date
    age: int | None
    plan: PatientPagePlan | None  # the open plan
    safety_pause: PatientPageDecision | None  # the open plan is paused by a safety rule
    safety_reasons: tuple[str, ...]  # that decision's pause reasons (not its holds)
    referrals: tuple[OpenReferral, ...]  # not acted on yet, emergency first
    pending: tuple[PatientPageDecision, ...]  # awaiting approval, on the open plan
    sessions: tuple[PatientPageSession, ...]  # newest first
    chart_since: dt.date
    chart_points: tuple  # rehab.reports.SessionPoint from chart_since, oldest first
    screenings: tuple[PatientPageScreening, ...]
    screening_valid: bool  # one of them is valid today (a plan can be assigned or resumed)
    decisions: tuple[PatientPageDecision, ...]
    outcomes: tuple[PatientPageOutcome, ...]
    reminders: tuple[Reminder, ...]
    reports: tuple[Report, ...]
    audit_events: tuple[PatientPageAudit, ...]
    notes: tuple[PatientPageNote, ...] = ()  # clinical notes, newest first, capped


def _page_age(born: dt.date | None, today: dt.date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _page_plan(plan: Plan) -> PatientPagePlan:
    prescription = plan.current_prescription()
    return PatientPagePlan(
        plan=plan,
        level_number=plan.current_level + 1,
        level_count=len(plan.levels),
        level_name=_page_short_level_name(plan, plan.current_level),
        prescription=prescription,
        prescription_words=prescription.level.describe(),
        constraints=plan.constraints_obj.describe(),
    )


def _page_decision(decision: ProgressionDecision, plans: dict[int, Plan]) -> PatientPageDecision:
    plan = plans.get(decision.plan_id)
    return PatientPageDecision(
        decision=decision,
        plan_name=plan.protocol_name if plan is not None else "",
        from_level=_page_level_name(plan, decision.from_level),
        to_level=_page_level_name(plan, decision.to_level),
        reasons=tuple(wording.reason_text(reason) for reason in decision.reasons),
        decided_by=person_name(decision.decided_by),
    )


def _page_screening(screening: Screening, today: dt.date) -> PatientPageScreening:
    verdict = clinical_screening.Verdict.from_dict(screening.verdict_dict())
    # Read with the screening (select_related): None when no action was recorded.
    action = getattr(screening, "referral_action", None)
    return PatientPageScreening(
        screening=screening,
        explanations=tuple(text for _, text in verdict.explanations()),
        constraints=Constraints.from_dict(screening.constraints).describe(),
        valid_today=screening.is_valid_on(today),
        screened_by=person_name(screening.screened_by),
        referral_action=action,
        acted_by=person_name(action.acted_by) if action is not None else "",
    )


def _page_outcomes(scores: list[OutcomeScore]) -> tuple[PatientPageOutcome, ...]:
    by_measure: dict[str, list[OutcomeScore]] = {}
    for score in scores:  # ordered by measure, then date: the first of each is the baseline
        by_measure.setdefault(score.measure, []).append(score)
    sections = []
    for code, rows in by_measure.items():
        measure = clinical_outcomes.MEASURES.get(code)
        subscales = measure.subscales if measure is not None else tuple(rows[0].scores)
        changes: tuple[PatientPageChange, ...] = ()
        if measure is not None and len(rows) >= 2:
            # The comparison outcome_changes makes, on rows already read.
            changes = tuple(
                PatientPageChange(wording.subscale(c.subscale, wording.CLINICIAN), c)
                for c in clinical_outcomes.change(code, rows[0].scores, rows[-1].scores)
            )
        sections.append(
            PatientPageOutcome(
                measure=code,
                name=measure.name if measure is not None else code.upper(),
                subscales=tuple(wording.subscale(s, wording.CLINICIAN) for s in subscales),
                rows=tuple(
                    (row.taken_on, tuple(row.scores.get(s) for s in subscales))
                    for row in reversed(rows[-PATIENT_PAGE_OUTCOME_ROWS:])
                ),
                count=len(rows),
                changes=changes,
            )
        )
    return tuple(sections)


def _page_is_safety_pause(plan: Plan, latest: ProgressionDecision | None) -> bool:
    # A rule's pause stores its first reason as the plan's status reason (services
    # _evaluate_locked); a clinician's own pause records no decision. A paused plan takes no
    # decision but another pause (pain at the threshold told the morning after), so the latest
    # one is the pause, if a rule paused it.
    return (
        plan.status == Plan.Status.PAUSED
        and latest is not None
        and latest.outcome == ProgressionDecision.Outcome.PAUSE
        and latest.status == ProgressionDecision.Status.APPLIED
        and bool(latest.reasons)
        and plan.status_reason == (latest.reasons[0].get("text") or "")[:300]
    )


def _page_audit_events(principal: Principal, patient: Patient):
    """The patient's latest events, those naming them and the list reads that showed them, in
    one query that reads the top of two indexes (audit_patient_latest, audit_listed_latest) and
    never sorts the patient's whole history, however long the trail grows."""
    n = PATIENT_PAGE_AUDIT_EVENTS
    naming = (
        AuditEvent.objects.filter(
            pk__in=AuditEvent.objects.filter(patient_ref=patient.pk, clinic=principal.clinic)
            .order_by("-at", "-id")
            .values("pk")[:n]
        )
        .order_by()
        .values("pk")
    )
    # Each branch is capped inside its own subquery, as SQLite refuses a LIMIT directly in a
    # UNION's branch.
    listing = (
        AuditListing.objects.filter(
            pk__in=AuditListing.objects.filter(patient_ref=patient.pk)
            .order_by("-at", "-event_id")
            .values("pk")[:n]
        )
        .order_by()
        .values("event_id")
    )
    return AuditEvent.objects.filter(
        pk__in=naming.union(listing, all=True), clinic=principal.clinic
    ).order_by("-at", "-id")[:n]


def patient_page(
    *, principal: Principal, patient: Patient, today: dt.date | None = None
) -> PatientPage:
    """Everything the dashboard's patient page shows, one capped query per section.

    The patient must come from `patients_for(principal)`; a patient of another clinic, or a
    principal who is not staff, is refused here as well (Patient.DoesNotExist).
    """
    if not principal.is_staff or patient.clinic_id != principal.clinic.pk:
        raise Patient.DoesNotExist
    today = today or patient.local_today()
    plans = list(
        Plan.objects.filter(patient=patient).order_by("-created_at", "-id")[:PATIENT_PAGE_PLANS]
    )
    plans_by_id = {plan.pk: plan for plan in plans}
    open_plan = next((plan for plan in plans if plan.is_open), None)

    logs = list(
        SessionLog.objects.filter(patient=patient)
        .select_related("logged_by")
        .order_by("-date", "-id")[:PATIENT_PAGE_SESSIONS_READ]
    )
    chart_since = today - dt.timedelta(weeks=PATIENT_PAGE_CHART_WEEKS)
    sessions = tuple(
        PatientPageSession(
            log=log,
            level_name=_page_level_name(plans_by_id.get(log.plan_id), log.level_index),
            adverse_events=tuple(
                wording.adverse_event(name, wording.CLINICIAN) for name in log.adverse_events
            ),
            logged_by=person_name(log.logged_by),
        )
        for log in logs[:PATIENT_PAGE_SESSIONS]
    )

    decisions = tuple(
        _page_decision(decision, plans_by_id)
        for decision in ProgressionDecision.objects.filter(plan__patient=patient)
        .select_related("decided_by")
        .order_by("-created_at", "-id")[:PATIENT_PAGE_DECISIONS]
    )
    safety_pause = None
    pending: tuple[PatientPageDecision, ...] = ()
    if open_plan is not None:
        of_plan = [row for row in decisions if row.decision.plan_id == open_plan.pk]
        latest = of_plan[0] if of_plan else None
        if _page_is_safety_pause(open_plan, latest.decision if latest else None):
            safety_pause = latest
        pending = tuple(row for row in of_plan if row.is_pending)

    screenings = tuple(
        _page_screening(screening, today)
        for screening in Screening.objects.filter(patient=patient)
        .select_related("screened_by", "referral_action__acted_by")
        .order_by("-screened_at", "-id")[:PATIENT_PAGE_SCREENINGS]
    )
    outcomes = _page_outcomes(
        list(
            OutcomeScore.objects.filter(patient=patient)
            .only("id", "patient_id", "measure", "taken_on", "scores")
            .order_by("measure", "taken_on", "id")
        )
    )
    reminders = tuple(
        Reminder.objects.filter(patient=patient).order_by("-due_date", "-id")[
            :PATIENT_PAGE_REMINDERS
        ]
    )
    reports = tuple(
        Report.objects.filter(patient=patient)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:PATIENT_PAGE_REPORTS]
    )
    notes = tuple(
        PatientPageNote(note, person_name(note.author))
        for note in ClinicalNote.objects.filter(patient=patient)
        .select_related("author")
        .order_by("-noted_on", "-created_at", "-id")[:PATIENT_PAGE_NOTES]
    )
    audit_events = tuple(
        PatientPageAudit(event, audit_action_words(event.action))
        for event in _page_audit_events(principal, patient)
    )
    return PatientPage(
        patient=patient,
        today=today,
        age=_page_age(patient.date_of_birth, today),
        plan=_page_plan(open_plan) if open_plan is not None else None,
        safety_pause=safety_pause,
        safety_reasons=tuple(
            wording.reason_text(reason)
            for reason in (safety_pause.decision.reasons if safety_pause else ())
            if reason.get("outcome") == ProgressionDecision.Outcome.PAUSE
        ),
        referrals=referrals_unacted_for(principal, patient=patient),
        pending=pending,
        sessions=sessions,
        chart_since=chart_since,
        chart_points=session_points(log for log in logs if chart_since <= log.date <= today),
        screenings=screenings,
        screening_valid=any(row.valid_today for row in screenings),
        decisions=decisions,
        outcomes=outcomes,
        reminders=reminders,
        reports=reports,
        audit_events=audit_events,
        notes=notes,
    )
