"""A patient's whole record on request (GDPR Art. 15 and 20, HIPAA's right of access): one zip
with the FHIR Patient/$everything Bundle, a readable PDF summary and a README saying which is
which. The portal ("Download my data") and the dashboard (the patient's page) serve it; both
pass the acting principal, so each gets what its scope shows, and one event is audited.

It lives beside the FHIR door because the Bundle is the door's (rehab/fhir/everything.py); the
two people's doors import this module and that one alone (pyproject.toml's layers contract
names the exception).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from django.utils import timezone

from rehab import selectors
from rehab.access import Principal
from rehab.audit import AuditAction, audit_record
from rehab.fhir.everything import patient_everything

EXPORT_CONTENT_TYPE = "application/zip"

README = """\
Your record at {clinic}, as it stood on {day}.

everything.json
    The whole record in FHIR R4 (application/fhir+json): a Bundle of type searchset with the
    Patient, their Condition, each plan as a CarePlan and its ServiceRequest, and each logged
    session as Observations (pain, minutes, effort). Any system that reads FHIR can import it.

summary.pdf
    The same record to read: the details, plans and their levels, every session, outcome
    scores and questionnaires, progression decisions and screenings{notes}.

The file names and this archive's name hold no personal data; the files themselves do: keep
them somewhere safe.
"""


@dataclass(frozen=True)
class PatientExport:
    filename: str
    content: bytes
    content_type: str = EXPORT_CONTENT_TYPE


def patient_export(*, principal: Principal, patient_id: int, base_url: str) -> PatientExport:
    """The zip of patient `patient_id` for `principal`. Patient.DoesNotExist for a patient
    outside their scope (a door's 404). `base_url`: the FHIR door's base, which the Bundle's full
    URLs are under. Records one `patient.export` event."""
    patient = selectors.patients_for(principal).get(pk=patient_id)
    bundle = patient_everything(
        principal,
        patient,
        base_url=base_url,
        self_url=f"{base_url}Patient/{patient.pk}/$everything",
    )
    from rehab.reports.record import build_record_summary  # reportlab only when exporting

    summary = build_record_summary(selectors.patient_record(principal=principal, patient=patient))
    today = timezone.localdate()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("everything.json", bundle.model_dump_json(indent=1))
        archive.writestr("summary.pdf", summary)
        archive.writestr(
            "README.txt",
            README.format(
                clinic=principal.clinic.name,
                day=f"{today:%Y-%m-%d}",
                notes=", and the clinic's notes" if principal.is_staff else "",
            ),
        )
    audit_record(
        actor=principal.actor,
        action=AuditAction.PATIENT_EXPORT,
        obj=patient,
        patient=patient,
        clinic=principal.clinic,
        detail={"files": ["everything.json", "summary.pdf"]},
    )
    # The patient's id at most (as a report's file name): never a name or a date of birth.
    if principal.is_staff:
        filename = f"patient-{patient.pk}-record-{today:%Y-%m-%d}.zip"
    else:
        filename = f"my-record-{today:%Y-%m-%d}.zip"
    return PatientExport(filename=filename, content=buffer.getvalue())
