"""Progression decisions: evaluating a plan after a session; a clinician approving or rejecting."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from rehab import outbox, selectors
from rehab.audit import Actor, AuditAction, as_user, audit_record
from rehab.clinical import adherence
from rehab.clinical import progression as clinical_progression
from rehab.errors import ErrorCode, RehabError
from rehab.models import (
    Alert,
    Patient,
    Plan,
    ProgressionDecision,
    SessionLog,
)
from rehab.services.alerts import decision_alerts_record
from rehab.services.common import check_row_fields
from rehab.services.dashboard import dashboard_mark_stale
from rehab.services.plans import (
    decision_emit,
    lock_plan,
    move_level,
    pause_begin,
    plan_paused_emit,
)


def session_record(log: SessionLog) -> clinical_progression.SessionRecord:
    return clinical_progression.SessionRecord(
        day=log.date,
        minutes_done=log.minutes_done,
        pain_before=log.pain_before,
        pain_worst=log.pain_worst,
        pain_after=log.pain_after,
        pain_next_morning=log.pain_next_morning,
        effort=log.effort,
        swelling=log.swelling,
        fall=log.fall,
        near_fall=log.near_fall,
        dizziness=log.dizziness,
        chest_pain=log.chest_pain,
        setting=log.setting,
        speed_kmh=None if log.speed_kmh is None else float(log.speed_kmh),
        incline_pct=None if log.incline_pct is None else float(log.incline_pct),
        logged_at=log.created_at,
        next_morning_at=log.pain_next_morning_at,
    )


@dataclass(frozen=True)
class EvaluationInputs:
    """What evaluating one plan reads besides the plan, loaded beforehand for many plans at
    once (progression_evaluate_many) instead of by evaluate_locked, a few queries per plan."""

    window: list[SessionLog]  # the plan's sessions from window_first_day to today
    recent_advances: list[dt.date]  # as selectors.plan_recent_advance_dates gives them
    last: ProgressionDecision | None  # the plan's latest decision


def window_first_day(
    plan: Plan, today: dt.date, settings: clinical_progression.ProgressionSettings
) -> dt.date:
    return max(plan.window_start, today - dt.timedelta(days=settings.window_days - 1))


def reasons_key(reasons: list[dict]) -> list[tuple]:
    """What a decision's reasons mean, to tell a new decision from the one already recorded:
    each reason's code, the outcome it argues for and the days of the events it names (a second
    near fall is a new decision, which alerts for it). Not their words: those move with the date
    ("4 days at this level so far", "3 of 5 planned sessions since 2 March") while the decision
    stays what it was, and a night with nothing new must not record it again."""
    return [(r["code"], r["outcome"], tuple(r.get("days", ()))) for r in reasons]


@transaction.atomic
def progression_evaluate(
    *, plan: Plan, trigger: str, today: dt.date | None = None, actor: Actor = None
) -> ProgressionDecision | None:
    """Evaluate CLINICAL.md §4 for an active plan and record the decision.

    Returns None for a plan that is not active. Running it twice on the same data records one
    decision: an unchanged result is not stored again.
    """
    plan = lock_plan(plan)
    if plan.status != Plan.Status.ACTIVE:
        return None
    return evaluate_locked(
        plan, trigger=trigger, today=today or plan.patient.local_today(), actor=actor
    )


def evaluate_locked(
    plan: Plan,
    *,
    trigger: str,
    today: dt.date,
    actor: Actor,
    mark_stale: bool = True,
    session: SessionLog | None = None,
    inputs: EvaluationInputs | None = None,
) -> ProgressionDecision:
    """mark_stale: mark the patient's dashboard need stale when a decision is recorded; False
    for a caller that marks it for its whole write already. session: the session whose report
    prompted the evaluation (a session logged; with the next_morning trigger, its next-morning
    pain added). Its safety signals are judged whatever its day, inside the window or before it
    (a patient may log late, after the level changed): a reported fall is never left unread.
    A safety pause begins that day, so the days between a backdated fall and its logging are
    paused, not missed. Without it (the nightly run) a pause begins today. inputs: what the
    evaluation reads, loaded under the plan's lock for many plans at once; read here without.
    The plan is active, or paused when pain at the pause threshold is told the morning after
    (services.session_add_next_morning_pain): the decision is then a pause again, recorded and
    alerted as news, and the pause already running goes on."""
    settings = clinical_progression.ProgressionSettings.from_dict(plan.progression_settings)
    since = window_first_day(plan, today, settings)
    # Every session of the window counts as walked for adherence (the day a level changed was
    # walked at the level before); the rules judge the current level's.
    window = (
        inputs.window
        if inputs is not None
        else list(SessionLog.objects.filter(plan=plan, date__gte=since, date__lte=today))
    )
    logs = sorted(
        (log for log in window if log.level_index == plan.current_level), key=lambda log: log.date
    )
    planned = adherence.adherence(
        plan.adherence_days(),
        first=since,
        last=today,
        walked={log.date for log in window},
        today=today,
    )
    recent_advances = (
        inputs.recent_advances
        if inputs is not None
        else selectors.plan_recent_advance_dates(plan=plan, today=today)
    )
    # The session's report, for the rules to judge even outside the window (or walked at the
    # level before): all of a session just logged; of a next morning's report, that pain alone.
    reported = [] if session is None else [session_record(session)]
    next_morning = trigger == ProgressionDecision.Trigger.NEXT_MORNING
    result = clinical_progression.evaluate(
        levels=plan.level_objs(),
        current=plan.current_level,
        constraints=plan.constraints_obj,
        sessions=[session_record(log) for log in logs],
        planned=(planned.done, planned.due),
        today=today,
        window_start=plan.window_start,
        level_started_on=plan.level_started_on,
        recent_advances=recent_advances,
        settings=settings,
        reported=[] if next_morning else reported,
        reported_next_morning=reported if next_morning else [],
        resumed_at=plan.resumed_at,
    )
    reasons = [r.to_dict() for r in result.reasons]
    last = (
        inputs.last if inputs is not None else plan.decisions.order_by("-created_at", "-id").first()
    )
    if (
        last is not None
        and last.status in (ProgressionDecision.Status.PENDING, ProgressionDecision.Status.NOTED)
        and last.outcome == result.outcome
        and last.from_level == result.from_level
        and last.to_level == result.to_level
        and reasons_key(last.reasons) == reasons_key(reasons)
    ):
        return last  # nothing new to say; keep one row per distinct decision

    Outcome, Status = ProgressionDecision.Outcome, ProgressionDecision.Status
    if result.outcome == Outcome.PAUSE:
        status = Status.APPLIED  # pause always applies at once
    elif result.outcome in (Outcome.ADVANCE, Outcome.REGRESS):
        status = Status.APPLIED if plan.auto_apply else Status.PENDING
    else:
        status = Status.NOTED
    decision = ProgressionDecision.objects.create(
        plan=plan,
        evaluated_on=today,
        trigger=trigger,
        outcome=result.outcome,
        from_level=result.from_level,
        to_level=result.to_level,
        reasons=reasons,
        alert=result.alert,
        status=status,
        applied_on=today if status == Status.APPLIED else None,
    )
    # A suggestion awaiting approval is only as good as the data it saw: a newer, different
    # decision (a near fall, more swelling, a regress) replaces it, so nobody approves an
    # advance the latest sessions argue against. Hence at most one decision is ever pending,
    # and it is the latest: `last` is the only one to look at.
    if last is not None and last.status == Status.PENDING:
        last.status = Status.SUPERSEDED
        last.save(update_fields=["status"])
    if result.outcome == Outcome.PAUSE:
        plan.status = Plan.Status.PAUSED
        plan.status_reason = result.reasons[0].text[:300]
        pause_begin(plan, today if session is None else session.date)
        plan.save()
        # The clinicians hear of it at once. Their alerts commit with the pause, so a broker
        # that is down loses nothing: the outbox sweep sends what the fast path could not.
        decision_alerts_record(decision, kind=Alert.Kind.PAUSE)
        outbox.enqueue_after_commit("alert_pause", decision.pk)
    elif status == Status.APPLIED:
        move_level(plan, result.to_level, today)
    if mark_stale:
        dashboard_mark_stale(plan.patient_id)
    audit_record(
        actor=actor,
        action=AuditAction.PROGRESSION_DECISION,
        obj=decision,
        patient=plan.patient,
        detail={
            "outcome": decision.outcome,
            "status": decision.status,
            "reasons": [r["code"] for r in reasons],
        },
    )
    if result.outcome == Outcome.PAUSE:
        plan_paused_emit(plan, reason=plan.status_reason, safety=True, code=result.reasons[0].code)
    decision_emit(decision, plan, created=True)
    return decision


@transaction.atomic
def progression_evaluate_many(
    *, plan_ids: Sequence[int], trigger: str, now: dt.datetime | None = None
) -> int:
    """Evaluate the active plans among `plan_ids` (the nightly run's batch), each on its
    patient's today; returns how many were evaluated.

    The same as progression_evaluate for each plan, at a fixed number of queries for the
    batch's reads (its plans, their windows' sessions, recent advances, latest decisions),
    plus the writes of the decisions that are new. The batch's plans are locked first, in id
    order, and only they (not their patients or clinic): a session logged meanwhile on one of
    them waits for the batch, as it would for the plan's own evaluation, and holds no lock the
    batch needs while it waits (PostgreSQL locks lock_plan's joined rows in its FROM order, the
    plan's first). Should anything else deadlock with a batch, PostgreSQL aborts one side: an
    OperationalError, which the nightly task retries. The locks are held for the batch's
    length (NIGHTLY_BATCH_SIZE plans), a few seconds at most.
    """
    now = now or timezone.now()
    plans = list(
        Plan.objects.select_for_update(of=("self",))
        .select_related("patient__clinic")
        .filter(pk__in=plan_ids, status=Plan.Status.ACTIVE)
        .order_by("pk")
    )
    if not plans:
        return 0
    todays = {plan.pk: plan.patient.local_today(now) for plan in plans}
    firsts = {
        plan.pk: window_first_day(
            plan,
            todays[plan.pk],
            clinical_progression.ProgressionSettings.from_dict(plan.progression_settings),
        )
        for plan in plans
    }
    ids = list(todays)
    earliest, latest = min(firsts.values()), max(todays.values())
    windows: dict[int, list[SessionLog]] = defaultdict(list)
    for log in SessionLog.objects.filter(plan_id__in=ids, date__gte=earliest, date__lte=latest):
        if firsts[log.plan_id] <= log.date <= todays[log.plan_id]:
            windows[log.plan_id].append(log)
    advances: dict[int, list[dt.date]] = defaultdict(list)
    for plan_id, day in selectors.plans_recent_advance_dates(
        plan_ids=ids, first=min(todays.values()) - dt.timedelta(days=6), last=latest
    ):
        if todays[plan_id] - dt.timedelta(days=6) <= day <= todays[plan_id]:
            advances[plan_id].append(day)
    newest = ProgressionDecision.objects.filter(plan=OuterRef("pk")).order_by("-created_at", "-id")
    lasts = {
        decision.plan_id: decision
        for decision in ProgressionDecision.objects.filter(
            pk__in=Plan.objects.filter(pk__in=ids).values(last=Subquery(newest.values("pk")[:1]))
        )
    }
    changed = []
    for plan in plans:
        inputs = EvaluationInputs(
            window=windows[plan.pk], recent_advances=advances[plan.pk], last=lasts.get(plan.pk)
        )
        decision = evaluate_locked(
            plan,
            trigger=trigger,
            today=todays[plan.pk],
            actor=None,
            mark_stale=False,
            inputs=inputs,
        )
        if decision is not inputs.last:
            changed.append(plan.patient_id)
    if changed:
        # One UPDATE for the batch instead of one per decision (dashboard_mark_stale's).
        Patient.objects.filter(pk__in=changed).update(
            dashboard_day=None, dashboard_version=F("dashboard_version") + 1
        )
    return len(plans)


def _lock_pending(decision: ProgressionDecision) -> ProgressionDecision:
    decision = (
        ProgressionDecision.objects.select_for_update().select_related("plan").get(pk=decision.pk)
    )
    if decision.status != ProgressionDecision.Status.PENDING:
        raise RehabError(
            ErrorCode.DECISION_NOT_PENDING,
            f"This decision is {decision.get_status_display().lower()}, not awaiting approval.",
            status=409,
        )
    return decision


def decision_approve(
    *,
    decision: ProgressionDecision,
    actor: Actor,
    note: str = "",
    today: dt.date | None = None,
) -> ProgressionDecision:
    """Apply a suggestion awaiting approval. Sessions logged since whose deferred evaluation has
    not run yet (the worker behind or down) are judged first, in a transaction of their own: a
    painful session nobody has looked at yet replaces the suggestion, and the approval is then
    refused as for any superseded suggestion (409), the new decision kept."""
    _evaluate_due_sessions(plan_id=decision.plan_id, today=today)
    return _approve(decision=decision, actor=actor, note=note, today=today)


@transaction.atomic
def _evaluate_due_sessions(*, plan_id: int, today: dt.date | None) -> None:
    due = SessionLog.objects.filter(plan_id=plan_id, evaluation_due_on__isnull=False)
    if not due.exists():
        return
    plan = lock_plan(plan_id)
    if plan.status != Plan.Status.ACTIVE:
        return
    decision = evaluate_locked(
        plan,
        trigger=ProgressionDecision.Trigger.SESSION,
        today=today or plan.patient.local_today(),
        actor=None,
    )
    # Their evaluation is done: the worker's delivery, when it comes, finds nothing due.
    due.update(evaluation_due_on=None, decision=decision, updated_at=timezone.now())


@transaction.atomic
def _approve(
    *, decision: ProgressionDecision, actor: Actor, note: str, today: dt.date | None
) -> ProgressionDecision:
    decision = _lock_pending(decision)
    plan = lock_plan(decision.plan)
    if plan.status != Plan.Status.ACTIVE or plan.current_level != decision.from_level:
        raise RehabError(
            ErrorCode.DECISION_STALE,
            "The plan has changed since this decision was made; it can only be rejected.",
            status=409,
        )
    today = today or plan.patient.local_today()
    decision.status = ProgressionDecision.Status.APPROVED
    decision.applied_on = today
    decision.decided_by = as_user(actor)
    decision.decided_at = timezone.now()
    decision.note = note.strip()
    check_row_fields(decision, "note")
    decision.save()
    move_level(plan, decision.to_level, today)
    dashboard_mark_stale(plan.patient_id)
    audit_record(
        actor=actor, action=AuditAction.PROGRESSION_APPROVE, obj=decision, patient=plan.patient
    )
    decision_emit(decision, plan, created=False)
    return decision


@transaction.atomic
def decision_reject(
    *, decision: ProgressionDecision, actor: Actor, note: str = ""
) -> ProgressionDecision:
    decision = _lock_pending(decision)
    decision.status = ProgressionDecision.Status.REJECTED
    decision.decided_by = as_user(actor)
    decision.decided_at = timezone.now()
    decision.note = note.strip()
    check_row_fields(decision, "note")
    decision.save()
    dashboard_mark_stale(decision.plan.patient_id)
    audit_record(
        actor=actor,
        action=AuditAction.PROGRESSION_REJECT,
        obj=decision,
        patient=decision.plan.patient,
    )
    return decision
