"""Two-step sign-in for the clinic's staff: after the password, a six-digit code from an
authenticator app (TOTP, RFC 6238), or one of ten single-use recovery codes.

django-otp keeps the secrets and checks the codes (a TOTPDevice per person, a StaticDevice for
the recovery codes, each code usable once), and throttles each device after a wrong code. This
module is what the doors call: services (keyword-only, atomic, audited) and the few reads they
need. Audit events name the action and the kind of code, never a secret or a code.
"""

from __future__ import annotations

from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from rehab.audit import Actor, AuditAction, audit_record
from rehab.errors import ErrorCode, RehabError, validation_error
from rehab.models import Clinic, Clinician, User

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
TOTP_DIGITS = 6


# --- Reads -------------------------------------------------------------------------------------


def two_step_enrolled(*, user: User) -> bool:
    """Whether the person has a confirmed authenticator: their sign-in asks for a code."""
    if not getattr(user, "pk", None):
        return False
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def two_step_required(*, user: User) -> bool:
    """Whether the person's clinic asks every clinician for a second step."""
    return Clinician.objects.filter(user_id=user.pk, clinic__require_two_step=True).exists()


def two_step_recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count()


def two_step_qr_svg(url: str) -> str:
    """The otpauth:// address as an SVG QR code (no image library needed), for the page."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def _clinic_of(user: User) -> Clinic | None:
    clinician = Clinician.objects.select_related("clinic").filter(user_id=user.pk).first()
    return clinician.clinic if clinician is not None else None


def _normalise(code: str) -> str:
    # People copy codes with spaces ("123 456") or type recovery codes in capitals.
    return "".join((code or "").split()).replace("-", "").lower()


# --- Enrolment ---------------------------------------------------------------------------------


@transaction.atomic
def two_step_enrol_start(*, user: User) -> TOTPDevice:
    """The authenticator being set up: the person's unconfirmed device, made on first call, so
    reloading the page shows the same QR code. It works only once confirmed with a code."""
    if two_step_enrolled(user=user):
        raise RehabError(
            ErrorCode.TWO_STEP_ENROLLED,
            "Two-step sign-in is already set up. Remove it first to set up another phone.",
            status=409,
        )
    User.objects.select_for_update().get(pk=user.pk)  # two tabs make one device, not two
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


@transaction.atomic
def two_step_enrol_confirm(*, user: User, code: str, actor: Actor) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with a code it shows, which proves the phone holds the secret.
    Returns the device and the ten recovery codes, which are shown once and never again."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("-id")
        .first()
    )
    if device is None:
        raise RehabError(
            ErrorCode.TWO_STEP_NOT_STARTED,
            "This set-up has expired or was finished in another window. Start again.",
            status=409,
        )
    code = _normalise(code)
    if not (code.isdigit() and len(code) == TOTP_DIGITS) or not device.verify_token(code):
        raise validation_error(
            {
                "code": "That code does not match. Type the 6 digits your app shows now for "
                "Retrowalk; if they keep failing, check the phone's clock is set automatically."
            }
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _replace_recovery_codes(user)
    audit_record(actor=actor, action=AuditAction.TWO_STEP_ENROL, obj=user, clinic=_clinic_of(user))
    return device, codes


def _replace_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def two_step_recovery_regenerate(*, user: User, actor: Actor) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not two_step_enrolled(user=user):
        raise RehabError(
            ErrorCode.TWO_STEP_NOT_ENROLLED, "Set up two-step sign-in first.", status=409
        )
    codes = _replace_recovery_codes(user)
    audit_record(
        actor=actor,
        action=AuditAction.TWO_STEP_RECOVERY_REGENERATE,
        obj=user,
        clinic=_clinic_of(user),
    )
    return codes


@transaction.atomic
def two_step_remove(*, user: User, password: str, actor: Actor) -> None:
    """Remove the authenticator and the recovery codes. The password is asked again, so a
    session left open on a shared computer cannot take the second step away."""
    if not user.check_password(password or ""):
        raise validation_error({"password": "That is not your password."})
    if not two_step_enrolled(user=user):
        raise RehabError(
            ErrorCode.TWO_STEP_NOT_ENROLLED, "Two-step sign-in is not set up.", status=409
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action=AuditAction.TWO_STEP_REMOVE, obj=user, clinic=_clinic_of(user))


# --- Sign-in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    device: Device | None
    throttled: bool = False
    recovery_codes_left: int | None = None  # set when a recovery code was used

    @property
    def ok(self) -> bool:
        return self.device is not None


def two_step_verify(*, user: User, code: str) -> CodeCheck:
    """Check a code given at sign-in. Six digits go to the authenticator, anything else to the
    recovery codes (each works once), so a wrong code counts against one device only. A wrong
    code is audited (which kind, never the code); django-otp makes each device wait longer
    after each failure, and a refused wait is a failure too."""
    code = _normalise(code)
    is_totp = code.isdigit() and len(code) == TOTP_DIGITS
    model = TOTPDevice if is_totp else StaticDevice
    with transaction.atomic():
        # Locked, so two requests racing with one recovery code cannot both use it.
        device = (
            model.objects.select_for_update()
            .filter(user_id=user.pk, confirmed=True)
            .order_by("id")
            .first()
        )
        allowed = device is not None and device.verify_is_allowed()[0]
        verified = bool(code) and allowed and device.verify_token(code)
        clinic = _clinic_of(user)
        kind = "authenticator" if is_totp else "recovery"
        if not verified:
            audit_record(
                actor=user,
                action=AuditAction.TWO_STEP_CODE_FAILED,
                obj=user,
                clinic=clinic,
                detail={"kind": kind, "throttled": device is not None and not allowed},
            )
            return CodeCheck(None, throttled=device is not None and not allowed)
        left = None
        if not is_totp:
            left = StaticToken.objects.filter(device=device).count()
            audit_record(
                actor=user,
                action=AuditAction.TWO_STEP_RECOVERY_USED,
                obj=user,
                clinic=clinic,
                detail={"left": left},
            )
    return CodeCheck(device, recovery_codes_left=left)


# --- Clinic setting ----------------------------------------------------------------------------


@transaction.atomic
def clinic_set_two_step_required(*, clinic: Clinic, required: bool, actor: Actor) -> Clinic:
    """Ask (or stop asking) every clinician of the clinic for a second step at sign-in."""
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    if clinic.require_two_step != required:
        clinic.require_two_step = required
        clinic.save(update_fields=["require_two_step"])
        audit_record(
            actor=actor,
            action=AuditAction.CLINIC_TWO_STEP_REQUIRED
            if required
            else AuditAction.CLINIC_TWO_STEP_OPTIONAL,
            obj=clinic,
            clinic=clinic,
        )
    return clinic


def two_step_team(*, clinic: Clinic) -> list[tuple[Clinician, bool]]:
    """The clinic's active clinicians, each with whether they have a confirmed authenticator
    (two queries, however large the team)."""
    enrolled = set(
        TOTPDevice.objects.filter(user__clinician__clinic=clinic, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    members = Clinician.objects.filter(clinic=clinic, user__is_active=True).select_related("user")
    return [(member, member.user_id in enrolled) for member in members]
