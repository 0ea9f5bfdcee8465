"""Plans: assigning a protocol after a screening allows it, and every change of status or level."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from rehab import selectors
from rehab.audit import Actor, AuditAction, as_user, audit_record
from rehab.clinical import progression as clinical_progression
from rehab.clinical import screening as clinical_screening
from rehab.errors import ErrorCode, RehabError, validation_error
from rehab.models import (
    Patient,
    Plan,
    ProgressionDecision,
    Protocol,
    Screening,
)
from rehab.models.webhooks import WebhookEvent
from rehab.services.common import check_dates, check_row_fields, require_active_patient
from rehab.services.dashboard import dashboard_mark_stale
from rehab.services.protocols import check_protocol_visible
from rehab.services.webhooks import webhook_emit

# A written override must say something; a single word is not a clinical reason.
MIN_OVERRIDE_REASON_LENGTH = 15


DEFAULT_SCHEDULES = {1: [2], 2: [1, 4], 3: [0, 2, 4], 4: [0, 1, 3, 4], 5: [0, 1, 2, 3, 4]}


def _check_screening_allows(
    screening: Screening | None, *, override_reason: str, doing: str
) -> str:
    """The refusal rules of CLINICAL.md §3 for starting or resuming a plan.

    Returns the override reason to store ("" when none was needed).
    """
    if screening is None:
        raise RehabError(
            ErrorCode.SCREENING_REQUIRED,
            f"A valid screening (within its validity period, not invalidated by a fall) is needed "
            f"before a plan can be {doing}.",
            status=409,
        )
    verdict = clinical_screening.Verdict.from_dict(screening.verdict_dict())
    reason = (override_reason or "").strip()
    if verdict.status == "incomplete":
        raise RehabError(
            ErrorCode.SCREENING_INCOMPLETE,
            "The screening is incomplete; answer " + ", ".join(verdict.missing) + " first.",
            fields={"missing": list(verdict.missing)},
            status=409,
        )
    if verdict.allows_plan:
        if reason:
            message = "Only a blocked screening needs an override; this one allows a plan."
            raise validation_error({"override_reason": message})
        return ""
    # Blocked from here on.
    explanations = "; ".join(text for _, text in verdict.explanations())
    if not verdict.can_override:
        raise RehabError(
            ErrorCode.SCREENING_BLOCKED,
            f"The screening blocks backward walking with an {verdict.referral} referral, which "
            f"cannot be overridden: {explanations}",
            status=409,
        )
    if len(reason) < MIN_OVERRIDE_REASON_LENGTH:
        raise RehabError(
            ErrorCode.SCREENING_BLOCKED,
            "The screening blocks backward walking: "
            f"{explanations}. A clinician may override this block with a written reason "
            f"(at least {MIN_OVERRIDE_REASON_LENGTH} characters).",
            fields={"override_reason": ["A written reason is required to override this block."]}
            if reason
            else {},
            status=409,
        )
    return reason


def _check_schedule(schedule_days: list[int]) -> list[int]:
    if (
        not isinstance(schedule_days, list | tuple)
        or not schedule_days
        or any(
            not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in schedule_days
        )
        or len(set(schedule_days)) != len(schedule_days)
    ):
        raise validation_error(
            {"schedule_days": "Give one to seven different weekdays as numbers, Monday = 0."}
        )
    return sorted(schedule_days)


@transaction.atomic
def plan_assign(
    *,
    patient: Patient,
    protocol: Protocol,
    actor: Actor,
    start_date: dt.date | None = None,
    schedule_days: list[int] | None = None,
    auto_apply: bool = False,
    override_reason: str = "",
    today: dt.date | None = None,
) -> Plan:
    """Assign a protocol: needs a valid screening that allows it, or an allowed written override."""
    require_active_patient(patient)
    check_protocol_visible(protocol, patient.clinic)
    today = today or patient.local_today()
    if protocol.condition != patient.condition:
        raise validation_error(
            {
                "protocol": f"This protocol is for {protocol.get_condition_display()}, "
                f"not the patient's {patient.get_condition_display()}."
            }
        )
    # Marks the patient's dashboard need stale, and serialises assignments: the UPDATE holds
    # the patient's row until commit, as a SELECT ... FOR UPDATE would.
    dashboard_mark_stale(patient.pk)
    if selectors.plan_open(patient=patient) is not None:
        raise RehabError(
            ErrorCode.PLAN_ALREADY_OPEN,
            "The patient already has an open plan; complete or discontinue it first.",
            status=409,
        )
    screening = selectors.screening_current(patient=patient, today=today)
    reason = _check_screening_allows(screening, override_reason=override_reason, doing="assigned")
    start_date = start_date or today
    check_dates(start_date=start_date)
    if start_date < screening.screened_on:
        raise validation_error({"start_date": "A plan cannot start before its screening."})
    if start_date > today + dt.timedelta(days=90):
        raise validation_error({"start_date": "A plan must start within 90 days."})
    levels = [row.to_level() for row in protocol.levels.all()]
    if not levels:
        raise validation_error({"protocol": "This protocol has no levels."})
    schedule = _check_schedule(
        schedule_days
        if schedule_days is not None
        else DEFAULT_SCHEDULES.get(levels[0].sessions_per_week, [0, 2, 4])
    )
    settings = clinical_progression.ProgressionSettings.from_dict(protocol.progression_settings)
    plan = Plan(
        patient=patient,
        clinic=patient.clinic,
        protocol=protocol,
        protocol_version=protocol.version,
        protocol_name=protocol.name,
        condition=protocol.condition,
        levels=[level.to_dict() for level in levels],
        progression_settings=settings.to_dict(),
        screening=screening,
        constraints=dict(screening.constraints),
        override_reason=reason,
        overridden_by=as_user(actor) if reason else None,
        start_date=start_date,
        level_started_on=start_date,
        window_start=start_date,
        schedule_days=schedule,
        auto_apply=auto_apply,
        assigned_by=as_user(actor),
    )
    check_row_fields(plan, "override_reason")
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:  # a concurrent assignment won the race
        raise RehabError(
            ErrorCode.PLAN_ALREADY_OPEN, "The patient already has an open plan.", status=409
        ) from exc
    audit_record(
        actor=actor,
        action=AuditAction.PLAN_ASSIGN,
        obj=plan,
        patient=patient,
        detail={"protocol": protocol.code, "version": protocol.version, "override": bool(reason)},
    )
    webhook_emit(
        clinic=patient.clinic,
        event=WebhookEvent.PLAN_ASSIGNED,
        resource=plan,
        patient_id=patient.pk,
    )
    return plan


def lock_plan(plan: Plan | int, *, within: QuerySet[Plan] | None = None) -> Plan:
    """The plan, read afresh under its row lock. `within`: the plans the caller may see (a door
    that has only an id: one look-up that both scopes and locks); Plan.DoesNotExist otherwise."""
    # Concurrent writers on one plan (a log and the nightly run) queue here instead of deciding
    # on stale state. Only the plan's row: the patient is read, not locked, so
    # a clinic's patients logging at once do not queue behind one another. SQLite ignores the
    # clause; its IMMEDIATE transactions serialise instead.
    rows = Plan.objects.all() if within is None else within
    return (
        rows.select_for_update(of=("self",))
        # The clinic in the same query: the events a write emits are read from it (no query
        # for a clinic without webhooks, services.webhooks).
        .select_related("patient__clinic")
        .get(pk=plan.pk if isinstance(plan, Plan) else plan)
    )


def pause_begin(plan: Plan, day: dt.date) -> None:
    """Opens a pause span on the plan from `day` (the caller saves the plan; a safety pause
    gives the day of the session that caused it): the adherence rule's paused days
    (rehab.clinical.adherence) are read from Plan.pauses. A session logged late for a day
    before the last resume pauses from the resume: the days before it are the last span's or
    walked, and the spans stay in order, one after the other."""
    if plan.pauses and plan.pauses[-1][1] is None:
        return  # paused already
    if plan.pauses:
        day = max(day, dt.date.fromisoformat(plan.pauses[-1][1]))
    plan.pauses = [*plan.pauses, [day.isoformat(), None]]


def pause_end(plan: Plan, day: dt.date) -> None:
    """Closes the open pause span: `day` is a plan day again. A pause resumed the day it began
    leaves no span, so that day is a plan day like any other."""
    if not plan.pauses or plan.pauses[-1][1] is not None:
        return
    first, earlier = plan.pauses[-1][0], plan.pauses[:-1]
    plan.pauses = [*earlier, [first, day.isoformat()]] if day.isoformat() > first else earlier


def _transition(
    *,
    plan: Plan,
    to: str,
    allowed_from: tuple[str, ...],
    actor: Actor,
    reason: str,
    action: str,
    today: dt.date | None = None,
) -> Plan:
    plan = lock_plan(plan)
    if plan.status not in allowed_from:
        raise RehabError(
            ErrorCode(f"plan_{plan.status}"),
            f"The plan is {plan.get_status_display().lower()} and cannot be {action}.",
            status=409,
        )
    plan.status = to
    plan.status_reason = reason.strip()
    check_row_fields(plan, "status_reason")
    if to in (Plan.Status.COMPLETED, Plan.Status.DISCONTINUED):
        plan.ended_at = timezone.now()
    if to == Plan.Status.PAUSED:
        pause_begin(plan, today or plan.patient.local_today())
    plan.save()
    dashboard_mark_stale(plan.patient_id)
    audit_record(actor=actor, action=AuditAction(f"plan.{action}"), obj=plan, patient=plan.patient)
    if to == Plan.Status.PAUSED:
        plan_paused_emit(plan, reason=plan.status_reason, safety=False)
    return plan


def plan_paused_emit(plan: Plan, *, reason: str, safety: bool, code: str = "") -> None:
    """plan.paused, by a clinician or by the rules after a safety signal (`code` its reason's)."""
    webhook_emit(
        clinic=plan.patient.clinic,
        event=WebhookEvent.PLAN_PAUSED,
        resource=plan,
        patient_id=plan.patient_id,
        extra={"reason": {"text": reason, "safety": safety, "code": code}},
    )


@transaction.atomic
def plan_pause(*, plan: Plan, actor: Actor, reason: str = "", today: dt.date | None = None) -> Plan:
    """Pause a plan from `today` (the patient's day): its days are paused, never missed, until
    it resumes."""
    return _transition(
        plan=plan,
        to=Plan.Status.PAUSED,
        allowed_from=(Plan.Status.ACTIVE,),
        actor=actor,
        reason=reason or "Paused by the clinician.",
        action="paused",
        today=today,
    )


@transaction.atomic
def plan_resume(
    *,
    plan: Plan,
    actor: Actor,
    reason: str = "",
    override_reason: str = "",
    today: dt.date | None = None,
) -> Plan:
    """Resume a paused plan. It needs a valid screening again: a fall invalidates the old one,
    so a patient who fell is re-screened before walking backwards again."""
    plan = lock_plan(plan)
    if plan.status != Plan.Status.PAUSED:
        raise RehabError(
            ErrorCode.PLAN_NOT_PAUSED,
            f"The plan is {plan.get_status_display().lower()}, not paused.",
            status=409,
        )
    today = today or plan.patient.local_today()
    screening = selectors.screening_current(patient=plan.patient, today=today)
    if screening is not None and screening.pk == plan.screening_id and plan.override_reason:
        override = plan.override_reason  # the same blocked screening, already overridden
    else:
        override = _check_screening_allows(
            screening, override_reason=override_reason, doing="resumed"
        )
    plan.screening = screening
    plan.constraints = dict(screening.constraints)
    plan.override_reason = override
    plan.status = Plan.Status.ACTIVE
    plan.status_reason = (reason or "Resumed by the clinician.").strip()
    check_row_fields(plan, "status_reason", "override_reason")
    plan.window_start = today
    # What was recorded until now is what the clinician resumed the plan on: the window that
    # starts today may hold the signal that paused it, which must not pause it again.
    plan.resumed_at = timezone.now()
    pause_end(plan, today)
    plan.save()
    dashboard_mark_stale(plan.patient_id)
    audit_record(
        actor=actor,
        action=AuditAction.PLAN_RESUMED,
        obj=plan,
        patient=plan.patient,
        detail={"screening": screening.pk},
    )
    webhook_emit(
        clinic=plan.patient.clinic,
        event=WebhookEvent.PLAN_RESUMED,
        resource=plan,
        patient_id=plan.patient_id,
    )
    return plan


@transaction.atomic
def plan_complete(*, plan: Plan, actor: Actor, reason: str = "") -> Plan:
    return _transition(
        plan=plan,
        to=Plan.Status.COMPLETED,
        allowed_from=Plan.OPEN_STATUSES,
        actor=actor,
        reason=reason or "Programme completed.",
        action="completed",
    )


@transaction.atomic
def plan_discontinue(*, plan: Plan, actor: Actor, reason: str) -> Plan:
    if not reason or not reason.strip():
        raise validation_error({"reason": "Say why the plan is discontinued."})
    return _transition(
        plan=plan,
        to=Plan.Status.DISCONTINUED,
        allowed_from=Plan.OPEN_STATUSES,
        actor=actor,
        reason=reason,
        action="discontinued",
    )


@transaction.atomic
def plan_set_auto_apply(*, plan: Plan, auto_apply: bool, actor: Actor) -> Plan:
    plan = lock_plan(plan)
    plan.auto_apply = auto_apply
    plan.save(update_fields=["auto_apply", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.PLAN_SETTINGS,
        obj=plan,
        patient=plan.patient,
        detail={"auto_apply": auto_apply},
    )
    return plan


@transaction.atomic
def plan_set_level(
    *, plan: Plan, level: int, actor: Actor, reason: str, today: dt.date | None = None
) -> ProgressionDecision:
    """A clinician moves the plan to another level; recorded as an applied decision."""
    plan = lock_plan(plan)
    if plan.status != Plan.Status.ACTIVE:
        raise RehabError(
            ErrorCode.PLAN_NOT_ACTIVE, "Only an active plan's level can be changed.", status=409
        )
    if not isinstance(level, int) or not 0 <= level < len(plan.levels):
        raise validation_error({"level": f"Choose a level from 1 to {len(plan.levels)}."})
    if level == plan.current_level:
        raise validation_error({"level": "The plan is already at this level."})
    if not reason or not reason.strip():
        raise validation_error({"reason": "Say why the level is changed."})
    # The reason is kept as the decision's reason text and shown as the plan's status reason.
    check_row_fields(Plan(status_reason=reason.strip()), "status_reason")
    today = today or plan.patient.local_today()
    outcome = (
        ProgressionDecision.Outcome.ADVANCE
        if level > plan.current_level
        else ProgressionDecision.Outcome.REGRESS
    )
    decision = ProgressionDecision.objects.create(
        plan=plan,
        evaluated_on=today,
        trigger=ProgressionDecision.Trigger.MANUAL,
        outcome=outcome,
        from_level=plan.current_level,
        to_level=level,
        reasons=[{"code": "clinician_adjusted", "text": reason.strip(), "outcome": outcome}],
        status=ProgressionDecision.Status.APPLIED,
        applied_on=today,
        decided_by=as_user(actor),
        decided_at=timezone.now(),
    )
    _supersede_pending(plan, keep=decision)
    move_level(plan, level, today)
    dashboard_mark_stale(plan.patient_id)
    audit_record(
        actor=actor,
        action=AuditAction.PLAN_LEVEL,
        obj=plan,
        patient=plan.patient,
        detail={"from": decision.from_level, "to": level},
    )
    decision_emit(decision, plan, created=True)
    return decision


def decision_emit(decision: ProgressionDecision, plan: Plan, *, created: bool) -> None:
    """decision.created for a new decision; decision.applied too when it moved the plan (an
    advance or regress applied at once or approved, a manual level, a pause)."""
    for event, happened in (
        (WebhookEvent.DECISION_CREATED, created),
        (
            WebhookEvent.DECISION_APPLIED,
            decision.status
            in (ProgressionDecision.Status.APPLIED, ProgressionDecision.Status.APPROVED),
        ),
    ):
        if happened:
            webhook_emit(
                clinic=plan.patient.clinic,
                event=event,
                resource=decision,
                patient_id=plan.patient_id,
            )


def move_level(plan: Plan, level: int, today: dt.date) -> None:
    plan.current_level = level
    plan.level_started_on = today
    plan.window_start = today
    plan.save()


def _supersede_pending(plan: Plan, *, keep: ProgressionDecision) -> None:
    plan.decisions.filter(status=ProgressionDecision.Status.PENDING).exclude(pk=keep.pk).update(
        status=ProgressionDecision.Status.SUPERSEDED
    )
