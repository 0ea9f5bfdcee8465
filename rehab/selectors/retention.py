"""Patients past their clinic's retention period, listed for an administrator to review.

A patient is done with the clinic when their record is archived, or when every plan they had
has ended (completed or discontinued) and none is open: "discharged". Their last activity is the
latest of the archiving, a plan's end and a logged session; a patient whose last activity is more
than the clinic's retention period (Clinic.retention_years) ago is listed, oldest first, for the
administrator to erase (services.patient_erase) or keep. Erased patients are not listed.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import DateTimeField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from rehab.access import Principal
from rehab.models import Patient, Plan, SessionLog

# A page of the review list: each row is a patient to decide about, not a table to scan.
RETENTION_PAGE_SIZE = 50

# What a missing date counts as when the latest of several is taken (GREATEST is NULL with a
# NULL argument on SQLite).
_NEVER = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def retention_cutoff(*, years: int, now: dt.datetime) -> dt.datetime:
    """The moment `years` before `now` (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def patients_past_retention(
    *, principal: Principal, now: dt.datetime | None = None
) -> QuerySet[Patient]:
    """The clinic's archived or discharged patients whose last activity is older than its
    retention period, oldest first, each annotated with `last_activity`. Clinic administrators
    only (none for anyone else)."""
    if not principal.is_clinic_admin:
        return Patient.objects.none()
    clinic = principal.clinic
    cutoff = retention_cutoff(years=clinic.retention_years, now=now or timezone.now())
    plans = Plan.objects.filter(patient_id=OuterRef("pk"))
    last_plan_end = plans.exclude(ended_at=None).order_by("-ended_at").values("ended_at")[:1]
    last_session = (
        SessionLog.objects.filter(patient_id=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    never = Value(_NEVER, output_field=DateTimeField())
    return (
        Patient.objects.filter(clinic=clinic, erased_at__isnull=True)
        .filter(
            Q(archived_at__isnull=False)
            | (Q(Exists(plans)) & ~Q(Exists(plans.filter(status__in=Plan.OPEN_STATUSES))))
        )
        .annotate(
            last_activity=Greatest(
                Coalesce("archived_at", never),
                Coalesce(Subquery(last_plan_end, output_field=DateTimeField()), never),
                Coalesce(Subquery(last_session, output_field=DateTimeField()), never),
                Coalesce("created_at", never),
            )
        )
        .filter(last_activity__lt=cutoff)
        .only("pk", "first_name", "last_name", "external_id", "archived_at", "created_at")
        .order_by("last_activity", "pk")
    )
