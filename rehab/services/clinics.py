"""A clinic's own settings: screening validity and the contact details patients see."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from rehab.audit import Actor, audit_record
from rehab.clinical import screening as clinical_screening
from rehab.errors import validation_error
from rehab.models import (
    Clinic,
)
from rehab.services.common import clean_row


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
