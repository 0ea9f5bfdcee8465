"""Who is acting, and what they may see: the one place tenancy is decided.

Every door turns its caller into a Principal (a clinician's session, a patient's login, a clinic
system's API key), and every selector scopes its rows by it, so no door can forget.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

from rehab.models import ApiKey, Clinic, Clinician, Patient, User

CLINICIAN = "clinician"
PATIENT = "patient"
API_KEY = "api_key"


@dataclass(frozen=True)
class Principal:
    kind: str
    actor: User | ApiKey
    clinic: Clinic
    patient: Patient | None = None
    is_clinic_admin: bool = False

    @property
    def is_staff(self) -> bool:
        """A clinic's staff: a clinician or a clinic system, who see the whole clinic."""
        return self.kind in (CLINICIAN, API_KEY)

    @property
    def owner_id(self) -> str:
        """A stable id of the caller, for per-caller state (idempotency keys, throttling)."""
        if isinstance(self.actor, ApiKey):
            return f"key:{self.actor.pk}"
        return f"user:{self.actor.pk}"


def principal_for_user(user: User | None) -> Principal | None:
    """A signed-in person's principal; None for anyone who is neither clinician nor patient
    (a Django superuser without a clinic has no patient data to see)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    # One query with the clinic joined, not a lazy relation and then its clinic.
    clinician = Clinician.objects.select_related("clinic").filter(user=user).first()
    if clinician is not None:
        return Principal(
            kind=CLINICIAN,
            actor=user,
            clinic=clinician.clinic,
            is_clinic_admin=clinician.is_clinic_admin,
        )
    patient = (
        Patient.objects.select_related("clinic").filter(user=user, archived_at__isnull=True).first()
    )
    if patient is not None:
        return Principal(kind=PATIENT, actor=user, clinic=patient.clinic, patient=patient)
    return None


def principal_for_api_key(api_key: ApiKey) -> Principal:
    return Principal(kind=API_KEY, actor=api_key, clinic=api_key.clinic)


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def password_stamp(user: User) -> str:
    """A keyed digest of the account's current password hash (as Django's session hash is): a
    personal token carries the stamp it was issued under, so any password change ends it."""
    return salted_hmac("rehab.PersonalToken", user.password, algorithm="sha256").hexdigest()
