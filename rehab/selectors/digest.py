"""The clinician's daily digest: what needs attention across their clinic, and who is due one."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db.models import (
    Case,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)

from rehab.clinical import adherence
from rehab.models import (
    Clinic,
    Clinician,
    Plan,
    ProgressionDecision,
    Screening,
    SessionLog,
)
from rehab.selectors.dashboard_need import SCREENING_EXPIRY_WARNING_DAYS
from rehab.selectors.referrals import open_referral, referrals_unacted


def digest_for(*, clinic: Clinic, today: dt.date) -> dict[str, list]:
    """What a clinician of the clinic should look at today. A fixed number of queries for any
    number of patients."""
    week_ago = today - dt.timedelta(days=6)
    pending = list(
        ProgressionDecision.objects.filter(
            plan__clinic=clinic, status=ProgressionDecision.Status.PENDING
        ).select_related("plan__patient")
    )
    # The days of the flag's window each plan was walked, read with the plans: one bit a day
    # (one session per plan and day), so the rule below costs no query of its own.
    first = adherence.review_window(today)
    window = [first + dt.timedelta(days=n) for n in range((today - first).days + 1)]
    walked_bits = Subquery(
        SessionLog.objects.filter(plan_id=OuterRef("pk"), date__gte=first, date__lte=today)
        .order_by()
        .values("plan_id")
        .annotate(
            bits=Sum(
                Case(
                    *(When(date=day, then=Value(1 << n)) for n, day in enumerate(window)),
                    default=Value(0),
                )
            )
        )
        .values("bits")
    )
    active = list(
        Plan.objects.filter(clinic=clinic, status=Plan.Status.ACTIVE)
        .select_related("patient", "screening")
        .annotate(walked_bits=walked_bits)
    )
    non_adherent = []
    expiring = []
    for plan in active:
        # The one rule (rehab.clinical.adherence), as the Today list's flag counts it.
        bits = plan.walked_bits or 0
        week = adherence.adherence(
            plan.adherence_days(),
            first=first,
            last=today,
            walked={day for n, day in enumerate(window) if bits >> n & 1},
            today=today,
        )
        if adherence.needs_review(week):
            non_adherent.append((plan, week.done, week.due))
        if plan.screening.valid_until <= today + dt.timedelta(days=SCREENING_EXPIRY_WARNING_DAYS):
            expiring.append(plan)
    unsettled = list(
        SessionLog.objects.filter(
            plan__clinic=clinic,
            plan__status=Plan.Status.ACTIVE,
            date__gte=week_ago,
            pain_next_morning__gt=F("pain_before"),
        ).select_related("patient")
    )
    # Referrals first: the same definition as Today's referral flags (emergency first).
    referrals = [
        open_referral(screening)
        for screening in referrals_unacted()
        .filter(clinic=clinic, patient__archived_at__isnull=True)
        .select_related("patient", "screened_by")
        .order_by(
            Case(When(referral=Screening.Referral.EMERGENCY, then=Value(0)), default=Value(1)),
            "-screened_at",
            "-id",
        )
    ]
    return {
        "referrals": referrals,
        "pending": pending,
        "non_adherent": non_adherent,
        "expiring": expiring,
        "unsettled": unsettled,
    }


def clinicians_at_local_hour(*, now: dt.datetime, hour: int) -> list:
    """Clinicians whose clinic's local time is within `hour`:00-59 now."""
    clinicians = Clinician.objects.select_related("clinic", "user").filter(user__is_active=True)
    return [
        c for c in clinicians if now.astimezone(zoneinfo.ZoneInfo(c.clinic.timezone)).hour == hour
    ]
