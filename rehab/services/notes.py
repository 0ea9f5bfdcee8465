"""Clinical notes a clinician adds to a patient's record."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from rehab.audit import Actor, as_user, audit_record
from rehab.errors import validation_error
from rehab.models import (
    ClinicalNote,
    Patient,
)
from rehab.services.common import clean_row, require_active_patient


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
