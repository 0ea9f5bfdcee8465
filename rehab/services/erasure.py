"""Erasing a patient on request (GDPR Art. 17), where the law lets the clinic.

Who they are goes: their name, date of birth, contacts, record number, the free text written
about or by them, their sign-in, and every file of theirs. What they were treated for stays only
under the clinic's legal hold (Clinic.erasure_legal_hold): the plans, sessions, scores and
decisions, stripped of their free text, because health records must be kept for years after
care ends in most jurisdictions; without the hold they are deleted too.

The patient's row itself stays, emptied and archived, with erased_at set: the audit trail points
at it (its hash chain covers the patient's id, not their name, so the chain still verifies) and
so do the rows under the hold. No door shows an erased patient (rehab.selectors.scoped).
"""

from __future__ import annotations

import logging
from functools import partial

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from rehab.access import Principal
from rehab.audit import Actor, AuditAction, audit_record
from rehab.errors import ErrorCode, RehabError, validation_error
from rehab.models import (
    Alert,
    CalendarFeed,
    Clinic,
    ClinicalNote,
    IdempotencyRecord,
    KeptForm,
    OutcomeScore,
    Patient,
    PersonalToken,
    Plan,
    PortalInvite,
    ProgressionDecision,
    QuestionnaireDraft,
    ReferralAction,
    Reminder,
    Report,
    Screening,
    SessionLog,
    User,
)
from rehab.services.common import clean_row
from rehab.services.dashboard import dashboard_mark_stale
from rehab.services.reports import report_path
from rehab.services.webhooks import webhook_deliveries_forget_patient

log = logging.getLogger(__name__)

# What an erased record is called wherever a row still names it (the Django admin).
ERASED_FIRST_NAME = "Erased"
ERASED_LAST_NAME = "patient"


class ErasureReason(models.TextChoices):
    """Why a record was erased: a code, so the audit event records it without free text."""

    PATIENT_REQUEST = "patient_request", _("The patient asked for their data to be erased")
    RETENTION_ENDED = "retention_ended", _("The clinic's retention period has ended")


def _without_free_text(answers):
    """A questionnaire's answers without the patient's own words (PSFS names its activities):
    every string emptied, the numbers the scores came from kept."""
    if isinstance(answers, dict):
        return {key: _without_free_text(value) for key, value in answers.items()}
    if isinstance(answers, list):
        return [_without_free_text(value) for value in answers]
    return "" if isinstance(answers, str) else answers


def _delete_files(paths: list) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            # The row is gone either way; a file left behind is found by its name in the log
            # (a report id, no personal data) and removed by hand.
            log.exception("Could not remove an erased patient's file %s", path.name)


def _erase_sign_in(user: User) -> None:
    """The portal account can no longer sign in and no longer says who it was. Its sessions end
    with the password (Django checks each session's password hash), its tokens, devices, kept
    forms and idempotent responses go, and so do the sign-in attempts recorded under its name."""
    old_username = user.username
    PersonalToken.objects.filter(user=user).delete()
    KeptForm.objects.filter(user=user).delete()
    IdempotencyRecord.objects.filter(owner=f"user:{user.pk}").delete()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username=old_username).delete()
    user.username = f"erased-{user.pk}"
    user.first_name = user.last_name = user.email = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(
        update_fields=["username", "first_name", "last_name", "email", "is_active", "password"]
    )


@transaction.atomic
def patient_erase(*, patient: Patient, by: Principal, reason: str) -> Patient:
    """Erase `patient`'s personal details, files and sign-in, and their clinical rows unless the
    clinic's legal hold keeps them. A clinic administrator of the patient's clinic only. Erasing
    an erased record again changes nothing and records nothing."""
    if not (by.is_clinic_admin and by.clinic.pk == patient.clinic_id):
        raise RehabError(
            ErrorCode.NOT_CLINIC_ADMIN,
            "Only the clinic's administrators can erase a patient.",
            status=403,
        )
    if reason not in ErasureReason.values:
        raise validation_error({"reason": "Choose why the record is erased."})
    patient = Patient.objects.select_for_update().select_related("clinic").get(pk=patient.pk)
    if patient.erased_at is not None:
        return patient
    now = timezone.now()
    keep_clinical = patient.clinic.erasure_legal_hold
    plans = Plan.objects.filter(patient=patient)

    # Nothing more goes to them or about them: their planned reminders, and the alerts not yet
    # sent about their decisions (sent ones are kept under the hold, and deleted with them).
    Reminder.objects.filter(patient=patient).delete()
    # Webhook payloads are copies of their record (the resource as the API showed it), sent or
    # waiting: they go too, so an erased patient's details do not leave in a retry.
    webhook_deliveries_forget_patient(patient_id=patient.pk)
    Alert.objects.filter(
        decision__plan__patient=patient, status__in=(Alert.Status.PENDING, Alert.Status.SENDING)
    ).update(status=Alert.Status.SKIPPED, detail="The patient's record was erased.")

    # Every file: the reports' PDFs (they print the name on every page), with their rows; the
    # files go once the erasure has committed, so a rollback leaves a report whole.
    reports = list(Report.objects.filter(patient=patient).only("pk", "file_name"))
    files = [report_path(report) for report in reports if report.file_name]
    Report.objects.filter(patient=patient).delete()
    transaction.on_commit(partial(_delete_files, files))

    # The free text written by them or about them.
    ClinicalNote.objects.filter(patient=patient).delete()
    QuestionnaireDraft.objects.filter(patient=patient).delete()
    PortalInvite.objects.filter(patient=patient).delete()
    CalendarFeed.objects.filter(patient=patient).delete()
    if keep_clinical:
        SessionLog.objects.filter(patient=patient).update(notes="")
        ProgressionDecision.objects.filter(plan__patient=patient).update(note="")
        ReferralAction.objects.filter(screening__patient=patient).update(action="")
        Screening.objects.filter(patient=patient).update(invalidated_reason="")
        plans.update(
            override_reason="",
            status_reason="",
            status=models.Case(
                models.When(
                    status__in=Plan.OPEN_STATUSES, then=models.Value(Plan.Status.DISCONTINUED)
                ),
                default=models.F("status"),
            ),
            ended_at=models.functions.Coalesce(models.F("ended_at"), models.Value(now)),
        )
        scores = list(OutcomeScore.objects.filter(patient=patient).only("pk", "answers"))
        for score in scores:
            score.answers = _without_free_text(score.answers)
        OutcomeScore.objects.bulk_update(scores, ["answers"], batch_size=500)
    else:
        OutcomeScore.objects.filter(patient=patient).delete()
        # Sessions, decisions and their alerts go with their plans; screenings after the plans
        # that hold them.
        plans.delete()
        Screening.objects.filter(patient=patient).delete()

    if patient.user_id is not None:
        _erase_sign_in(User.objects.select_for_update().get(pk=patient.user_id))

    Patient.objects.filter(pk=patient.pk).update(
        first_name=ERASED_FIRST_NAME,
        last_name=ERASED_LAST_NAME,
        date_of_birth=None,
        email="",
        phone="",
        external_id="",
        timezone=patient.clinic.timezone,
        condition=patient.condition if keep_clinical else "",
        reminders_enabled=False,
        reminder_channel=Patient.Channel.NONE,
        archived_at=models.functions.Coalesce(models.F("archived_at"), models.Value(now)),
        erased_at=now,
        updated_at=now,
    )
    dashboard_mark_stale(patient.pk)
    patient.refresh_from_db()
    # Who erased which record, why (a code) and whether clinical rows were kept: nothing that
    # was erased. Earlier events stay as they were sealed (README, "A patient's data on
    # request").
    audit_record(
        actor=by.actor,
        action=AuditAction.PATIENT_ERASE,
        obj=patient,
        patient=patient,
        clinic=by.clinic,
        detail={"reason": reason, "clinical_data": "kept" if keep_clinical else "deleted"},
    )
    return patient


@transaction.atomic
def clinic_set_data_requests(
    *, clinic: Clinic, actor: Actor, retention_years: int, erasure_legal_hold: bool
) -> Clinic:
    """The clinic's retention period and legal hold (README, "A patient's data on request").
    Edited by its administrators (the door checks who may); validated here for every door."""
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    changes = {"retention_years": retention_years, "erasure_legal_hold": erasure_legal_hold}
    changed = sorted(name for name, value in changes.items() if getattr(clinic, name) != value)
    for name, value in changes.items():
        setattr(clinic, name, value)
    clean_row(clinic)
    if changed:
        clinic.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action=AuditAction.CLINIC_SETTINGS,
        obj=clinic,
        clinic=clinic,
        detail={"fields": changed},
    )
    return clinic
