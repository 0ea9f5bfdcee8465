"""Logged walking sessions and the next morning's pain, each followed by the plan's evaluation:
at once for a session that reports a safety signal, as deferred work for every other one."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from rehab import outbox, selectors
from rehab.audit import Actor, AuditAction, as_user, audit_record
from rehab.clinical import progression as clinical_progression
from rehab.errors import ErrorCode, RehabError, validation_error
from rehab.models import (
    Alert,
    Clinician,
    Patient,
    Plan,
    ProgressionDecision,
    SessionLog,
)
from rehab.models.webhooks import WebhookEvent
from rehab.services.alerts import decision_alerts_record
from rehab.services.common import as_decimal, clean_row
from rehab.services.dashboard import dashboard_mark_stale
from rehab.services.plans import lock_plan
from rehab.services.progression import evaluate_locked, session_record
from rehab.services.screening import screenings_invalidate
from rehab.services.webhooks import webhook_emit


def _plan_accepts_logs(plan: Plan) -> None:
    if plan.status == Plan.Status.PAUSED:
        raise RehabError(
            ErrorCode.PLAN_PAUSED,
            "The plan is paused"
            + (f" ({plan.status_reason})" if plan.status_reason else "")
            + "; sessions cannot be logged until the clinician resumes it.",
            status=409,
        )
    if plan.status != Plan.Status.ACTIVE:
        raise RehabError(
            ErrorCode.PLAN_NOT_ACTIVE,
            f"The plan is {plan.get_status_display().lower()}; sessions cannot be logged on it.",
            status=409,
        )


@transaction.atomic
def session_log(
    *,
    plan: Plan | int,
    actor: Actor,
    date: dt.date,
    minutes_done: int,
    pain_before: int,
    pain_worst: int,
    pain_after: int,
    effort: int,
    setting: str,
    speed_kmh: float | None = None,
    incline_pct: float = 0,
    swelling: str = SessionLog.Swelling.NONE,
    fall: bool = False,
    near_fall: bool = False,
    dizziness: bool = False,
    chest_pain: bool = False,
    notes: str = "",
    pain_next_morning: int | None = None,
    supervised: bool = False,
    today: dt.date | None = None,
    within: QuerySet[Plan] | None = None,
) -> SessionLog:
    """Log a session. A session reporting a safety signal (a fall, chest pain, pain at the pause
    threshold, next-morning pain, a near fall or dizziness, a session outside the plan) has the
    plan evaluated before this function returns: a fall pauses the plan at once. Every other
    session's evaluation is deferred work (`session_evaluate`), due from this same commit.
    `plan`: the plan, or only its id with `within`, the plans the caller may see (an unknown id
    is a validation error on `plan`). `supervised`: a clinician of the patient's clinic was there
    and records it (the dashboard's form); the same rules apply to it."""
    try:
        plan = lock_plan(plan, within=within)
    except Plan.DoesNotExist:
        # The words DRF gives for an id the caller may not see, as the other endpoints do.
        raise validation_error({"plan": f'Invalid pk "{plan}" - object does not exist.'}) from None
    _plan_accepts_logs(plan)
    patient = plan.patient
    if supervised:
        _check_supervisor(actor, patient)
    today = today or patient.local_today()
    log = SessionLog(
        plan=plan,
        patient=patient,
        date=date,
        level_index=plan.current_level,
        minutes_done=minutes_done,
        speed_kmh=as_decimal(speed_kmh),
        incline_pct=as_decimal(incline_pct),
        setting=setting,
        pain_before=pain_before,
        pain_worst=pain_worst,
        pain_after=pain_after,
        pain_next_morning=pain_next_morning,
        effort=effort,
        swelling=swelling,
        fall=fall,
        near_fall=near_fall,
        dizziness=dizziness,
        chest_pain=chest_pain,
        notes=notes or "",
    )
    # Field validators give the messages; the table's check constraint stays as the backstop,
    # not asked again here (it would cost a query per log for what the validators just said).
    clean_row(log, exclude=["plan", "patient", "logged_by"], validate_constraints=False)
    if log.date > today:
        raise validation_error({"date": "A session cannot be logged for a future date."})
    if log.date < plan.start_date:
        raise validation_error(
            {"date": f"The plan started on {plan.start_date:%d %b %Y}; this date is before it."}
        )
    if log.date < plan.level_started_on:
        # Logged late, for a day before the current level started: the patient walked what that
        # day's level asked. The session keeps that level (the record, and which level's rules
        # may judge it), and is checked against it for a setting outside the plan.
        log.level_index = selectors.plan_level_on(plan=plan, day=log.date)
    if log.pain_next_morning is not None:
        if log.date >= today:
            raise validation_error(
                {"pain_next_morning": "Next-morning pain can be added from the next morning on."}
            )
        log.pain_next_morning_at = timezone.now()
    log.logged_by = as_user(actor)
    log.supervised = supervised
    record = session_record(log)
    level = plan.level_objs()[log.level_index]
    at_once = clinical_progression.evaluate_at_once(
        record,
        level,
        plan.constraints_obj,
        clinical_progression.ProgressionSettings.from_dict(plan.progression_settings),
    )
    # The record of the deferred evaluation rides in the log's own INSERT: no query more.
    log.evaluation_due_on = None if at_once else today
    try:
        # The unique (plan, date) constraint is the duplicate check, for a retry and for two
        # requests at once alike. No savepoint of its own: on a clash the whole service
        # transaction is rolled back.
        log.save()
    except IntegrityError as exc:
        raise _duplicate_session(log.date) from exc
    audit_record(
        actor=actor,
        action=AuditAction.SESSION_LOG,
        obj=log,
        patient=patient,
        detail={"adverse_events": log.adverse_events, "supervised": supervised},
    )
    if not at_once:
        # A worker evaluates the plan shortly after commit; a broker that is down loses
        # nothing, the outbox sweep hands the due evaluation over once it is back. The Today
        # list's stored need is marked stale by that evaluation, so the list shows the session
        # and its decision together (and this request spares the patient row's update).
        outbox.enqueue_after_commit("session_evaluate", log.pk)
        _session_logged_emit(log)
        return log
    # For all this service writes: the session, a fall's invalidated screening, the decision.
    dashboard_mark_stale(patient.pk)
    if log.fall:
        # CLINICAL.md §3: a reported fall invalidates the screening.
        screenings_invalidate(
            patient=patient, reason=f"Fall logged on {log.date:%d %b %Y}.", actor=actor
        )
    decision = evaluate_locked(
        plan,
        trigger=ProgressionDecision.Trigger.SESSION,
        today=today,
        actor=actor,
        mark_stale=False,
        session=log,
    )
    log.decision = decision
    SessionLog.objects.filter(pk=log.pk).update(decision=decision)
    if decision.outcome != ProgressionDecision.Outcome.PAUSE and any(
        getattr(log, event) for event in clinical_progression.HOLD_ALERT_EVENTS
    ):
        # CLINICAL.md §4.1: a near fall or dizziness holds and alerts. Alerted for the session
        # that reports it (a later evaluation still naming it alerts nobody again), through the
        # pause's outbox path; a pause alerts by itself.
        decision_alerts_record(decision, kind=Alert.Kind.HOLD)
        outbox.enqueue_after_commit("alert_pause", decision.pk)
    if decision.outcome != ProgressionDecision.Outcome.PAUSE and clinical_progression.outside_plan(
        record, level, plan.constraints_obj
    ):
        # A session done outside what the plan allows (a setting, a speed or a slope beyond the
        # screening's): the rules hold, and the clinicians are told at once, for the session
        # that is (a later evaluation still naming it alerts nobody again, however the window's
        # words change); a pause alerts by itself.
        decision_alerts_record(decision, kind=Alert.Kind.OFF_PLAN)
        outbox.enqueue_after_commit("alert_pause", decision.pk)
    _session_logged_emit(log)
    return log


def _session_logged_emit(log: SessionLog) -> None:
    # The clinic came with the plan's lock: no query when none of its endpoints wants this.
    webhook_emit(
        clinic=log.patient.clinic,
        event=WebhookEvent.SESSION_LOGGED,
        resource=log,
        patient_id=log.patient_id,
    )


@transaction.atomic
def session_evaluate(
    *, session_id: int, today: dt.date | None = None
) -> ProgressionDecision | None:
    """The deferred evaluation after a session (tasks.session_evaluate, handed over again by the
    outbox sweep). Claimed with a guarded update under the plan's lock, in the transaction that
    records the decision: a second delivery finds nothing due and does nothing, and a worker
    that dies mid-way leaves it due for the sweep. A plan no longer active (a later session
    paused it, the clinician completed it) is not evaluated; the session's decision stays none.
    `today`: by default the patient's day the session was logged on, so the decision is the one
    an evaluation at once would have made, however late the broker delivers it; but never a day
    before what the plan already holds (a later session, or a decision made since, e.g. at once
    for a later safety signal or next-morning pain): a late delivery judges every session the
    plan has, and never records, over a newer decision, one made from older data."""
    due = SessionLog.objects.filter(pk=session_id, evaluation_due_on__isnull=False)
    session = due.first()
    if session is None:
        return None  # evaluated already (or the session was removed with its plan)
    plan = lock_plan(session.plan_id)
    if not due.update(evaluation_due_on=None):
        return None  # another delivery claimed it while this one waited for the lock
    # For the session itself (session_log left the mark to this evaluation) and the decision.
    dashboard_mark_stale(plan.patient_id)
    if plan.status != Plan.Status.ACTIVE:
        return None
    decision = evaluate_locked(
        plan,
        trigger=ProgressionDecision.Trigger.SESSION,
        today=max(today or session.evaluation_due_on, _latest_day_seen(plan)),
        actor=None,
        mark_stale=False,
        session=session,
    )
    # updated_at too: a clinic system syncing with ?updated_since= sees the decision arrive.
    SessionLog.objects.filter(pk=session_id).update(decision=decision, updated_at=timezone.now())
    return decision


def _latest_day_seen(plan: Plan) -> dt.date:
    """The latest day the plan's data speaks of: its latest session (or a session's due
    evaluation) and its latest decision."""
    sessions = SessionLog.objects.filter(plan=plan).aggregate(
        logged=Max("date"), due=Max("evaluation_due_on")
    )
    decided = plan.decisions.aggregate(day=Max("evaluated_on"))["day"]
    return max(day for day in (*sessions.values(), decided) if day is not None)


def _check_supervisor(actor: Actor, patient: Patient) -> None:
    """Only a clinician of the patient's clinic can say they supervised a session: not the
    patient, not a clinic system's key (it cannot say who was there)."""
    user = as_user(actor)
    if (
        user is None
        or not Clinician.objects.filter(user=user, clinic_id=patient.clinic_id).exists()
    ):
        raise RehabError(
            ErrorCode.SUPERVISOR_NOT_CLINICIAN,
            "Only a clinician of the patient's clinic can record a supervised session.",
            status=403,
        )


def _duplicate_session(day: dt.date) -> RehabError:
    return RehabError(
        ErrorCode.SESSION_DUPLICATE,
        f"A session is already logged for {day:%d %b %Y}.",
        fields={"date": ["A session is already logged for this day."]},
        status=409,
    )


@transaction.atomic
def session_add_next_morning_pain(
    *, session: SessionLog, pain: int, actor: Actor, today: dt.date | None = None
) -> SessionLog:
    plan = lock_plan(session.plan)
    session = SessionLog.objects.select_for_update().get(pk=session.pk)
    today = today or plan.patient.local_today()
    if session.pain_next_morning is not None:
        raise RehabError(
            ErrorCode.NEXT_MORNING_ALREADY_RECORDED,
            "Next-morning pain is already recorded for this session.",
            status=409,
        )
    if today <= session.date:
        raise validation_error(
            {"pain_next_morning": "Next-morning pain can be added from the next morning on."}
        )
    if isinstance(pain, bool) or not isinstance(pain, int) or not 0 <= pain <= 10:
        raise validation_error({"pain_next_morning": "Give a whole number from 0 to 10."})
    session.pain_next_morning = pain
    session.pain_next_morning_at = timezone.now()
    session.save(update_fields=["pain_next_morning", "pain_next_morning_at", "updated_at"])
    dashboard_mark_stale(plan.patient_id)  # for the evaluation's writes too
    audit_record(
        actor=actor, action=AuditAction.SESSION_NEXT_MORNING, obj=session, patient=plan.patient
    )
    settings = clinical_progression.ProgressionSettings.from_dict(plan.progression_settings)
    severe = pain >= settings.pause_pain
    # A session walked at an earlier level is no longer the rules' to judge, but pain at the
    # pause threshold pauses the plan whatever level it followed (CLINICAL.md §4.1), and
    # whatever the plan's state: told while the plan is paused, it is a pause decision of its
    # own, which alerts the clinicians at once and which the resume page lists. Without it the
    # pain would reach nobody, and the resume (which takes what was recorded before it as
    # reviewed) would silently pass over it.
    if (
        plan.status == Plan.Status.ACTIVE and (session.level_index == plan.current_level or severe)
    ) or (plan.status == Plan.Status.PAUSED and severe):
        evaluate_locked(
            plan,
            trigger=ProgressionDecision.Trigger.NEXT_MORNING,
            today=today,
            actor=actor,
            mark_stale=False,
            session=session,
        )
    return session
