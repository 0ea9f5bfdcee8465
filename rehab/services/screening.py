"""Contraindication screenings and what a clinician did about a referral they raised."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from rehab import selectors
from rehab.audit import Actor, AuditAction, as_user, audit_record
from rehab.clinical import screening as clinical_screening
from rehab.errors import ErrorCode, RehabError, validation_error
from rehab.models import (
    Patient,
    ReferralAction,
    Screening,
)
from rehab.models.webhooks import WebhookEvent
from rehab.services.common import check_json, clean_row, require_active_patient
from rehab.services.dashboard import dashboard_mark_stale
from rehab.services.webhooks import webhook_emit


@transaction.atomic
def screening_submit(
    *, patient: Patient, answers: dict[str, Any], actor: Actor, today: dt.date | None = None
) -> Screening:
    """Screen a patient: the verdict of rehab.clinical.screening, stored with its thresholds."""
    require_active_patient(patient)
    if not isinstance(answers, dict):
        raise validation_error({"answers": "Answers must be an object of answer codes."})
    check_json(answers, field="answers", max_length=200)
    answers = dict(answers)
    condition = answers.get("condition")
    if condition is None:
        answers["condition"] = patient.condition
    elif condition != patient.condition:
        raise validation_error(
            {"condition": f"The patient's condition is {patient.condition}, not {condition}."}
        )
    settings = clinical_screening.ScreeningSettings.from_dict(patient.clinic.screening_settings)
    try:
        verdict = clinical_screening.screen(answers, settings)
    except clinical_screening.InvalidAnswers as exc:
        raise validation_error(exc.errors, "Some screening answers are not valid.") from exc
    today = today or patient.local_today()
    result = verdict.to_dict()
    screening = Screening.objects.create(
        patient=patient,
        clinic=patient.clinic,
        condition=patient.condition,
        answers=answers,
        status=result["status"],
        referral=result["referral"],
        reasons=result["reasons"],
        missing=result["missing"],
        constraints=result["constraints"],
        settings_used=settings.to_dict(),
        screened_by=as_user(actor),
        screened_on=today,
        valid_until=clinical_screening.valid_until(today, settings),
    )
    dashboard_mark_stale(patient.pk)
    audit_record(
        actor=actor,
        action=AuditAction.SCREENING_SUBMIT,
        obj=screening,
        patient=patient,
        detail={"status": screening.status, "referral": screening.referral},
    )
    webhook_emit(
        clinic=patient.clinic,
        event=WebhookEvent.SCREENING_COMPLETED,
        resource=screening,
        patient_id=patient.pk,
        extra={"verdict": {"status": screening.status, "referral": screening.referral}},
    )
    return screening


@transaction.atomic
def referral_act(*, screening: Screening, actor: Actor, action: str) -> ReferralAction:
    """Record that a screening's urgent or emergency referral was acted on: who (the actor),
    when (now) and what ("referred to A&E", "GP letter sent"). It clears the referral's flag on
    Today and its banner on the patient's page; the screening itself is unchanged (the verdict
    stands). Once per screening: the record is the clinic's account of what was done."""
    # Locked, so two clinicians recording at once get one record and one clear refusal.
    screening = (
        Screening.objects.select_for_update().select_related("patient__clinic").get(pk=screening.pk)
    )
    if screening.referral not in selectors.URGENT_REFERRALS:
        raise RehabError(
            ErrorCode.REFERRAL_NOT_URGENT,
            "This screening made no urgent or emergency referral; there is nothing to record.",
            status=409,
        )
    if ReferralAction.objects.filter(screening=screening).exists():
        raise RehabError(
            ErrorCode.REFERRAL_ALREADY_ACTED,
            "This referral is already recorded as acted on.",
            status=409,
        )
    action = (action or "").strip()
    if not action:
        raise validation_error(
            {"action": "Say what was done, for example “referred to A&E” or “GP letter sent”."}
        )
    record = ReferralAction(screening=screening, acted_by=as_user(actor), action=action)
    clean_row(record, exclude=["screening", "acted_by"], validate_constraints=False)
    record.save()
    dashboard_mark_stale(screening.patient_id)
    # What was done stays in the record (it is clinical text); the trail names the act only.
    audit_record(
        actor=actor,
        action=AuditAction.REFERRAL_ACTED,
        obj=record,
        patient=screening.patient,
        detail={"screening": screening.pk, "referral": screening.referral},
    )
    return record


def screenings_invalidate(*, patient: Patient, reason: str, actor: Actor) -> int:
    # Its caller (session_log) marks the patient's dashboard need stale for its whole write.
    count = Screening.objects.filter(patient=patient, invalidated_at__isnull=True).update(
        invalidated_at=timezone.now(), invalidated_reason=reason
    )
    if count:
        audit_record(
            actor=actor,
            action=AuditAction.SCREENING_INVALIDATE,
            patient=patient,
            detail={"count": count, "reason": "fall"},
        )
    return count
