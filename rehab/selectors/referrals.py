"""Urgent and emergency referrals no clinician has recorded as acted on."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Case,
    QuerySet,
    Value,
    When,
)

from rehab.access import Principal
from rehab.clinical import screening as clinical_screening
from rehab.models import (
    Patient,
    Screening,
)
from rehab.selectors.common import person_name


@dataclass(frozen=True)
class OpenReferral:
    """An urgent or emergency referral no clinician has recorded as acted on: a banner on the
    patient page, a line in the digest."""

    screening: Screening
    reasons: tuple[str, ...]  # in words: the answers that caused the referral
    screened_by: str

    @property
    def is_emergency(self) -> bool:
        return self.screening.referral == Screening.Referral.EMERGENCY


def open_referral(screening: Screening) -> OpenReferral:
    verdict = clinical_screening.Verdict.from_dict(screening.verdict_dict())
    explanations = verdict.explanations()
    referring = tuple(
        text for code, text in explanations if code in clinical_screening.URGENT_REFERRAL_CODES
    )
    return OpenReferral(
        screening=screening,
        # A verdict stored before URGENT_REFERRAL_CODES named its codes shows all its reasons.
        reasons=referring or tuple(text for _, text in explanations),
        screened_by=person_name(screening.screened_by),
    )


def referrals_unacted_for(principal: Principal, *, patient: Patient) -> tuple[OpenReferral, ...]:
    """The patient's urgent and emergency referrals not recorded as acted on, emergency first,
    then the latest: one query."""
    if not principal.is_staff or patient.clinic_id != principal.clinic.pk:
        return ()
    return tuple(
        open_referral(screening)
        for screening in referrals_unacted()
        .filter(patient=patient)
        .select_related("screened_by")
        .order_by(
            Case(When(referral=Screening.Referral.EMERGENCY, then=Value(0)), default=Value(1)),
            "-screened_at",
            "-id",
        )
    )


URGENT_REFERRALS = (Screening.Referral.EMERGENCY, Screening.Referral.URGENT)


def referrals_unacted() -> QuerySet[Screening]:
    """Screenings whose urgent or emergency referral no clinician has recorded as acted on
    (ReferralAction): the one definition the Today flags, the patient page's banner and the
    digest share. Unscoped: each caller narrows it to a patient or a clinic."""
    return Screening.objects.filter(referral__in=URGENT_REFERRALS, referral_action__isnull=True)
