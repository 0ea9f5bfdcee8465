"""Every read a screen, endpoint or service needs, scoped to whoever is asking.

Doors pass the acting clinic or patient; a selector never returns another clinic's rows.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from rehab.clinical import outcomes as clinical_outcomes
from rehab.models import (
    Clinic,
    OutcomeScore,
    Patient,
    Plan,
    ProgressionDecision,
    Protocol,
    Screening,
)


def patient_list(*, clinic: Clinic, include_archived: bool = False) -> QuerySet[Patient]:
    patients = Patient.objects.filter(clinic=clinic)
    if not include_archived:
        patients = patients.filter(archived_at__isnull=True)
    return patients


def patient_get(*, clinic: Clinic, patient_id: int) -> Patient:
    """The clinic's patient, or Patient.DoesNotExist: another clinic's id is simply not found."""
    return Patient.objects.select_related("clinic").get(clinic=clinic, pk=patient_id)


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


def plan_ids_active() -> QuerySet[Plan]:
    """Every active plan's id, in id order, for the nightly progression run to page through."""
    return (
        Plan.objects.filter(status=Plan.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )


def decisions_pending(*, clinic: Clinic) -> QuerySet[ProgressionDecision]:
    return ProgressionDecision.objects.filter(
        plan__clinic=clinic, status=ProgressionDecision.Status.PENDING
    ).select_related("plan__patient")


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
