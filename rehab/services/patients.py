"""Patient records: creating, editing and archiving, and keeping the sign-in address in step."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from rehab import selectors
from rehab.audit import Actor, AuditAction, as_user, audit_record
from rehab.errors import ErrorCode, RehabError, validation_error
from rehab.models import (
    Clinic,
    Patient,
    User,
)
from rehab.models.webhooks import WebhookEvent
from rehab.services.common import clean_row, require_active_patient
from rehab.services.dashboard import dashboard_mark_stale
from rehab.services.plans import plan_discontinue
from rehab.services.reminders import reminders_follow_settings
from rehab.services.webhooks import webhook_emit

PATIENT_EDITABLE = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "timezone",
    "condition",
    "external_id",
    "reminder_channel",
    "reminder_time",
    "reminders_enabled",
)


_SMS_NEEDS_PHONE = (
    "Text-message reminders need a mobile phone number: add one, or choose another way."
)


def _check_patient(patient: Patient, *, changed: tuple[str, ...] | list[str] = ()) -> None:
    """`changed`: the fields an update changes, so a refusal lands on the one to correct."""
    clean_row(patient, exclude=["user", "created_by"])
    if patient.date_of_birth and patient.date_of_birth > timezone.now().date():
        raise validation_error({"date_of_birth": "The date of birth cannot be in the future."})
    if patient.reminder_channel == Patient.Channel.SMS and not patient.phone.strip():
        # A channel that cannot reach the patient would only fail at every reminder: refused
        # for every door, as the portal refuses it (patient_set_reminders).
        field = "phone" if "phone" in changed and "reminder_channel" not in changed else None
        raise validation_error({field or "reminder_channel": _SMS_NEEDS_PHONE})


RECORD_NUMBER_TAKEN = "Another patient of this clinic already has this record number."
_Service = TypeVar("_Service", bound=Callable[..., Patient])


def _taken_record_number_is_a_conflict(service: _Service) -> _Service:
    """Two requests giving one record number at the same instant both pass _check_patient's
    uniqueness check before either commits; the database's constraint then refuses the second.
    Its transaction (or savepoint) is rolled back by then: the refusal is a 409 on the field,
    as the check's own is a 400 on it, never a 500. Any other integrity error is not ours to
    name and goes on."""

    @functools.wraps(service)
    def refusing(*args: Any, **kwargs: Any) -> Patient:
        try:
            return service(*args, **kwargs)
        except IntegrityError as exc:
            # The constraint's name (PostgreSQL) or its columns (SQLite) are in the message.
            if "external_id" not in str(exc):
                raise
            raise RehabError(
                ErrorCode.RECORD_NUMBER_TAKEN,
                "Another request gave this record number to a patient at the same moment.",
                fields={
                    "external_id": [
                        "Another patient of this clinic already has this record number."
                    ]
                },
                status=409,
            ) from None

    return refusing  # type: ignore[return-value]


@_taken_record_number_is_a_conflict
@transaction.atomic
def patient_create(
    *,
    clinic: Clinic,
    actor: Actor,
    first_name: str,
    last_name: str,
    condition: str,
    date_of_birth: dt.date | None = None,
    email: str = "",
    phone: str = "",
    timezone_name: str | None = None,
    external_id: str = "",
    reminder_channel: str = Patient.Channel.EMAIL,
    reminder_time: dt.time | None = None,
    reminders_enabled: bool = True,
    user: User | None = None,
) -> Patient:
    patient = Patient(
        clinic=clinic,
        user=user,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        condition=condition,
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
        timezone=timezone_name or clinic.timezone,
        external_id=external_id,
        reminder_channel=reminder_channel,
        reminder_time=reminder_time or dt.time(9, 0),
        reminders_enabled=reminders_enabled,
        created_by=as_user(actor),
    )
    _check_patient(patient)
    patient.save()
    audit_record(actor=actor, action=AuditAction.PATIENT_CREATE, obj=patient, patient=patient)
    webhook_emit(
        clinic=clinic, event=WebhookEvent.PATIENT_CREATED, resource=patient, patient_id=patient.pk
    )
    if user is not None and patient.email.strip():
        _login_email_follow(patient=patient, actor=actor)
    return patient


# A change to any of these moves the patient's pending reminders (reminders_follow_settings).
REMINDER_FIELDS = frozenset({"reminder_channel", "reminder_time", "timezone", "reminders_enabled"})


_LOGIN_EMAIL_TAKEN = (
    "Another account already signs in with this e-mail address. Use another address, or ask "
    "the patient which address is theirs."
)


def _login_email_follow(*, patient: Patient, actor: Actor) -> None:
    """A patient has one e-mail address: their record's is the one they sign in and reset their
    password with. When the record's changes, their portal account's changes with it, in the
    same transaction, and so does a username that was the old address (account_for reads a
    typed address as a username too, so the old one would still sign in). An address another
    account signs in with is refused on the field: two accounts with one address sign in
    neither (rehab.backends.account_for)."""
    if patient.user_id is None:
        return
    user = User.objects.select_for_update().get(pk=patient.user_id)
    new = patient.email.strip()
    old = user.email.strip()
    if new == old:
        return
    if not new:
        raise validation_error(
            {
                "email": "This patient signs in to the portal with their e-mail address, so "
                "it cannot be removed. Change it to their new address instead."
            }
        )
    if User.objects.filter(email__iexact=new).exclude(pk=user.pk).exists():
        raise validation_error({"email": _LOGIN_EMAIL_TAKEN})
    fields = ["email"]
    user.email = new
    if old and user.username.lower() == old.lower():
        user.username = selectors.portal_username_for(email=new)
        fields.append("username")
    user.save(update_fields=fields)
    # Which parts of the login changed; never the addresses.
    audit_record(
        actor=actor,
        action=AuditAction.PORTAL_LOGIN_EMAIL,
        obj=patient,
        patient=patient,
        detail={"fields": fields},
    )


@_taken_record_number_is_a_conflict
@transaction.atomic
def patient_update(
    *, patient: Patient, actor: Actor, now: dt.datetime | None = None, **changes: Any
) -> Patient:
    """Change a patient's record, from any door. A change to how or when reminders go moves
    the reminders already planned and not yet sent (today's included) to the new choices."""
    unknown = sorted(set(changes) - set(PATIENT_EDITABLE))
    if unknown:
        raise validation_error(dict.fromkeys(unknown, "This field cannot be changed here."))
    require_active_patient(patient)
    changes_condition = changes.get("condition", patient.condition) != patient.condition
    if changes_condition and selectors.plan_open(patient=patient) is not None:
        raise RehabError(
            ErrorCode.PLAN_OPEN,
            "The condition cannot change while a plan is open; complete or discontinue it first.",
            fields={"condition": ["A plan is open for the current condition."]},
            status=409,
        )
    changed = [name for name, value in changes.items() if getattr(patient, name) != value]
    for name, value in changes.items():
        setattr(patient, name, value)
    _check_patient(patient, changed=changed)
    # Only what may be edited: a full save would write back the dashboard's stored need as it
    # was read, over a stale mark a concurrent write made meanwhile. No editable field is read
    # by a dashboard flag, so the update marks nothing itself.
    patient.save(update_fields=[*PATIENT_EDITABLE, "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_UPDATE,
        obj=patient,
        patient=patient,
        detail={"fields": sorted(changed)},
    )
    if "email" in changed:
        _login_email_follow(patient=patient, actor=actor)
    if REMINDER_FIELDS.intersection(changed):
        reminders_follow_settings(patient=patient, actor=actor, now=now or timezone.now())
    if changed:
        webhook_emit(
            clinic=patient.clinic,
            event=WebhookEvent.PATIENT_UPDATED,
            resource=patient,
            patient_id=patient.pk,
            extra={"changed": sorted(changed)},
        )
    return patient


@transaction.atomic
def patient_archive(*, patient: Patient, actor: Actor) -> Patient:
    """Archive a patient: their open plan is discontinued, their record kept."""
    if patient.archived_at is not None:
        return patient
    plan = selectors.plan_open(patient=patient)
    if plan is not None:
        plan_discontinue(plan=plan, actor=actor, reason="Patient archived.")
    patient.archived_at = timezone.now()
    patient.save(update_fields=["archived_at", "updated_at"])
    dashboard_mark_stale(patient.pk)
    audit_record(actor=actor, action=AuditAction.PATIENT_ARCHIVE, obj=patient, patient=patient)
    return patient
