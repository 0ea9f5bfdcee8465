"""Every write, one function each: keyword-only, typed, one transaction, an audit event.

A door (view, serializer, command, task) parses input and calls one of these; the clinical rule
itself lives in rehab/clinical/ and is only applied here. Refusals raise RehabError with a stable
code, a message a person can act on, and field errors where a field is at fault.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.html import escape
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from rehab import notify, outbox, scheduling, selectors, wording
from rehab.access import api_key_hash, password_stamp
from rehab.audit import Actor, as_user, audit_record
from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import progression as clinical_progression
from rehab.clinical import protocols as clinical_protocols
from rehab.clinical import screening as clinical_screening
from rehab.clinical.levels import Level
from rehab.errors import RehabError, validation_error
from rehab.models import (
    Alert,
    ApiKey,
    AuditEvent,
    CalendarFeed,
    Clinic,
    ClinicalNote,
    Clinician,
    KeptForm,
    OutcomeScore,
    Patient,
    PersonalToken,
    Plan,
    PortalInvite,
    ProgressionDecision,
    Protocol,
    ProtocolLevel,
    QuestionnaireDraft,
    ReferralAction,
    Reminder,
    Report,
    Screening,
    SessionLog,
    User,
    validate_timezone,
)
from rehab.validators import check_json_text, validate_date_in_range

# A written override must say something; a single word is not a clinical reason.
MIN_OVERRIDE_REASON_LENGTH = 15
DEFAULT_SCHEDULES = {1: [2], 2: [1, 4], 3: [0, 2, 4], 4: [0, 1, 3, 4], 5: [0, 1, 2, 3, 4]}


# Table constraints whose refusal belongs to one field (the violation_error_code in models.py).
CONSTRAINT_FIELDS = {"external_id_taken": "external_id"}


def clean_row(
    instance, *, exclude: list[str] | None = None, validate_constraints: bool = True
) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_constraints=validate_constraints)
    except ValidationError as exc:
        fields = exc.message_dict
        # A conditional unique constraint reports on no field; its code says which it is.
        for error in getattr(exc, "error_dict", {}).get("__all__", []):
            field = CONSTRAINT_FIELDS.get(error.code)
            if field:
                fields["__all__"].remove(error.messages[0])
                fields.setdefault(field, []).extend(error.messages)
        raise validation_error({k: v for k, v in fields.items() if v}) from exc


def check_row_fields(instance, *names: str) -> None:
    """Run the model's own validators (length, characters, date range: rehab.validators) on the
    fields a service was given, for writes that do not clean the whole row. No query: unique
    fields and constraints are left to the database."""
    exclude = [f.name for f in instance._meta.concrete_fields if f.name not in names]
    clean_row(instance, exclude=exclude, validate_constraints=False)


def check_dates(**dates: dt.date | None) -> None:
    """Dates refused before any arithmetic on them can overflow the calendar."""
    errors = {}
    for name, value in dates.items():
        try:
            validate_date_in_range(value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise validation_error(errors)


def check_json(value: Any, *, field: str | None, max_length: int) -> None:
    """Free JSON a service keeps: not too deep, and every key and text one short line. Errors
    are named as the clinical rules name theirs (a path inside the object); `field` prefixes
    them where the object is one field among others."""
    errors = check_json_text(value, max_length=max_length)
    if errors:
        raise validation_error(
            {
                ".".join(filter(None, (field, path))) or "non_field_errors": m
                for path, m in errors.items()
            }
        )


def as_decimal(value: Any) -> Any:
    """Floats as their shortest decimal: 2.3 is Decimal('2.3'), not 2.29999... rounded to the
    field's precision as '2.30', which a one-decimal field would refuse. Other input is left to
    the field's own validation, so a bad value still gets its field error."""
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    return value


def require_active_patient(patient: Patient) -> None:
    if patient.archived_at is not None:
        raise RehabError(
            "patient_archived",
            f"{patient.full_name} is archived; restore the record first.",
            status=409,
        )


# --- Clinics ---------------------------------------------------------------------------------


@transaction.atomic
def clinic_update_screening_settings(
    *, clinic: Clinic, settings: dict[str, Any], actor: Actor
) -> Clinic:
    """Change the clinic's screening thresholds ([I] defaults of CLINICAL.md §3)."""
    try:
        parsed = clinical_screening.ScreeningSettings.from_dict(settings)
    except (ValueError, TypeError) as exc:
        raise validation_error({"screening_settings": str(exc)}) from exc
    defaults = clinical_screening.ScreeningSettings().to_dict()
    clinic.screening_settings = {k: v for k, v in parsed.to_dict().items() if defaults.get(k) != v}
    clinic.save(update_fields=["screening_settings"])
    audit_record(
        actor=actor,
        action="clinic.settings",
        obj=clinic,
        clinic=clinic,
        detail={"fields": sorted(clinic.screening_settings)},
    )
    return clinic


CLINIC_CONTACT_FIELDS = ("phone", "address", "opening_hours")


@transaction.atomic
def clinic_update_contact(
    *, clinic: Clinic, actor: Actor, phone: str, address: str, opening_hours: str
) -> Clinic:
    """How patients reach the clinic: the phone every stop message of the portal shows as a
    tap-to-call link, the address and the opening hours. Edited by the clinic's administrators
    (the door checks who may); validated here for every door."""
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    changes = {
        "phone": (phone or "").strip(),
        # Browsers send a textarea's line breaks as \r\n; kept as \n like every note.
        "address": (address or "").replace("\r\n", "\n").strip(),
        "opening_hours": (opening_hours or "").replace("\r\n", "\n").strip(),
    }
    changed = sorted(name for name, value in changes.items() if getattr(clinic, name) != value)
    for name, value in changes.items():
        setattr(clinic, name, value)
    clean_row(clinic)
    if changed:
        clinic.save(update_fields=list(CLINIC_CONTACT_FIELDS))
    # The field names only: a clinic's phone is no patient's data, but the trail needs no copy.
    audit_record(
        actor=actor, action="clinic.contact", obj=clinic, clinic=clinic, detail={"fields": changed}
    )
    return clinic


# --- Patients --------------------------------------------------------------------------------

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
    audit_record(actor=actor, action="patient.create", obj=patient, patient=patient)
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
        action="portal.login_email",
        obj=patient,
        patient=patient,
        detail={"fields": fields},
    )


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
            "plan_open",
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
        action="patient.update",
        obj=patient,
        patient=patient,
        detail={"fields": sorted(changed)},
    )
    if "email" in changed:
        _login_email_follow(patient=patient, actor=actor)
    if REMINDER_FIELDS.intersection(changed):
        reminders_follow_settings(patient=patient, actor=actor, now=now or timezone.now())
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
    audit_record(actor=actor, action="patient.archive", obj=patient, patient=patient)
    return patient


# --- Protocols -------------------------------------------------------------------------------


def _level_rows(protocol: Protocol, levels: list[Level]) -> list[ProtocolLevel]:
    rows = []
    for position, level in enumerate(levels):
        rows.append(
            ProtocolLevel(
                protocol=protocol,
                position=position,
                name=level.name,
                minutes=level.minutes,
                sessions_per_week=level.sessions_per_week,
                speed_kmh=as_decimal(level.speed_kmh),
                incline_pct=as_decimal(level.incline_pct),
                setting=level.setting,
                min_days=level.min_days,
                interval_backward_seconds=level.interval.backward_seconds
                if level.interval
                else None,
                interval_forward_seconds=level.interval.forward_seconds if level.interval else None,
                supervised=level.supervised,
                note=level.note,
            )
        )
    return rows


def _citations_data(definition: clinical_protocols.ProtocolDef) -> list[dict[str, str]]:
    return [{"key": c.key, "text": c.text, "supports": c.supports} for c in definition.citations]


@transaction.atomic
def protocol_library_load() -> list[Protocol]:
    """Load or refresh the built-in library; safe to run again (a changed built-in gets a new
    version, an unchanged one is left alone)."""
    loaded = []
    for definition in clinical_protocols.LIBRARY:
        protocol = Protocol.objects.filter(clinic__isnull=True, code=definition.code).first()
        fields = {
            "condition": definition.condition,
            "name": definition.name,
            "summary": definition.summary,
            "citations": _citations_data(definition),
            "retest_weeks": definition.retest_weeks,
            "outcome_measures": list(definition.outcome_measures),
            "progression_settings": dict(definition.progression),
        }
        if protocol is None:
            protocol = Protocol.objects.create(clinic=None, code=definition.code, **fields)
            ProtocolLevel.objects.bulk_create(_level_rows(protocol, list(definition.levels)))
        else:
            stored = [row.to_level() for row in protocol.levels.all()]
            meta_changed = any(getattr(protocol, k) != v for k, v in fields.items())
            if stored != list(definition.levels) or meta_changed:
                for key, value in fields.items():
                    setattr(protocol, key, value)
                if stored != list(definition.levels):
                    protocol.levels.all().delete()
                    ProtocolLevel.objects.bulk_create(
                        _level_rows(protocol, list(definition.levels))
                    )
                    protocol.version += 1
                protocol.save()
        loaded.append(protocol)
    return loaded


def check_protocol_visible(protocol: Protocol, clinic: Clinic) -> None:
    if protocol.clinic_id not in (None, clinic.pk):
        raise RehabError(
            "protocol_not_found", "No such protocol in this clinic's library.", status=404
        )


@transaction.atomic
def protocol_copy(
    *, protocol: Protocol, clinic: Clinic, actor: Actor, name: str | None = None
) -> Protocol:
    """Copy a built-in (or the clinic's own) protocol into the clinic's library for editing."""
    check_protocol_visible(protocol, clinic)
    name = (name or "").strip()
    if name:
        check_row_fields(Protocol(name=name), "name")
    name = name or f"{protocol.name} ({clinic.name})"[:200]
    base_code = slugify(name)[:70] or "protocol"
    code, n = base_code, 1
    while Protocol.objects.filter(clinic=clinic, code=code).exists():
        n += 1
        code = f"{base_code}-{n}"
    copy = Protocol.objects.create(
        clinic=clinic,
        code=code,
        condition=protocol.condition,
        name=name,
        summary=protocol.summary,
        citations=protocol.citations,
        retest_weeks=protocol.retest_weeks,
        outcome_measures=protocol.outcome_measures,
        progression_settings=protocol.progression_settings,
        based_on=protocol,
    )
    ProtocolLevel.objects.bulk_create(
        _level_rows(copy, [row.to_level() for row in protocol.levels.all()])
    )
    audit_record(
        actor=actor, action="protocol.copy", obj=copy, clinic=clinic, detail={"from": protocol.pk}
    )
    return copy


def _parse_levels(levels: list[dict[str, Any]]) -> list[Level]:
    if not isinstance(levels, list) or not levels:
        raise validation_error({"levels": "A protocol needs at least one level."})
    parsed, errors = [], {}
    for index, data in enumerate(levels):
        try:
            level = Level.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            errors[f"levels[{index}]"] = [f"Level {index + 1} is incomplete or malformed ({exc})."]
            continue
        row = _level_rows(Protocol(), [level])[0]
        try:
            row.full_clean(exclude=["protocol", "position"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"levels[{index}].{field}"] = messages
            continue
        if bool(level.interval) and (
            level.interval.backward_seconds <= 0 or level.interval.forward_seconds <= 0
        ):
            errors[f"levels[{index}].interval"] = ["Interval times must be positive."]
            continue
        parsed.append(level)
    if errors:
        raise validation_error(errors)
    return parsed


@transaction.atomic
def protocol_update(
    *,
    protocol: Protocol,
    actor: Actor,
    name: str | None = None,
    summary: str | None = None,
    levels: list[dict[str, Any]] | None = None,
    progression_settings: dict[str, Any] | None = None,
) -> Protocol:
    """Edit a clinic's own protocol. Built-ins are read-only; live plans keep their snapshot."""
    if protocol.is_builtin:
        raise RehabError(
            "protocol_read_only",
            "Built-in protocols are read-only; copy it into your clinic and edit the copy.",
            status=403,
        )
    if name is not None:
        if not name.strip():
            raise validation_error({"name": "A protocol needs a name."})
        protocol.name = name.strip()
    if summary is not None:
        protocol.summary = summary
    check_row_fields(protocol, "name", "summary")
    if progression_settings is not None:
        check_json(progression_settings, field="progression_settings", max_length=100)
        try:
            clinical_progression.ProgressionSettings.from_dict(progression_settings)
        except (ValueError, TypeError) as exc:
            raise validation_error({"progression_settings": str(exc)}) from exc
        protocol.progression_settings = dict(progression_settings)
    if levels is not None:
        parsed = _parse_levels(levels)
        protocol.levels.all().delete()
        ProtocolLevel.objects.bulk_create(_level_rows(protocol, parsed))
        protocol.version += 1
    protocol.save()
    audit_record(
        actor=actor,
        action="protocol.update",
        obj=protocol,
        clinic=protocol.clinic,
        detail={"version": protocol.version},
    )
    return protocol


# --- Screening -------------------------------------------------------------------------------


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
        action="screening.submit",
        obj=screening,
        patient=patient,
        detail={"status": screening.status, "referral": screening.referral},
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
            "referral_not_urgent",
            "This screening made no urgent or emergency referral; there is nothing to record.",
            status=409,
        )
    if ReferralAction.objects.filter(screening=screening).exists():
        raise RehabError(
            "referral_already_acted",
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
        action="referral.acted",
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
            action="screening.invalidate",
            patient=patient,
            detail={"count": count, "reason": "fall"},
        )
    return count


# --- Plans -----------------------------------------------------------------------------------


def _check_screening_allows(
    screening: Screening | None, *, override_reason: str, doing: str
) -> str:
    """The refusal rules of CLINICAL.md §3 for starting or resuming a plan.

    Returns the override reason to store ("" when none was needed).
    """
    if screening is None:
        raise RehabError(
            "screening_required",
            f"A valid screening (within its validity period, not invalidated by a fall) is needed "
            f"before a plan can be {doing}.",
            status=409,
        )
    verdict = clinical_screening.Verdict.from_dict(screening.verdict_dict())
    reason = (override_reason or "").strip()
    if verdict.status == "incomplete":
        raise RehabError(
            "screening_incomplete",
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
            "screening_blocked",
            f"The screening blocks backward walking with an {verdict.referral} referral, which "
            f"cannot be overridden: {explanations}",
            status=409,
        )
    if len(reason) < MIN_OVERRIDE_REASON_LENGTH:
        raise RehabError(
            "screening_blocked",
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
            "plan_already_open",
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
            "plan_already_open", "The patient already has an open plan.", status=409
        ) from exc
    audit_record(
        actor=actor,
        action="plan.assign",
        obj=plan,
        patient=patient,
        detail={"protocol": protocol.code, "version": protocol.version, "override": bool(reason)},
    )
    return plan


def lock_plan(plan: Plan) -> Plan:
    # Concurrent writers on one plan (a log and the nightly run) queue here instead of deciding
    # on stale state. SQLite ignores the clause; its IMMEDIATE transactions serialise instead.
    return Plan.objects.select_for_update().select_related("patient__clinic").get(pk=plan.pk)


def _transition(
    *,
    plan: Plan,
    to: str,
    allowed_from: tuple[str, ...],
    actor: Actor,
    reason: str,
    action: str,
) -> Plan:
    plan = lock_plan(plan)
    if plan.status not in allowed_from:
        raise RehabError(
            f"plan_{plan.status}",
            f"The plan is {plan.get_status_display().lower()} and cannot be {action}.",
            status=409,
        )
    plan.status = to
    plan.status_reason = reason.strip()
    check_row_fields(plan, "status_reason")
    if to in (Plan.Status.COMPLETED, Plan.Status.DISCONTINUED):
        plan.ended_at = timezone.now()
    plan.save()
    dashboard_mark_stale(plan.patient_id)
    audit_record(actor=actor, action=f"plan.{action}", obj=plan, patient=plan.patient)
    return plan


@transaction.atomic
def plan_pause(*, plan: Plan, actor: Actor, reason: str = "") -> Plan:
    return _transition(
        plan=plan,
        to=Plan.Status.PAUSED,
        allowed_from=(Plan.Status.ACTIVE,),
        actor=actor,
        reason=reason or "Paused by the clinician.",
        action="paused",
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
            "plan_not_paused",
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
    plan.save()
    dashboard_mark_stale(plan.patient_id)
    audit_record(
        actor=actor,
        action="plan.resumed",
        obj=plan,
        patient=plan.patient,
        detail={"screening": screening.pk},
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
        action="plan.settings",
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
            "plan_not_active", "Only an active plan's level can be changed.", status=409
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
        action="plan.level",
        obj=plan,
        patient=plan.patient,
        detail={"from": decision.from_level, "to": level},
    )
    return decision


def move_level(plan: Plan, level: int, today: dt.date) -> None:
    plan.current_level = level
    plan.level_started_on = today
    plan.window_start = today
    plan.save()


def _supersede_pending(plan: Plan, *, keep: ProgressionDecision) -> None:
    plan.decisions.filter(status=ProgressionDecision.Status.PENDING).exclude(pk=keep.pk).update(
        status=ProgressionDecision.Status.SUPERSEDED
    )


# --- Session logs ----------------------------------------------------------------------------


def _plan_accepts_logs(plan: Plan) -> None:
    if plan.status == Plan.Status.PAUSED:
        raise RehabError(
            "plan_paused",
            "The plan is paused"
            + (f" ({plan.status_reason})" if plan.status_reason else "")
            + "; sessions cannot be logged until the clinician resumes it.",
            status=409,
        )
    if plan.status != Plan.Status.ACTIVE:
        raise RehabError(
            "plan_not_active",
            f"The plan is {plan.get_status_display().lower()}; sessions cannot be logged on it.",
            status=409,
        )


@transaction.atomic
def session_log(
    *,
    plan: Plan,
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
) -> SessionLog:
    """Log a session, then evaluate progression at once: a fall, chest pain or severe pain
    pauses the plan before this function returns. `supervised`: a clinician of the patient's
    clinic was there and records it (the dashboard's form); the same rules apply to it."""
    plan = lock_plan(plan)
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
    if log.pain_next_morning is not None:
        if log.date >= today:
            raise validation_error(
                {"pain_next_morning": "Next-morning pain can be added from the next morning on."}
            )
        log.pain_next_morning_at = timezone.now()
    log.logged_by = as_user(actor)
    log.supervised = supervised
    try:
        # The unique (plan, date) constraint is the duplicate check, for a retry and for two
        # requests at once alike. No savepoint of its own: on a clash the whole service
        # transaction is rolled back.
        log.save()
    except IntegrityError as exc:
        raise _duplicate_session(log.date) from exc
    # For all this service writes: the session, a fall's invalidated screening, the decision.
    dashboard_mark_stale(patient.pk)
    audit_record(
        actor=actor,
        action="session.log",
        obj=log,
        patient=patient,
        detail={"adverse_events": log.adverse_events, "supervised": supervised},
    )
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
    )
    if decision.outcome != ProgressionDecision.Outcome.PAUSE and any(
        getattr(log, event) for event in clinical_progression.HOLD_ALERT_EVENTS
    ):
        # CLINICAL.md §4.1: a near fall or dizziness holds and alerts. Alerted for the session
        # that reports it (a later evaluation still naming it alerts nobody again), through the
        # pause's outbox path; a pause alerts by itself.
        decision_alerts_record(decision, kind=Alert.Kind.HOLD)
        outbox.enqueue_after_commit("alert_pause", decision.pk)
    if decision.outcome != ProgressionDecision.Outcome.PAUSE and clinical_progression.outside_plan(
        session_record(log), plan.level_objs()[log.level_index], plan.constraints_obj
    ):
        # A session done outside what the plan allows (a setting, a speed or a slope beyond the
        # screening's): the rules hold, and the clinicians are told at once, for the session
        # that is (a later evaluation still naming it alerts nobody again, however the window's
        # words change); a pause alerts by itself.
        decision_alerts_record(decision, kind=Alert.Kind.OFF_PLAN)
        outbox.enqueue_after_commit("alert_pause", decision.pk)
    return log


def _check_supervisor(actor: Actor, patient: Patient) -> None:
    """Only a clinician of the patient's clinic can say they supervised a session: not the
    patient, not a clinic system's key (it cannot say who was there)."""
    user = as_user(actor)
    if (
        user is None
        or not Clinician.objects.filter(user=user, clinic_id=patient.clinic_id).exists()
    ):
        raise RehabError(
            "supervisor_not_clinician",
            "Only a clinician of the patient's clinic can record a supervised session.",
            status=403,
        )


def _duplicate_session(day: dt.date) -> RehabError:
    return RehabError(
        "session_duplicate",
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
            "next_morning_already_recorded",
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
    audit_record(actor=actor, action="session.next_morning", obj=session, patient=plan.patient)
    if plan.status == Plan.Status.ACTIVE and session.level_index == plan.current_level:
        evaluate_locked(
            plan,
            trigger=ProgressionDecision.Trigger.NEXT_MORNING,
            today=today,
            actor=actor,
            mark_stale=False,
        )
    return session


# --- Progression -----------------------------------------------------------------------------


def session_record(log: SessionLog) -> clinical_progression.SessionRecord:
    return clinical_progression.SessionRecord(
        day=log.date,
        minutes_done=log.minutes_done,
        pain_before=log.pain_before,
        pain_worst=log.pain_worst,
        pain_after=log.pain_after,
        pain_next_morning=log.pain_next_morning,
        effort=log.effort,
        swelling=log.swelling,
        fall=log.fall,
        near_fall=log.near_fall,
        dizziness=log.dizziness,
        chest_pain=log.chest_pain,
        setting=log.setting,
        speed_kmh=None if log.speed_kmh is None else float(log.speed_kmh),
        incline_pct=None if log.incline_pct is None else float(log.incline_pct),
    )


# The reasons that name a session done outside what the plan allows (a setting, a speed or a
# slope beyond the screening's constraints).
OFF_PLAN_CODES = frozenset(clinical_progression.OUTSIDE_PLAN_CODES)


@transaction.atomic
def progression_evaluate(
    *, plan: Plan, trigger: str, today: dt.date | None = None, actor: Actor = None
) -> ProgressionDecision | None:
    """Evaluate CLINICAL.md §4 for an active plan and record the decision.

    Returns None for a plan that is not active. Running it twice on the same data records one
    decision: an unchanged result is not stored again.
    """
    plan = lock_plan(plan)
    if plan.status != Plan.Status.ACTIVE:
        return None
    return evaluate_locked(
        plan, trigger=trigger, today=today or plan.patient.local_today(), actor=actor
    )


def evaluate_locked(
    plan: Plan, *, trigger: str, today: dt.date, actor: Actor, mark_stale: bool = True
) -> ProgressionDecision:
    """mark_stale: mark the patient's dashboard need stale when a decision is recorded; False
    for a caller that marks it for its whole write already."""
    settings = clinical_progression.ProgressionSettings.from_dict(plan.progression_settings)
    since = max(plan.window_start, today - dt.timedelta(days=settings.window_days - 1))
    logs = SessionLog.objects.filter(
        plan=plan, level_index=plan.current_level, date__gte=since, date__lte=today
    ).order_by("date")
    recent_advances = selectors.plan_recent_advance_dates(plan=plan, today=today)
    result = clinical_progression.evaluate(
        levels=plan.level_objs(),
        current=plan.current_level,
        constraints=plan.constraints_obj,
        sessions=[session_record(log) for log in logs],
        today=today,
        window_start=plan.window_start,
        level_started_on=plan.level_started_on,
        recent_advances=recent_advances,
        settings=settings,
    )
    reasons = [{"code": r.code, "text": r.text, "outcome": r.outcome} for r in result.reasons]
    last = plan.decisions.order_by("-created_at", "-id").first()
    if (
        last is not None
        and last.status in (ProgressionDecision.Status.PENDING, ProgressionDecision.Status.NOTED)
        and last.outcome == result.outcome
        and last.from_level == result.from_level
        and last.to_level == result.to_level
        and last.reasons == reasons
    ):
        return last  # nothing new to say; keep one row per distinct decision

    Outcome, Status = ProgressionDecision.Outcome, ProgressionDecision.Status
    if result.outcome == Outcome.PAUSE:
        status = Status.APPLIED  # pause always applies at once
    elif result.outcome in (Outcome.ADVANCE, Outcome.REGRESS):
        status = Status.APPLIED if plan.auto_apply else Status.PENDING
    else:
        status = Status.NOTED
    decision = ProgressionDecision.objects.create(
        plan=plan,
        evaluated_on=today,
        trigger=trigger,
        outcome=result.outcome,
        from_level=result.from_level,
        to_level=result.to_level,
        reasons=reasons,
        alert=result.alert,
        status=status,
        applied_on=today if status == Status.APPLIED else None,
    )
    # A suggestion awaiting approval is only as good as the data it saw: a newer, different
    # decision (a near fall, more swelling, a regress) replaces it, so nobody approves an
    # advance the latest sessions argue against. Hence at most one decision is ever pending,
    # and it is the latest: `last` is the only one to look at.
    if last is not None and last.status == Status.PENDING:
        last.status = Status.SUPERSEDED
        last.save(update_fields=["status"])
    if result.outcome == Outcome.PAUSE:
        plan.status = Plan.Status.PAUSED
        plan.status_reason = result.reasons[0].text[:300]
        plan.save()
        # The clinicians hear of it at once. Their alerts commit with the pause, so a broker
        # that is down loses nothing: the outbox sweep sends what the fast path could not.
        decision_alerts_record(decision, kind=Alert.Kind.PAUSE)
        outbox.enqueue_after_commit("alert_pause", decision.pk)
    elif status == Status.APPLIED:
        move_level(plan, result.to_level, today)
    if mark_stale:
        dashboard_mark_stale(plan.patient_id)
    audit_record(
        actor=actor,
        action="progression.decision",
        obj=decision,
        patient=plan.patient,
        detail={
            "outcome": decision.outcome,
            "status": decision.status,
            "reasons": [r["code"] for r in reasons],
        },
    )
    return decision


def _lock_pending(decision: ProgressionDecision) -> ProgressionDecision:
    decision = (
        ProgressionDecision.objects.select_for_update().select_related("plan").get(pk=decision.pk)
    )
    if decision.status != ProgressionDecision.Status.PENDING:
        raise RehabError(
            "decision_not_pending",
            f"This decision is {decision.get_status_display().lower()}, not awaiting approval.",
            status=409,
        )
    return decision


@transaction.atomic
def decision_approve(
    *,
    decision: ProgressionDecision,
    actor: Actor,
    note: str = "",
    today: dt.date | None = None,
) -> ProgressionDecision:
    decision = _lock_pending(decision)
    plan = lock_plan(decision.plan)
    if plan.status != Plan.Status.ACTIVE or plan.current_level != decision.from_level:
        raise RehabError(
            "decision_stale",
            "The plan has changed since this decision was made; it can only be rejected.",
            status=409,
        )
    today = today or plan.patient.local_today()
    decision.status = ProgressionDecision.Status.APPROVED
    decision.applied_on = today
    decision.decided_by = as_user(actor)
    decision.decided_at = timezone.now()
    decision.note = note.strip()
    check_row_fields(decision, "note")
    decision.save()
    move_level(plan, decision.to_level, today)
    dashboard_mark_stale(plan.patient_id)
    audit_record(actor=actor, action="progression.approve", obj=decision, patient=plan.patient)
    return decision


@transaction.atomic
def decision_reject(
    *, decision: ProgressionDecision, actor: Actor, note: str = ""
) -> ProgressionDecision:
    decision = _lock_pending(decision)
    decision.status = ProgressionDecision.Status.REJECTED
    decision.decided_by = as_user(actor)
    decision.decided_at = timezone.now()
    decision.note = note.strip()
    check_row_fields(decision, "note")
    decision.save()
    dashboard_mark_stale(decision.plan.patient_id)
    audit_record(
        actor=actor, action="progression.reject", obj=decision, patient=decision.plan.patient
    )
    return decision


# --- Outcome measures ------------------------------------------------------------------------

PSFS_ACTIVITY_MAX = 100


@transaction.atomic
def outcome_record(
    *,
    patient: Patient,
    measure: str,
    answers: dict[str, Any],
    actor: Actor,
    taken_on: dt.date | None = None,
    today: dt.date | None = None,
) -> OutcomeScore:
    require_active_patient(patient)
    if measure not in clinical_outcomes.MEASURES:
        raise validation_error(
            {"measure": f"Unknown measure; use one of {', '.join(clinical_outcomes.MEASURES)}."}
        )
    today = today or patient.local_today()
    taken_on = taken_on or today
    check_dates(taken_on=taken_on)
    if taken_on > today:
        raise validation_error({"taken_on": "An outcome cannot be dated in the future."})
    if not isinstance(answers, dict):
        raise validation_error({"answers": "Answers must be an object."})
    # PSFS names its activities in the patient's words; the portal's form allows 100 characters.
    check_json(answers, field=None, max_length=PSFS_ACTIVITY_MAX)
    try:
        scores = clinical_outcomes.score(measure, answers)
    except clinical_outcomes.InvalidAnswers as exc:
        raise validation_error(exc.errors, "Some answers are not valid.") from exc
    record = OutcomeScore.objects.create(
        patient=patient,
        plan=selectors.plan_open(patient=patient),
        measure=measure,
        taken_on=taken_on,
        answers=answers,
        scores=scores,
        recorded_by=as_user(actor),
    )
    audit_record(
        actor=actor,
        action="outcome.record",
        obj=record,
        patient=patient,
        detail={"measure": measure},
    )
    return record


# --- Clinical notes --------------------------------------------------------------------------


@transaction.atomic
def clinical_note_add(
    *,
    patient: Patient,
    actor: Actor,
    noted_on: dt.date,
    text: str,
    today: dt.date | None = None,
) -> ClinicalNote:
    """A dated note on the patient's record, by its author. The note's words are health data:
    the audit event names the note, never its text."""
    require_active_patient(patient)
    today = today or patient.local_today()
    note = ClinicalNote(
        patient=patient, author=as_user(actor), noted_on=noted_on, text=(text or "").strip()
    )
    # Length, characters and a blank text are the model's validators' to say.
    clean_row(note, exclude=["patient", "author"], validate_constraints=False)
    if note.noted_on > today:
        raise validation_error({"noted_on": "A note cannot be dated in the future."})
    note.save()
    audit_record(
        actor=actor,
        action="note.add",
        obj=note,
        patient=patient,
    )
    return note


# Questionnaires long enough to be answered page by page, with their items (rehab.clinical).
DRAFT_MEASURES: dict[str, tuple[str, ...]] = {
    "koos": tuple(item for items in clinical_outcomes.KOOS_ITEMS.values() for item in items),
    "rmdq": tuple(clinical_outcomes.RMDQ_ITEMS),
}


@transaction.atomic
def questionnaire_draft_save(
    *, patient: Patient, measure: str, answers: dict[str, Any], page: int, actor: Actor
) -> QuestionnaireDraft:
    """Keep a page of a long questionnaire's answers, so that the patient resumes at `page`
    (0-based) with them. `answers` are the page's own, laid over the draft's earlier ones (an
    answer can be changed, not cleared).
    Whether they are complete is outcome_record's to say when the questionnaire is finished;
    here only that they are this measure's items, each a plain value."""
    require_active_patient(patient)
    items = DRAFT_MEASURES.get(measure)
    if items is None:
        raise validation_error({"measure": "This questionnaire is answered on one page."})
    errors = {
        key: "Not a question of this questionnaire."
        for key, value in answers.items()
        if key not in items or not isinstance(value, bool | int)
    }
    if errors or not isinstance(page, int) or page < 0:
        raise validation_error(errors or {"page": "Not a page of this questionnaire."})
    draft, _ = QuestionnaireDraft.objects.select_for_update().get_or_create(
        patient=patient, measure=measure
    )
    # A draft older than QUESTIONNAIRE_DRAFT_DAYS is not resumed (selectors), nor added to.
    fresh = draft.updated_at >= selectors.questionnaire_draft_fresh_since()
    draft.answers = {**(draft.answers if fresh else {}), **answers}
    draft.page = page
    draft.save()
    audit_record(
        actor=actor,
        action="outcome.draft_save",
        obj=draft,
        patient=patient,
        detail={"measure": measure, "page": page, "items": len(answers)},
    )
    return draft


@transaction.atomic
def questionnaire_finish(
    *, patient: Patient, measure: str, answers: dict[str, Any], actor: Actor
) -> OutcomeScore:
    """Score a questionnaire answered page by page (outcome_record, as any other) and remove
    its draft in the same transaction; a refusal leaves the draft as it was."""
    record = outcome_record(patient=patient, measure=measure, answers=answers, actor=actor)
    QuestionnaireDraft.objects.filter(patient=patient, measure=measure).delete()
    return record


# --- API keys --------------------------------------------------------------------------------

API_KEY_PREFIX = "rw"
# Recording every use would add a write to every request; a minute's precision is enough to
# see which integration is alive.
API_KEY_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@transaction.atomic
def api_key_create(
    *, clinic: Clinic, name: str, actor: Actor, expires_at: dt.datetime | None = None
) -> tuple[ApiKey, str]:
    """Make a key for a clinic system. Returns the row and the key itself, which is shown once
    and never stored."""
    name = (name or "").strip()
    if not name:
        raise validation_error({"name": "Give the key a name that says which system uses it."})
    check_row_fields(ApiKey(name=name, expires_at=expires_at), "name", "expires_at")
    if expires_at is not None and expires_at <= timezone.now():
        raise validation_error({"expires_at": "The expiry must be in the future."})
    prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        clinic=clinic,
        name=name,
        prefix=prefix,
        key_hash=api_key_hash(raw),
        created_by=as_user(actor),
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        action="api_key.create",
        obj=api_key,
        clinic=clinic,
        detail={"name": api_key.name},
    )
    return api_key, raw


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_key.revoke", obj=api_key, clinic=api_key.clinic)
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


# --- Personal tokens -------------------------------------------------------------------------


@transaction.atomic
def personal_token_create(*, user: User, clinic: Clinic) -> tuple[PersonalToken, str]:
    """A new token for a person who just gave their password. Returns the row and the token,
    which is shown once and never stored. Each call makes a new one (a phone and a tablet each
    have their own); every token ends after API_TOKEN_DAYS."""
    raw = secrets.token_urlsafe(32)
    token = PersonalToken.objects.create(
        user=user,
        key_hash=api_key_hash(raw),
        password_stamp=password_stamp(user),
        expires_at=timezone.now() + dt.timedelta(days=django_settings.API_TOKEN_DAYS),
    )
    audit_record(actor=user, action="token.create", obj=token, clinic=clinic)
    return token, raw


@transaction.atomic
def personal_token_revoke(*, token: PersonalToken) -> PersonalToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def personal_tokens_revoke_all(*, user: User) -> int:
    """End every token of an account, e.g. when it is deactivated: reactivating it later must
    not bring old tokens back to life."""
    return PersonalToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def personal_token_touch(*, token: PersonalToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > API_KEY_TOUCH_INTERVAL:
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- Clinic team -----------------------------------------------------------------------------


def _lock_clinic(clinic: Clinic) -> Clinic:
    # Team changes of one clinic run one at a time, so two administrators removing each other's
    # rights at once cannot leave the clinic with none.
    return Clinic.objects.select_for_update().get(pk=clinic.pk)


def _other_active_admins(clinician: Clinician) -> int:
    return (
        Clinician.objects.filter(
            clinic_id=clinician.clinic_id, is_clinic_admin=True, user__is_active=True
        )
        .exclude(pk=clinician.pk)
        .count()
    )


def _set_password_link(user: User) -> str:
    path = reverse(
        "clinicians:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{django_settings.SITE_URL}{path}"


def _address_owned_by_another(user: User) -> bool:
    """An e-mail address belongs to the first account made with it. A later account with the
    same address (added by another clinic, which must not learn that the address is taken)
    never gets a password link for it, so it can never sign in with it or take it over."""
    return User.objects.filter(email__iexact=user.email, pk__lt=user.pk).exists()


def _send_set_password_email(clinician: Clinician, actor: Actor) -> None:
    user = clinician.user
    sender = as_user(actor)
    context = {
        "user": user,
        "clinic": clinician.clinic,
        "invited_by": (sender.get_full_name() or sender.get_username()) if sender else "",
    }
    if _address_owned_by_another(user):
        # The owner of the address is told, not the clinic: the administrator sees the same
        # "a link was e-mailed" as for a new address (see clinician_create).
        _send_team_email(
            user,
            subject=f"Retrowalk: {clinician.clinic.name} tried to add this address",
            text=render_to_string("emails/clinician_address_taken.txt", context),
        )
        return
    link = _set_password_link(user)
    text = render_to_string(
        "emails/clinician_welcome.txt",
        {
            **context,
            "link": link,
            "valid_hours": max(1, django_settings.PASSWORD_RESET_TIMEOUT // 3600),
            "username": user.get_username(),
        },
    )
    _send_team_email(
        user,
        subject=f"Your Retrowalk account at {clinician.clinic.name}",
        text=text,
        link=link,
    )


def _send_team_email(user: User, *, subject: str, text: str, link: str = "") -> None:
    paragraphs = [escape(p).replace("\n", "<br>") for p in text.strip().split("\n\n")]
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    if link:
        html = html.replace(escape(link), f'<a href="{escape(link)}">{escape(link)}</a>')
    try:
        notify.send_email(to=user.email, subject=subject, text=text, html=html)
    except notify.SendError as exc:
        # Raised inside the transaction: nothing is kept, so the administrator can simply retry.
        raise RehabError(
            "email_not_sent",
            f"The e-mail to {user.email} could not be sent ({exc}). Nothing was changed; "
            "please try again later.",
            status=503,
        ) from exc


@transaction.atomic
def clinician_create(
    *,
    clinic: Clinic,
    actor: Actor,
    first_name: str,
    last_name: str,
    email: str,
    username: str | None = None,
    title: str = "Physiotherapist",
    is_clinic_admin: bool = False,
) -> Clinician:
    """Add a clinician to the clinic. The account has no password until they set one through
    the link e-mailed to them, so no one else ever knows it.

    No clinic may learn of, or block, another clinic's accounts. So an address that already
    has an account elsewhere is not refused (a refusal would tell this clinic that the address
    is known to Retrowalk): the account is made all the same and the administrator sees what
    they see for any new address, but no password link goes out; the address's owner is told
    instead, and the new account can never sign in with the address or take it from its owner
    (rehab.backends.account_for). Usernames may not contain "@", so no one can make a username
    that reads as someone else's e-mail address."""
    _lock_clinic(clinic)
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    email, username = (email or "").strip(), (username or "").strip()
    errors: dict[str, list[str]] = {}
    for field, value, what in (
        ("first_name", first_name, "a first name"),
        ("last_name", last_name, "a last name"),
        ("email", email, "an e-mail address for the set-password link"),
    ):
        if not value:
            errors[field] = [f"Give {what}."]
    if email and Clinician.objects.filter(clinic=clinic, user__email__iexact=email).exists():
        # Within the clinic there is nothing to hide: the team list shows every address.
        errors["email"] = ["A clinician of this clinic already uses this e-mail address."]
    if "@" in username:
        errors["username"] = [
            "A username cannot contain “@”. Leave it empty: they can sign in with their e-mail "
            "address."
        ]
    elif username and User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is taken; choose another or leave it empty."]
    if errors:
        raise validation_error(errors)
    user = User(
        username=username or selectors.portal_username_for(email=email),
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    user.set_unusable_password()
    clean_row(user, exclude=["password"])
    clinician = Clinician(
        clinic=clinic, user=user, title=(title or "").strip(), is_clinic_admin=is_clinic_admin
    )
    clean_row(clinician, exclude=["user"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # the same username, taken a moment ago
        raise validation_error({"username": "This username is taken; choose another."}) from exc
    clinician.user = user
    clinician.save()
    audit_record(
        actor=actor,
        action="clinician.create",
        obj=clinician,
        clinic=clinic,
        detail={"username": user.username, "is_clinic_admin": is_clinic_admin},
    )
    _send_set_password_email(clinician, actor)
    return clinician


@transaction.atomic
def clinician_send_password_link(*, clinician: Clinician, actor: Actor) -> Clinician:
    """E-mail a new set-password link, e.g. when the first one expired or went astray."""
    if not clinician.user.is_active:
        raise RehabError(
            "clinician_inactive",
            f"{clinician} is deactivated; reactivate the account first.",
            status=409,
        )
    if not clinician.user.email:
        raise validation_error({"email": "This account has no e-mail address."})
    audit_record(
        actor=actor, action="clinician.password_link", obj=clinician, clinic=clinician.clinic
    )
    _send_set_password_email(clinician, actor)
    return clinician


@transaction.atomic
def clinician_set_active(*, clinician: Clinician, active: bool, actor: Actor) -> Clinician:
    """Deactivate (they can no longer sign in; their records stay) or reactivate a clinician."""
    _lock_clinic(clinician.clinic)
    user = User.objects.select_for_update().get(pk=clinician.user_id)
    clinician.user = user
    if user.is_active == active:
        return clinician
    if not active:
        if as_user(actor) is not None and as_user(actor).pk == user.pk:
            raise RehabError(
                "cannot_deactivate_self",
                "You cannot deactivate your own account; ask another administrator.",
                status=409,
            )
        if clinician.is_clinic_admin:
            _refuse_last_admin(clinician)
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        personal_tokens_revoke_all(user=user)
    audit_record(
        actor=actor,
        action="clinician.activate" if active else "clinician.deactivate",
        obj=clinician,
        clinic=clinician.clinic,
    )
    return clinician


def _refuse_last_admin(clinician: Clinician) -> None:
    """A clinic always keeps one active administrator, who can manage its team and keys."""
    if _other_active_admins(clinician) == 0:
        raise RehabError(
            "last_admin",
            f"{clinician} is the clinic's only active administrator; make someone else an "
            "administrator first.",
            status=409,
        )


@transaction.atomic
def clinician_set_admin(*, clinician: Clinician, is_clinic_admin: bool, actor: Actor) -> Clinician:
    """Grant or remove the clinic administrator's rights (team and API keys)."""
    _lock_clinic(clinician.clinic)
    clinician = (
        Clinician.objects.select_for_update().select_related("user", "clinic").get(pk=clinician.pk)
    )
    if clinician.is_clinic_admin == is_clinic_admin:
        return clinician
    if not is_clinic_admin and clinician.user.is_active:
        _refuse_last_admin(clinician)
    clinician.is_clinic_admin = is_clinic_admin
    clinician.save(update_fields=["is_clinic_admin"])
    audit_record(
        actor=actor,
        action="clinician.admin_grant" if is_clinic_admin else "clinician.admin_remove",
        obj=clinician,
        clinic=clinician.clinic,
    )
    return clinician


# --- Reminders -------------------------------------------------------------------------------

REMINDER_BATCH_SIZE = 500


def reminders_plan(*, now: dt.datetime | None = None, batch_size: int = REMINDER_BATCH_SIZE) -> int:
    """Create today's reminder rows for every active plan with a session due, and a nudge for a
    session missed yesterday. Safe to run any number of times, also at once: the unique
    (patient, due_date, kind) constraint makes a second row impossible. Costs the same few
    queries per batch of plans, however many plans there are."""
    now = now or timezone.now()
    created = 0
    plans = (
        Plan.objects.filter(
            status=Plan.Status.ACTIVE,
            patient__reminders_enabled=True,
            patient__archived_at__isnull=True,
        )
        .exclude(patient__reminder_channel=Patient.Channel.NONE)
        .select_related("patient__clinic")
        .order_by("pk")
    )
    last_pk = 0
    while True:
        batch = list(plans.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            return created
        last_pk = batch[-1].pk
        created += _reminders_for_batch(batch, now)


def _reminders_for_batch(batch: list[Plan], now: dt.datetime) -> int:
    days = {plan.pk: scheduling.local_day(now, plan.patient.timezone) for plan in batch}
    logged = set(
        SessionLog.objects.filter(
            plan__in=batch, date__gte=min(days.values()) - dt.timedelta(days=1)
        ).values_list("plan_id", "date")
    )
    rows = []
    for plan in batch:
        today = days[plan.pk]
        yesterday = today - dt.timedelta(days=1)
        patient, clinic = plan.patient, plan.patient.clinic
        moment = scheduling.reminder_moment(
            day=today,
            at=patient.reminder_time,
            timezone=patient.timezone,
            quiet_start=clinic.quiet_hours_start,
            quiet_end=clinic.quiet_hours_end,
        )
        common = {
            "patient": patient,
            "plan": plan,
            "due_date": today,
            "channel": patient.reminder_channel,
            "scheduled_for": moment,
        }
        if today.weekday() in plan.schedule_days and today >= plan.start_date:
            rows.append(Reminder(kind=Reminder.Kind.SESSION, **common))
        missed = (
            yesterday.weekday() in plan.schedule_days
            and yesterday >= max(plan.start_date, plan.window_start)
            and (plan.pk, yesterday) not in logged
        )
        if missed:
            rows.append(Reminder(kind=Reminder.Kind.NUDGE, **common))
    if not rows:
        return 0
    existing = set(
        Reminder.objects.filter(
            plan__in=batch, due_date__in={row.due_date for row in rows}
        ).values_list("patient_id", "due_date", "kind")
    )
    new = [r for r in rows if (r.patient_id, r.due_date, r.kind) not in existing]
    # ignore_conflicts covers the race the read above cannot: another dispatch inserting the
    # same row in between. The unique constraint, not this count, is what guarantees one row.
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def reminder_send(
    *, reminder_id: int, now: dt.datetime | None = None, final_attempt: bool = True
) -> str:
    """Send one reminder, exactly once, and record the result on it.

    The guarded update claims the row: a second worker (a redelivered task, a second dispatch)
    finds nothing to claim and stops. A transient failure puts the row back to pending and
    raises, so the task retries; on the final attempt it is recorded as failed.
    """
    now = now or timezone.now()
    claimed = Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.SENDING, updated_at=now
    )
    if not claimed:
        return "not_claimed"
    reminder = Reminder.objects.select_related("patient__clinic", "patient__user", "plan").get(
        pk=reminder_id
    )
    patient, plan = reminder.patient, reminder.plan
    skip = _reminder_skip_reason(reminder, now)
    if skip:
        return _reminder_finish(reminder, Reminder.Status.SKIPPED, skip)
    prescription = plan.current_prescription().level
    # Only a patient who can sign in is sent to the portal; the others are told to call.
    portal = patient.user is not None and patient.user.is_active
    context = {
        "reminder": reminder,
        "patient": patient,
        "clinic": patient.clinic,
        "prescription": prescription.describe(),
        "safety": clinical_protocols.headline_safety(prescription).text,
        "portal_url": site_url(reverse("patients:today")) if portal else "",
        "reminders_url": site_url(reverse("patients:reminders")) if portal else "",
    }
    try:
        if reminder.channel == Patient.Channel.EMAIL:
            subject = (
                "We missed you yesterday"
                if reminder.kind == Reminder.Kind.NUDGE
                else "Today's backward-walking session"
            )
            notify.send_email(
                to=patient.email,
                subject=subject,
                text=render_to_string("emails/reminder.txt", context),
                html=render_to_string("emails/reminder.html", context),
            )
        else:
            # No health details in a text message: phones are shared and screens are seen.
            notify.send_sms(
                to=patient.phone,
                text=f"{patient.clinic.name}: your walking session is due today."
                + (" Your portal has today's plan." if portal else ""),
            )
    except notify.TransientSendError as exc:
        if final_attempt:
            return _reminder_finish(reminder, Reminder.Status.FAILED, str(exc))
        Reminder.objects.filter(pk=reminder.pk).update(
            status=Reminder.Status.PENDING, detail=str(exc)
        )
        raise
    except notify.PermanentSendError as exc:
        return _reminder_finish(reminder, Reminder.Status.FAILED, str(exc))
    reminder.sent_at = now
    return _reminder_finish(reminder, Reminder.Status.SENT, "")


REMINDER_SENDING_STALE_AFTER = dt.timedelta(minutes=10)


def reminders_fail_stale(*, now: dt.datetime | None = None) -> int:
    """A reminder left 'sending' by a worker that died mid-send is marked failed, not sent
    again: whether the message left is unknown, and a patient must never get two."""
    now = now or timezone.now()
    return Reminder.objects.filter(
        status=Reminder.Status.SENDING, updated_at__lt=now - REMINDER_SENDING_STALE_AFTER
    ).update(
        status=Reminder.Status.FAILED,
        detail="Interrupted while sending; not retried so that it cannot arrive twice.",
    )


def _reminder_skip_reason(reminder: Reminder, now: dt.datetime) -> str:
    patient, plan = reminder.patient, reminder.plan
    if plan.status != Plan.Status.ACTIVE:
        return f"The plan is {plan.get_status_display().lower()}."
    if not patient.reminders_enabled or patient.reminder_channel == Patient.Channel.NONE:
        return "The patient turned reminders off."
    if patient.archived_at is not None:
        return "The patient is archived."
    if scheduling.local_day(now, patient.timezone) != reminder.due_date:
        return "Its day has passed."
    if (
        reminder.kind == Reminder.Kind.SESSION
        and SessionLog.objects.filter(plan=plan, date=reminder.due_date).exists()
    ):
        return "Today's session is already logged."
    return ""


def _reminder_finish(reminder: Reminder, status: str, detail: str) -> str:
    reminder.status = status
    reminder.detail = detail[:300]
    reminder.save(update_fields=["status", "detail", "sent_at", "updated_at"])
    audit_record(
        actor=None,
        action=f"reminder.{status}",
        obj=reminder,
        patient=reminder.patient,
        detail={"kind": reminder.kind, "channel": reminder.channel},
    )
    return status


# --- Clinician alerts ------------------------------------------------------------------------


def _alert_recipients(plan: Plan) -> list[Clinician]:
    """The clinician who assigned the plan and the clinic's administrators, while their
    accounts are active (a deactivated colleague must not receive patient data)."""
    recipients = Clinician.objects.filter(clinic=plan.clinic, user__is_active=True).filter(
        Q(user_id=plan.assigned_by_id) | Q(is_clinic_admin=True)
    )
    return list(recipients.select_related("user"))


def patient_email_ref(patient: Patient) -> str:
    """How an e-mail's subject names a patient: subjects show on lock screens and in
    notification previews, so the record number and never a name (the body names them)."""
    return f"patient record {patient.pk}"


def alert_pause_subject(patient: Patient) -> str:
    return f"Plan paused: {patient_email_ref(patient)}"


def alert_hold_subject(patient: Patient) -> str:
    return f"Near fall or dizziness reported: {patient_email_ref(patient)}"


def alert_off_plan_subject(patient: Patient) -> str:
    return f"Session outside the plan: {patient_email_ref(patient)}"


def site_url(path: str) -> str:
    return django_settings.SITE_URL.rstrip("/") + path


def patient_page_url(patient: Patient) -> str:
    """The patient's page in the dashboard, for e-mails to clinicians (behind its sign-in)."""
    return site_url(reverse("clinicians:patient", args=[patient.pk]))


# What each kind of decision alert says: its subject, its templates (text and HTML, in
# templates/emails/) and which of the decision's reasons it names (a pause's pause reasons; a
# hold's near falls and dizziness, whatever else held the plan).
_DECISION_ALERTS = {
    Alert.Kind.PAUSE: (alert_pause_subject, "emails/alert_pause", ("pause",), ()),
    Alert.Kind.HOLD: (
        alert_hold_subject,
        "emails/alert_hold",
        (),
        clinical_progression.HOLD_ALERT_EVENTS,
    ),
    Alert.Kind.OFF_PLAN: (alert_off_plan_subject, "emails/alert_off_plan", (), OFF_PLAN_CODES),
}


def decision_alerts_record(decision: ProgressionDecision, *, kind: str) -> None:
    """A decision's alerts, one pending row per recipient, in the decision's own transaction:
    the outbox record of the sends to make (rehab/outbox.py)."""
    plan = decision.plan
    day = scheduling.local_day(timezone.now(), plan.clinic.timezone)
    Alert.objects.bulk_create(
        [
            Alert(clinician=clinician, kind=kind, decision=decision, day=day)
            for clinician in _alert_recipients(plan)
        ],
        ignore_conflicts=True,
    )


def alerts_for_decision(*, decision_id: int, now: dt.datetime | None = None) -> int:
    """Tell the plan's clinicians at once that a plan paused (fall, chest pain, severe pain) or
    held after a near fall or dizziness. Each recipient's alert is its own claimed send, so
    whatever redelivers the task sends nothing twice, and one recipient's failure is recorded
    on that alert alone."""
    now = now or timezone.now()
    decision = ProgressionDecision.objects.select_related("plan__patient__clinic").get(
        pk=decision_id
    )
    plan = decision.plan
    # The session that caused it, with what the patient wrote: the latest logged on the plan
    # when a logged session triggered the decision (services.session_log evaluates at once).
    session = None
    if decision.trigger == ProgressionDecision.Trigger.SESSION:
        # Logged in the decision's own transaction, so no later than it: an alert sent late
        # (by the sweep) never quotes a session logged after the one that caused it.
        session = (
            plan.sessions.filter(created_at__lte=decision.created_at)
            .order_by("-created_at", "-id")
            .first()
        )
    sent = 0
    pending = Alert.objects.filter(decision=decision, status=Alert.Status.PENDING)
    for alert in pending.select_related("clinician__user"):
        subject, template, outcomes, codes = _DECISION_ALERTS[alert.kind]
        context = {
            "alert": alert,
            "clinician": alert.clinician,
            "decision": decision,
            "plan": plan,
            "patient": plan.patient,
            "clinic": plan.clinic,
            "reasons": [
                r["text"]
                for r in decision.reasons
                if r.get("outcome") in outcomes or r.get("code") in codes
            ],
            "session": session,
            "patient_url": patient_page_url(plan.patient),
        }
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
        sent += _alert_send(alert, subject(plan.patient), text, now, html=html) == Alert.Status.SENT
    return sent


def digest_send(*, clinician: Clinician, now: dt.datetime | None = None) -> str:
    """The clinician's daily digest, once a day: referrals not acted on, decisions awaiting
    approval, non-adherent patients, screenings about to expire, next-morning pain not
    settled."""
    now = now or timezone.now()
    day = scheduling.local_day(now, clinician.clinic.timezone)
    alert, created = Alert.objects.get_or_create(
        clinician=clinician, kind=Alert.Kind.DIGEST, day=day
    )
    if not created and alert.status != Alert.Status.PENDING:
        return "not_claimed"
    digest = selectors.digest_for(clinic=clinician.clinic, today=day)
    if not any(digest.values()):
        return _alert_finish(alert, Alert.Status.SKIPPED, "Nothing needs attention today.", now)
    context = {
        "clinician": clinician,
        "day": day,
        # Each referral with the absolute link to its patient's page (behind sign-in).
        "referral_links": [(r, patient_page_url(r.screening.patient)) for r in digest["referrals"]],
        **digest,
    }
    text = render_to_string("emails/digest.txt", context)
    html = render_to_string("emails/digest.html", context)
    return _alert_send(alert, f"Retrowalk: {day:%d %b} — patients to look at", text, now, html=html)


def _alert_send(alert: Alert, subject: str, text: str, now: dt.datetime, *, html: str) -> str:
    if not outbox.claim(
        Alert, pk=alert.pk, waiting=Alert.Status.PENDING, running=Alert.Status.SENDING, now=now
    ):
        return "not_claimed"
    try:
        notify.send_email(to=alert.clinician.user.email, subject=subject, text=text, html=html)
    except notify.SendError as exc:
        return _alert_finish(alert, Alert.Status.FAILED, str(exc), now)
    return _alert_finish(alert, Alert.Status.SENT, "", now)


def _alert_finish(alert: Alert, status: str, detail: str, now: dt.datetime) -> str:
    Alert.objects.filter(pk=alert.pk).update(
        status=status, detail=detail[:300], sent_at=now if status == Alert.Status.SENT else None
    )
    return status


# --- Progress reports ------------------------------------------------------------------------

REPORT_DEFAULT_WEEKS = 12


@transaction.atomic
def report_request(
    *,
    patient: Patient,
    audience: str,
    actor: Actor,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> Report:
    """Ask for a PDF report; a worker renders it (never the request)."""
    if audience not in Report.Audience.values:
        raise validation_error({"audience": "Choose clinician or patient."})
    # The clinician's version is written for clinicians (reasons, thresholds, caps in their
    # words); a patient asking for their own report, through any door, gets the plain one.
    user = as_user(actor)
    if audience != Report.Audience.PATIENT and user is not None and user.pk == patient.user_id:
        raise validation_error({"audience": "A patient receives the patient version."})
    check_dates(period_start=period_start, period_end=period_end)
    today = patient.local_today()
    plan = patient.plans.order_by("-created_at", "-id").first()
    period_end = period_end or today
    if period_start is None:
        period_start = period_end - dt.timedelta(weeks=REPORT_DEFAULT_WEEKS)
        # The report is the plan's: by default it starts no earlier than the plan did, so the
        # lists of reports give the period the PDF covers.
        if plan is not None and period_start < plan.start_date <= period_end:
            period_start = plan.start_date
    if period_start > period_end:
        raise validation_error({"period_start": "The period must start before it ends."})
    if period_end > today:
        raise validation_error({"period_end": "A report cannot cover days still to come."})
    if (period_end - period_start).days > 366:
        raise validation_error({"period_start": "A report covers at most a year."})
    report = Report.objects.create(
        patient=patient,
        clinic=patient.clinic,
        plan=plan,
        audience=audience,
        period_start=period_start,
        period_end=period_end,
        requested_by=as_user(actor),
    )
    audit_record(
        actor=actor,
        action="report.request",
        obj=report,
        patient=patient,
        detail={"audience": audience},
    )
    # The pending row is the outbox record; the message is the fast path (rehab/outbox.py).
    outbox.enqueue_after_commit("report_render", report.pk)
    return report


def report_render(*, report_id: int, now: dt.datetime | None = None) -> str:
    """Render a report to its file, once: only the worker whose guarded update claims the
    pending report renders it, so a redelivered message or the sweep's does nothing more. A
    worker killed mid-render leaves the report 'rendering'; once its claim is older than the
    task's hard time limit the outbox sweep makes it pending and hands it over again. The file
    is written under a temporary name and renamed, so a reader never sees half a PDF."""
    from rehab import reports

    now = now or timezone.now()
    if not outbox.claim(
        Report,
        pk=report_id,
        waiting=Report.Status.PENDING,
        running=Report.Status.RENDERING,
        now=now,
    ):
        return "not_claimed"
    report = Report.objects.select_related("patient__clinic", "plan__protocol").get(pk=report_id)
    try:
        pdf = reports.build_report(_report_data(report, now))
    except ValueError as exc:
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.FAILED, error=str(exc)[:300]
        )
        return Report.Status.FAILED
    folder = django_settings.MEDIA_ROOT / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{report.pk}-{secrets.token_hex(8)}.pdf"
    partial_path = folder / f".{name}.part"
    partial_path.write_bytes(pdf)
    partial_path.replace(folder / name)
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.READY, file_name=name, size_bytes=len(pdf), rendered_at=now, error=""
    )
    audit_record(actor=None, action="report.render", obj=report, patient=report.patient)
    return Report.Status.READY


def report_mark_failed(*, report_id: int, error: BaseException) -> None:
    Report.objects.filter(pk=report_id).exclude(status=Report.Status.READY).update(
        status=Report.Status.FAILED, error=f"{error.__class__.__name__}: {error}"[:300]
    )


def report_path(report: Report):
    return django_settings.MEDIA_ROOT / "reports" / report.file_name


def _report_data(report: Report, now: dt.datetime):
    from rehab import reports

    patient, plan = report.patient, report.plan
    start, end = report.period_start, report.period_end
    today = patient.local_today(now)
    # The report is the plan's: its period starts no earlier than the plan did, and days before
    # the plan or after it ended are left blank, not counted as rest.
    plan_first, plan_last = start, end
    if plan is not None:
        plan_first = plan.start_date
        if plan.ended_at is not None:
            plan_last = patient.local_today(plan.ended_at)
        if start < plan_first <= end:
            start = plan_first
    logs = list(
        SessionLog.objects.filter(patient=patient, date__gte=start, date__lte=end).order_by("date")
    )
    logged_days = {log.date for log in logs}
    calendar, done, missed = [], 0, 0
    for n in range((end - start).days + 1):
        day = start + dt.timedelta(days=n)
        if day not in logged_days and not plan_first <= day <= plan_last:
            continue  # outside the plan: blank
        if day in logged_days:
            state, done = "done", done + 1
        elif day > today:
            state = "future"
        elif plan is not None and day >= plan.start_date and day.weekday() in plan.schedule_days:
            state, missed = "missed", missed + 1
        else:
            state = "not_scheduled"
        calendar.append(reports.CalendarDay(day=day, state=state))
    # Names as prescribed: a level capped by the screening is named by what it asks for.
    levels = [capped.level for capped in plan.capped_levels()] if plan else []
    changes = []
    if plan is not None:
        for decision in plan.decisions.filter(
            outcome__in=("advance", "regress"),
            status__in=("applied", "approved"),
            applied_on__gte=start,
            applied_on__lte=end,
        ).order_by("applied_on", "id"):
            changes.append(
                reports.LevelChange(
                    day=decision.applied_on,
                    from_level=levels[decision.from_level].name,
                    to_level=levels[decision.to_level].name,
                    # The words the pages show (rehab.wording), never the codes.
                    reason=(
                        wording.patient_reason(decision.reasons, decision.outcome)
                        if report.audience == Report.Audience.PATIENT
                        else " ".join(wording.reason_text(r) for r in decision.reasons)
                    ),
                )
            )
    outcome_rows = []
    for measure in sorted(set(patient.outcome_scores.values_list("measure", flat=True))):
        for change in selectors.outcome_changes(patient=patient, measure=measure):
            outcome_rows.append(
                reports.OutcomeRow(
                    measure=measure,
                    subscale=change.subscale,
                    baseline=change.baseline,
                    current=change.current,
                    threshold=change.threshold,
                    meaningful=change.meaningful,
                    worsened=change.worsened,
                )
            )
    return reports.ReportData(
        audience=report.audience,
        clinic_name=patient.clinic.name,
        patient_name=patient.full_name,
        record_number=patient.external_id,
        date_of_birth=patient.date_of_birth,
        condition=patient.get_condition_display(),
        clinician_name=_report_assigned_by(plan),
        period_start=start,
        period_end=end,
        generated_at=now,
        protocol_name=plan.protocol_name if plan else "No plan yet",
        plan_status=plan.status if plan else "none",
        current_level=levels[plan.current_level].name if plan else "",
        constraints=plan.constraints_obj.describe() if plan else (),
        override_reason=plan.override_reason if plan else "",
        level_changes=tuple(changes),
        adherence_percent=(100 * done / (done + missed)) if done + missed else None,
        calendar=tuple(calendar),
        sessions=selectors.session_points(logs),
        outcomes=tuple(outcome_rows),
        safety_events=tuple(
            reports.SafetyEvent(day=log.date, event=event, note=log.notes)
            for log in logs
            for event in log.adverse_events
        ),
        # The patient's protocol's references only, each with the claim it supports.
        citations=tuple(
            reports.Reference(text=c.get("text", ""), supports=c.get("supports", ""))
            for c in (plan.protocol.citations if plan else ())
            if isinstance(c, dict) and c.get("text")
        ),
        clinical_notes=_report_notes(report, start, end),
    )


def _report_notes(report: Report, start: dt.date, end: dt.date) -> tuple:
    """The period's clinical notes, oldest first, for the clinician's version only: they are
    the clinic's working notes, not written for the patient."""
    from rehab import reports

    if report.audience != Report.Audience.CLINICIAN:
        return ()
    notes = (
        ClinicalNote.objects.filter(patient=report.patient, noted_on__range=(start, end))
        .select_related("author")
        .order_by("noted_on", "created_at", "id")
    )
    return tuple(
        reports.ReportNote(
            day=note.noted_on,
            author=(note.author.get_full_name() or note.author.username) if note.author else "",
            text=note.text,
        )
        for note in notes
    )


def _report_assigned_by(plan: Plan | None) -> str:
    """Who assigned the plan, as the report's "Clinician" line says it: never blank. A plan
    assigned by a clinic system through an API key has no person; the assignment's audit event
    names the key."""
    if plan is None:
        return "No plan assigned"
    if plan.assigned_by is not None:
        return plan.assigned_by.get_full_name() or plan.assigned_by.get_username()
    event = (
        AuditEvent.objects.filter(
            action="plan.assign", object_type="plan", object_id=str(plan.pk), clinic=plan.clinic
        )
        .select_related("api_key")
        .order_by("at", "id")
        .first()
    )
    key = event.api_key if event is not None else None
    if key is not None:
        return f"Assigned by {key.name} (the clinic's system)"
    if event is not None and event.actor_label.startswith("api-key:"):
        # The key was deleted since; the audit trail kept its name.
        return f"Assigned by {event.actor_label.removeprefix('api-key:')} (the clinic's system)"
    return f"Assigned by {django_settings.SYSTEM_NAME}"


# --- Portal invitations ----------------------------------------------------------------------

_INVITE_USED = (
    "This invitation has already been used. Sign in with your e-mail address and the password "
    "you chose, or ask your clinic for help."
)


def invite_check(*, invite: PortalInvite | None, now: dt.datetime | None = None) -> PortalInvite:
    """The invitation if its link may still be used; otherwise the RehabError its holder should
    read (404 for an unknown link, 410 for one that worked once but no longer does)."""
    if invite is None:
        raise RehabError(
            "invite_not_found",
            "This invitation link is not valid. Check that the whole link was copied from the "
            "e-mail, or ask your clinic to send a new one.",
            status=404,
        )
    patient = invite.patient
    state = invite.state(now)
    if state == "used" or patient.user_id is not None:
        raise RehabError("invite_used", _INVITE_USED, status=410)
    # An address changed since the e-mail went out means the link may be in the wrong mailbox.
    address_changed = invite.sent_to.lower() != patient.email.strip().lower()
    if state == "revoked" or patient.archived_at is not None or address_changed:
        raise RehabError(
            "invite_revoked",
            "This invitation is no longer valid; a newer one may have been sent. Use the link in "
            "the most recent e-mail from your clinic, or ask them to send a new one.",
            status=410,
        )
    if state == "expired":
        raise RehabError(
            "invite_expired",
            "This invitation has expired. Ask your clinic to send a new one.",
            status=410,
        )
    return invite


@transaction.atomic
def patient_invite(*, patient: Patient, actor: Actor, base_url: str | None = None) -> PortalInvite:
    """Invite a patient to the portal by e-mail: one single-use link, valid for
    settings.INVITE_VALID_DAYS days. Earlier unused invitations stop working.

    Only the token's hash is stored; the link goes out once the invitation is committed. When
    the e-mail cannot be sent, the returned invitation's `send_error` says why (and a new
    invitation simply replaces it).
    """
    require_active_patient(patient)
    if patient.user_id is not None:
        raise RehabError(
            "portal_account_exists",
            f"{patient.full_name} already has a portal account. They can sign in, or reset "
            "their password from the portal's sign-in page.",
            status=409,
        )
    if not patient.email.strip():
        raise RehabError(
            "email_required",
            f"{patient.full_name} has no e-mail address; add one to their record first.",
            fields={"email": ["An e-mail address is needed for an invitation."]},
        )
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one invite at a time
    now = timezone.now()
    revoked = PortalInvite.objects.filter(
        patient=patient, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invite = PortalInvite.objects.create(
        patient=patient,
        token_hash=selectors.invite_token_hash(token),
        sent_to=patient.email.strip(),
        created_by=as_user(actor),
        created_at=now,
        expires_at=now + dt.timedelta(days=django_settings.INVITE_VALID_DAYS),
    )
    audit_record(
        actor=actor,
        action="portal.invite",
        obj=invite,
        patient=patient,
        detail={"revoked_earlier": revoked},
    )
    link = (base_url or django_settings.SITE_URL).rstrip("/") + reverse(
        "patients:invite_accept", args=[token]
    )
    invite.send_error = ""
    # The token lives only in this closure and the e-mail: never in a table or a task queue.
    transaction.on_commit(partial(_invite_send, invite, link))
    return invite


def _invite_send(invite: PortalInvite, link: str) -> None:
    patient = invite.patient
    context = {
        "patient": patient,
        "clinic": patient.clinic,
        "link": link,
        "expires_on": scheduling.local_day(invite.expires_at, patient.timezone),
        "valid_days": django_settings.INVITE_VALID_DAYS,
    }
    try:
        notify.send_email(
            to=invite.sent_to,
            subject=f"{patient.clinic.name}: your backward-walking plan online",
            text=render_to_string("emails/invite.txt", context),
            html=render_to_string("emails/invite.html", context),
        )
    except notify.SendError as exc:
        invite.send_error = str(exc)
        audit_record(
            actor=None,
            action="portal.invite_failed",
            obj=invite,
            patient=patient,
            detail={"error": exc.__class__.__name__},
        )


@transaction.atomic
def invite_accept(*, token: str, password: str, username: str | None = None) -> User:
    """Turn an invitation into a portal account: the patient chooses a password, the link is
    used up, the account is linked to the patient's record. Returns the new user."""
    found = selectors.portal_invite_for_token(token=token)
    if found is not None:
        # Locked, so two submissions of one link cannot both get past the checks.
        found = (
            PortalInvite.objects.select_for_update()
            .select_related("patient__clinic")
            .get(pk=found.pk)
        )
    invite = invite_check(invite=found)
    patient = invite.patient
    username = (username or "").strip() or selectors.portal_username_for(email=invite.sent_to)
    user = User(
        username=username,
        email=invite.sent_to,
        first_name=patient.first_name[:150],
        last_name=patient.last_name[:150],
    )
    clean_row(user, exclude=["password"])
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise validation_error(
            {"password": list(exc.messages)}, "Please choose a different password."
        ) from exc
    now = timezone.now()
    claimed = PortalInvite.objects.filter(
        pk=invite.pk, used_at__isnull=True, revoked_at__isnull=True
    ).update(used_at=now)
    if not claimed:
        raise RehabError("invite_used", _INVITE_USED, status=410)
    user.set_password(password)
    user.save()
    linked = Patient.objects.filter(pk=patient.pk, user__isnull=True).update(
        user=user, updated_at=now
    )
    if not linked:  # an account was linked in between; the transaction rolls back
        raise RehabError("invite_used", _INVITE_USED, status=410)
    patient.user = user
    audit_record(actor=user, action="portal.invite_accept", obj=invite, patient=patient)
    return user


# --- Portal: reminders and calendar ----------------------------------------------------------

_CHANNEL_UNREACHABLE = {
    Patient.Channel.EMAIL: "There is no e-mail address on the record, so e-mail reminders cannot "
    "be sent. Choose another way, or ask the clinic to add an address.",
    Patient.Channel.SMS: "There is no mobile phone number on the record, so text messages cannot "
    "be sent. Choose another way, or ask the clinic to add a number.",
}


@transaction.atomic
def patient_set_reminders(
    *,
    patient: Patient,
    actor: Actor,
    channel: str,
    time: dt.time,
    timezone_name: str,
    enabled: bool,
    now: dt.datetime | None = None,
) -> Patient:
    """A patient's reminder choices: how (e-mail, SMS or none), at what local time, in which
    time zone, and whether they are paused. Refuses a channel the record cannot reach.

    Reminders already planned and not yet sent follow the new choices, so the change applies
    from the next one: each keeps its row (one per patient, day and kind) and gets the new
    channel and moment; paused or "no reminders" removes them instead, and the dispatcher plans
    today's again if reminders are switched back on the same day.
    """
    errors: dict[str, list[str]] = {}
    if channel not in Patient.Channel.values:
        errors["reminder_channel"] = ["Choose e-mail, text message or no reminders."]
    elif not selectors.reminder_channel_usable(patient, channel):
        errors["reminder_channel"] = [_CHANNEL_UNREACHABLE[channel]]
    if not isinstance(time, dt.time):
        errors["reminder_time"] = ["Enter a time like 09:00 or 18:30."]
    else:
        time = time.replace(second=0, microsecond=0, tzinfo=None)
    try:
        validate_timezone(timezone_name or "")
    except ValidationError:
        errors["timezone"] = ["Choose your time zone from the list."]
    if errors:
        raise validation_error(errors, "Please check your reminder choices.")
    changes = {
        "reminder_channel": channel,
        "reminder_time": time,
        "timezone": timezone_name,
        "reminders_enabled": bool(enabled),
    }
    # patient_update moves the pending reminders: one service for every door.
    patient_update(patient=patient, actor=actor, now=now, **changes)
    return patient


def reminders_follow_settings(*, patient: Patient, actor: Actor, now: dt.datetime) -> None:
    """Move the patient's pending reminders of today and later to their new choices."""
    today = scheduling.local_day(now, patient.timezone)
    pending = Reminder.objects.filter(
        patient=patient, status=Reminder.Status.PENDING, due_date__gte=today
    )
    if not patient.reminders_enabled or patient.reminder_channel == Patient.Channel.NONE:
        # Deleted rather than left to be skipped: the patient asked for nothing to be sent, and
        # a row left behind would stop today's reminder being planned again after a resume.
        removed, _ = pending.delete()
        if removed:
            audit_record(
                actor=actor,
                action="reminder.cancel",
                patient=patient,
                detail={"count": removed},
            )
        return
    clinic = patient.clinic
    moved = 0
    for reminder in pending.only("pk", "due_date"):
        moment = scheduling.reminder_moment(
            day=reminder.due_date,
            at=patient.reminder_time,
            timezone=patient.timezone,
            quiet_start=clinic.quiet_hours_start,
            quiet_end=clinic.quiet_hours_end,
        )
        # Guarded like a claim: a row a worker took meanwhile is already on its way.
        moved += Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.PENDING).update(
            channel=patient.reminder_channel, scheduled_for=moment, updated_at=now
        )
    if moved:
        audit_record(
            actor=actor, action="reminder.reschedule", patient=patient, detail={"count": moved}
        )


CALENDAR_TOKEN_BYTES = 32


@transaction.atomic
def calendar_feed_create(*, patient: Patient, actor: Actor) -> str:
    """Make the patient's private calendar link and return its token, which is shown once and
    never stored (only its hash is). An earlier link stops working at once."""
    require_active_patient(patient)
    token = secrets.token_urlsafe(CALENDAR_TOKEN_BYTES)
    previous = CalendarFeed.objects.select_for_update().filter(patient=patient).first()
    replaced = previous is not None and previous.revoked_at is None
    feed, _ = CalendarFeed.objects.update_or_create(
        patient=patient,
        defaults={
            "token_hash": selectors.calendar_token_hash(token),
            "created_at": timezone.now(),
            "revoked_at": None,
        },
    )
    audit_record(
        actor=actor,
        action="calendar.create",
        obj=feed,
        patient=patient,
        detail={"replaced": replaced},
    )
    return token


@transaction.atomic
def calendar_feed_revoke(*, patient: Patient, actor: Actor) -> CalendarFeed | None:
    """Stop the patient's calendar link; the feed's address then answers 404. The revoked feed,
    or None when no link was on."""
    feed = (
        CalendarFeed.objects.select_for_update()
        .filter(patient=patient, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="calendar.revoke", obj=feed, patient=patient)
    return feed


# --- Dashboard: stored need ------------------------------------------------------------------
# The clinician's Today list reads each patient's need (their flags as one integer, see
# rehab.selectors "Dashboard: Today") from Patient.dashboard_need rather than working the whole
# clinic out on every request. Two moves keep it exact:
# - every service that writes what a flag reads (a screening, a plan's status or level, a
#   session, its next-morning pain, a decision, archiving) marks the patient stale in its own
#   transaction (dashboard_mark_stale), so the mark commits or rolls back with the write; a write no
#   flag reads (contact details, reminders, auto-apply, outcome scores, invitations) marks
#   nothing, and a new patient is inserted stale;
# - the list first calls dashboard_refresh, which works out the stale patients again and, on a
#   new clinic-local day, everyone: the 7-day windows and a screening's expiry move with the
#   date alone.


def dashboard_mark_stale(patient_id: int) -> None:
    """One UPDATE by primary key. The version bump lets a refresh running meanwhile tell."""
    Patient.objects.filter(pk=patient_id).update(
        dashboard_day=None, dashboard_version=F("dashboard_version") + 1
    )


def dashboard_refresh(*, clinic: Clinic, today: dt.date) -> int:
    """Store the need, for the clinic-local day `today`, of the clinic's patients whose stored
    need is for another day or marked stale (selectors.dashboard_needs_live computes it, from
    the one definition of the flags). Returns how many patients were stored.

    One statement for 1 patient or 10,000: the stale patients' needs are computed once into a
    materialised CTE (found through the partial indexes on dashboard_day), then joined to the
    table by primary key. A row is written only while its dashboard_version is the one the CTE
    read: on PostgreSQL a write committed while the statement ran is not in what the CTE saw,
    but the UPDATE finds the newer row, with a bumped version, and leaves it stale for the next
    refresh. Two refreshes at once (two clinicians opening the list first thing) compute alike;
    the second waits for the rows the first holds and then writes the same values.

    Not atomic-decorated: one statement is its own transaction (or part of the caller's). No
    audit event: it reads nothing out and changes no patient data, only what derives from it.
    """
    select, params = selectors.dashboard_needs_live(
        clinic=clinic, today=today, stale_only=True
    ).query.sql_with_params()
    table = connection.ops.quote_name(Patient._meta.db_table)
    # The CTE inside the FROM rather than before the UPDATE: a statement that starts with UPDATE
    # is one Python's sqlite3 reports the row count of.
    sql = (
        f"UPDATE {table} SET dashboard_need = stale.need, dashboard_day = %s "
        f"FROM (WITH needs (id, need, version) AS MATERIALIZED ({select}) "
        f"SELECT id, need, version FROM needs) AS stale "
        f"WHERE {table}.id = stale.id AND {table}.dashboard_version = stale.version"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (connection.ops.adapt_datefield_value(today), *params))
        return cursor.rowcount


# --- Portal: a form kept over an ended sign-in -----------------------------------------------

KEPT_USE = "use"  # the kept form is the signed-in patient's and this page's: send it again
KEPT_ELSEWHERE = "elsewhere"  # theirs, for another page: left for that page, which is named
KEPT_GONE = "gone"  # none, expired, or another account's (then removed unseen)


@dataclass(frozen=True)
class KeptFormTaken:
    state: str  # KEPT_USE, KEPT_ELSEWHERE or KEPT_GONE
    data: dict[str, list[str]] | None = None  # with KEPT_USE: the fields as they were sent
    path: str = ""  # with KEPT_ELSEWHERE: the page it was sent to


def kept_form_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def kept_form_keep(
    *, user_id: int, path: str, data: dict[str, list[str]], now: dt.datetime | None = None
) -> str | None:
    """Keep a portal form that arrived after its sign-in had ended, for the account whose page
    it came from (`user_id`, which the door read from the form's signed field). Returns the
    random token that finds it again (for an HttpOnly cookie; only its hash is stored), or None
    when that account is no longer a patient's. One kept form per account: a newer one
    replaces it (the same walk saved twice is one walk)."""
    now = now or timezone.now()
    KeptForm.objects.filter(expires_at__lte=now).delete()  # anyone's, so none outlives its time
    patient = (
        Patient.objects.select_related("clinic", "user")
        .filter(user_id=user_id, user__is_active=True, archived_at__isnull=True)
        .first()
    )
    if patient is None:
        return None
    KeptForm.objects.filter(user_id=user_id).delete()
    token = secrets.token_urlsafe(32)
    kept = KeptForm.objects.create(
        token_hash=kept_form_token_hash(token),
        user_id=user_id,
        path=path[:200],
        data=data,
        created_at=now,
        expires_at=now + dt.timedelta(hours=django_settings.PORTAL_KEPT_FORM_HOURS),
    )
    # The field names only, never what was typed.
    audit_record(
        actor=patient.user,
        action="portal.form_kept",
        obj=kept,
        patient=patient,
        detail={"fields": sorted(data)[:50]},
    )
    return token


@transaction.atomic
def kept_forms_purge(*, now: dt.datetime | None = None) -> int:
    """Remove the kept forms past PORTAL_KEPT_FORM_HOURS and the questionnaire drafts past
    QUESTIONNAIRE_DRAFT_DAYS (beat, hourly): answers nobody will be offered again are not kept.
    Not audited one by one: each was audited when kept or saved, and none was ever scored."""
    now = now or timezone.now()
    forms, _ = KeptForm.objects.filter(expires_at__lte=now).delete()
    drafts, _ = QuestionnaireDraft.objects.filter(
        updated_at__lt=selectors.questionnaire_draft_fresh_since(now)
    ).delete()
    return forms + drafts


@transaction.atomic
def kept_form_take(
    *, token: str, user: User, path: str, now: dt.datetime | None = None
) -> KeptFormTaken:
    """The kept form a signed-in patient's browser names (by its cookie's token), for the page
    at `path`: KEPT_USE with its data, removed as it is handed over; KEPT_ELSEWHERE with the
    page it belongs to when that is another page of theirs; KEPT_GONE otherwise. A form kept
    for another account is removed without being shown or saved: on a shared device, the next
    patient to sign in never sees the last one's answers."""
    now = now or timezone.now()
    kept = (
        KeptForm.objects.select_for_update()
        .filter(token_hash=kept_form_token_hash(token or ""))
        .first()
    )
    if kept is None:
        return KeptFormTaken(KEPT_GONE)
    mine = kept.user_id == user.pk
    fresh = kept.expires_at > now
    if mine and fresh and kept.path != path:
        return KeptFormTaken(KEPT_ELSEWHERE, path=kept.path)
    owner = Patient.objects.select_related("clinic").filter(user_id=kept.user_id).first()
    kept_id = kept.pk
    kept.delete()
    if owner is not None:
        reason = "used" if mine and fresh else ("expired" if mine else "other_account")
        audit_record(
            actor=user,
            action="portal.form_kept_used" if reason == "used" else "portal.form_kept_discarded",
            patient=owner,
            detail={"kept_form": kept_id, "reason": reason},
        )
    if mine and fresh:
        return KeptFormTaken(KEPT_USE, data=kept.data)
    return KeptFormTaken(KEPT_GONE)
