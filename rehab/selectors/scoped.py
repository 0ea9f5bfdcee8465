"""Records scoped to the acting principal: a clinician's clinic, a patient's rows, a key's."""

from __future__ import annotations

import datetime as dt
import hmac

from django.db.models import (
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce

from rehab import wording
from rehab.access import Principal, api_key_hash
from rehab.clinical import outcomes as clinical_outcomes
from rehab.models import (
    ApiKey,
    AuditEvent,
    Clinic,
    ClinicalNote,
    OutcomeScore,
    Patient,
    Plan,
    ProgressionDecision,
    Protocol,
    Reminder,
    Report,
    Screening,
    SessionLog,
)


def protocol_library(*, clinic: Clinic) -> QuerySet[Protocol]:
    """Built-ins and the clinic's own protocols, never another clinic's copies."""
    return Protocol.objects.filter(Q(clinic__isnull=True) | Q(clinic=clinic)).prefetch_related(
        "levels"
    )


def screening_current(*, patient: Patient, today: dt.date) -> Screening | None:
    """The latest screening still valid today (not expired, not invalidated by a fall)."""
    return (
        Screening.objects.filter(
            patient=patient,
            invalidated_at__isnull=True,
            screened_on__lte=today,
            valid_until__gte=today,
        )
        .order_by("-screened_at", "-id")
        .first()
    )


def plan_open(*, patient: Patient) -> Plan | None:
    return Plan.objects.filter(patient=patient, status__in=Plan.OPEN_STATUSES).first()


def plan_pause_reasons(*, plan: Plan) -> tuple[str, ...]:
    """What a paused plan is paused for, in the clinician's words: the pause reasons of every
    pause decision since the plan last resumed, each once, oldest first. That is the signal that
    paused it and any told while it was paused (pain at the threshold the morning after), all of
    which the resume takes as reviewed. Empty for a plan not paused, or paused by the clinician
    with no safety signal since."""
    if plan.status != Plan.Status.PAUSED:
        return ()
    pauses = plan.decisions.filter(
        outcome=ProgressionDecision.Outcome.PAUSE, status=ProgressionDecision.Status.APPLIED
    )
    if plan.resumed_at is not None:
        pauses = pauses.filter(created_at__gt=plan.resumed_at)
    texts: list[str] = []
    for reasons in pauses.order_by("created_at", "id").values_list("reasons", flat=True):
        for reason in reasons or ():
            if reason.get("outcome") != ProgressionDecision.Outcome.PAUSE:
                continue
            text = wording.reason_text(reason)
            if text not in texts:  # a signal named again by a later pause decision
                texts.append(text)
    return tuple(texts)


def plan_level_on(*, plan: Plan, day: dt.date) -> int:
    """The level the plan prescribed on `day` (a day of the plan): the one it moved from at the
    first level change applied after that day, or its current level when none was. A level
    started on a day is that day's level, as for a session logged that day after the change."""
    if day >= plan.level_started_on:
        return plan.current_level
    Outcome, Status = ProgressionDecision.Outcome, ProgressionDecision.Status
    moved_from = (
        plan.decisions.filter(
            outcome__in=(Outcome.ADVANCE, Outcome.REGRESS),
            status__in=(Status.APPLIED, Status.APPROVED),
            applied_on__gt=day,
        )
        # In the order they were applied: an approval applies a suggestion made earlier.
        .order_by("applied_on", Coalesce("decided_at", "created_at"), "id")
        .values_list("from_level", flat=True)
        .first()
    )
    return plan.current_level if moved_from is None else moved_from


def plan_recent_advance_dates(*, plan: Plan, today: dt.date) -> list[dt.date]:
    """Dates of the advances applied in the last 7 days (CLINICAL.md §1: at most 2 steps in 7)."""
    return list(
        plan.decisions.filter(
            outcome=ProgressionDecision.Outcome.ADVANCE,
            status__in=(ProgressionDecision.Status.APPLIED, ProgressionDecision.Status.APPROVED),
            applied_on__gte=today - dt.timedelta(days=6),
            applied_on__lte=today,
        ).values_list("applied_on", flat=True)
    )


def plans_recent_advance_dates(
    *, plan_ids: list[int], first: dt.date, last: dt.date
) -> list[tuple[int, dt.date]]:
    """(plan id, date) of the plans' advances applied from `first` to `last`: what
    plan_recent_advance_dates gives for one plan, for a batch of them in one query."""
    return list(
        ProgressionDecision.objects.filter(
            plan_id__in=plan_ids,
            outcome=ProgressionDecision.Outcome.ADVANCE,
            status__in=(ProgressionDecision.Status.APPLIED, ProgressionDecision.Status.APPROVED),
            applied_on__gte=first,
            applied_on__lte=last,
        ).values_list("plan_id", "applied_on")
    )


def plan_ids_active() -> QuerySet[Plan]:
    """Every active plan's id, in id order, for the nightly progression run to page through."""
    return (
        Plan.objects.filter(status=Plan.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )


def outcome_changes(*, patient: Patient, measure: str) -> tuple[clinical_outcomes.Change, ...]:
    """The latest score of a measure against the patient's first (the baseline)."""
    scores = list(
        OutcomeScore.objects.filter(patient=patient, measure=measure)
        .order_by("taken_on", "id")
        .values_list("scores", flat=True)
    )
    if len(scores) < 2:
        return ()
    return clinical_outcomes.change(measure, scores[0], scores[-1])


# Staff (clinicians, API keys) see their clinic; a patient sees only their own rows. Role
# checks (who may use an endpoint at all) are the doors' permissions; these scopes are the
# second line, so a forgotten check still shows nothing of another clinic or patient. An erased
# patient (services.patient_erase) is in no scope: what the legal hold keeps of their record is
# kept, not shown; a patient's own scope needs no test, as their sign-in is gone.


def _scope(queryset: QuerySet, principal: Principal, patient_path: str = "patient") -> QuerySet:
    if principal.is_staff:
        return queryset.filter(
            **{
                f"{patient_path}__clinic": principal.clinic,
                f"{patient_path}__erased_at__isnull": True,
            }
        )
    return queryset.filter(**{patient_path: principal.patient})


def patients_for(principal: Principal) -> QuerySet[Patient]:
    if principal.is_staff:
        # Through the clinic's own manager: the same query, and each patient it gives carries the
        # principal's clinic row, so a service that reads patient.clinic (the webhook events its
        # write may emit) reads no clinic of its own.
        return principal.clinic.patients.filter(erased_at__isnull=True)
    return Patient.objects.filter(pk=principal.patient.pk)


def screenings_for(principal: Principal) -> QuerySet[Screening]:
    if not principal.is_staff:
        return Screening.objects.none()
    return Screening.objects.filter(
        clinic=principal.clinic, patient__erased_at__isnull=True
    ).select_related("patient")


def protocols_for(principal: Principal) -> QuerySet[Protocol]:
    if not principal.is_staff:
        return Protocol.objects.none()
    return protocol_library(clinic=principal.clinic)


def plans_for(principal: Principal) -> QuerySet[Plan]:
    return _scope(Plan.objects.select_related("patient"), principal)


def sessions_for(principal: Principal) -> QuerySet[SessionLog]:
    return _scope(SessionLog.objects.select_related("patient", "plan", "decision"), principal)


def decisions_for(principal: Principal) -> QuerySet[ProgressionDecision]:
    return _scope(
        ProgressionDecision.objects.select_related("plan__patient"), principal, "plan__patient"
    )


def outcomes_for(principal: Principal) -> QuerySet[OutcomeScore]:
    return _scope(OutcomeScore.objects.select_related("patient"), principal)


def clinical_notes_for(principal: Principal) -> QuerySet[ClinicalNote]:
    """The clinic's working notes: staff only. A patient does not read them through any door
    (as the clinician's version of a report is not theirs)."""
    if not principal.is_staff:
        return ClinicalNote.objects.none()
    return ClinicalNote.objects.filter(
        patient__clinic=principal.clinic, patient__erased_at__isnull=True
    ).select_related("patient", "author")


def reminders_for(principal: Principal) -> QuerySet[Reminder]:
    return _scope(Reminder.objects.select_related("patient"), principal)


def reports_for(principal: Principal) -> QuerySet[Report]:
    """Staff see every report of their clinic; a patient only the plain-language versions of
    their own (the clinician's version is not theirs to read, whichever door they use)."""
    reports = _scope(Report.objects.select_related("patient"), principal)
    if not principal.is_staff:
        reports = reports.filter(audience=Report.Audience.PATIENT)
    return reports


def audit_events_for(principal: Principal) -> QuerySet[AuditEvent]:
    if not principal.is_clinic_admin:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(clinic=principal.clinic)


def api_key_for(raw_key: str) -> ApiKey | None:
    """The key a caller presented, found by its prefix and compared by hash in constant time;
    None for a malformed or unknown key (revocation and expiry are the caller's to check)."""
    parts = raw_key.split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or not parts[1]:
        return None
    api_key = ApiKey.objects.select_related("clinic").filter(prefix=parts[1]).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, api_key_hash(raw_key)):
        return None
    return api_key


def reminder_ids_due(*, now: dt.datetime) -> list[int]:
    """Reminders waiting to go out whose moment has come."""
    return list(
        Reminder.objects.filter(status=Reminder.Status.PENDING, scheduled_for__lte=now)
        .order_by("scheduled_for", "pk")
        .values_list("pk", flat=True)
    )
