"""The code systems, codes and identifier systems the FHIR door speaks.

Standard terminologies where a code exists; a local code system (under FHIR_SYSTEM_BASE) where
none does, so that nothing is dressed up as a standard code it is not.
"""

from __future__ import annotations

from django.conf import settings

from rehab.clinical import levels as L

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"

# SNOMED CT 229065009 |Exercise therapy (regime/therapy)|: the code the issue asks for, and the
# one the HL7 Physical Activity IG's exercise prescriptions use.
EXERCISE_THERAPY = ("229065009", "Exercise therapy")

# The conditions (CLINICAL.md §1) as SNOMED CT findings/disorders where we are sure of the concept:
# 239873007 |Osteoarthritis of knee (disorder)| and 278860009 |Chronic low back pain (finding)|
# (SNOMED CT International browser). The others are sent with our own code and their name only
# until a clinician-reviewed mapping is agreed (patellofemoral pain, and the two post-operative
# states, which SNOMED CT expresses as procedures and "history of" findings, not one disorder).
CONDITION_SNOMED: dict[str, tuple[str, str]] = {
    L.KNEE_OA: ("239873007", "Osteoarthritis of knee"),
    L.CHRONIC_LOW_BACK_PAIN: ("278860009", "Chronic low back pain"),
}

# LOINC 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] - Reported" (CLINICAL.md §5).
PAIN_SEVERITY = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
# LOINC 55411-3 "Exercise duration", as the HL7 Physical Activity IG's activity observations use.
EXERCISE_DURATION = ("55411-3", "Exercise duration")

# A session's pain is one Observation (LOINC 72514-3) with one component per moment it was rated:
# before, worst during, after, and the next morning (present once the patient added it).
PAIN_MOMENTS: dict[str, str] = {
    "before": "Pain before the session",
    "worst": "Worst pain during the session",
    "after": "Pain after the session",
    "next-morning": "Pain the next morning",
}
# Effort on Borg's CR10 scale (0-10): we found no LOINC term for a CR10 rating of perceived
# exertion, so it is a code of our own.
EFFORT_BORG_CR10 = ("borg-cr10", "Perceived exertion, Borg CR10 scale (0-10)")


def system_base() -> str:
    return settings.FHIR_SYSTEM_BASE


def local_system(name: str) -> str:
    """One of our own code systems, e.g. .../CodeSystem/session-observation."""
    return f"{system_base()}/CodeSystem/{name}"


def patient_id_system() -> str:
    """Our own patient ids, as an identifier any clinic system can store."""
    return f"{system_base()}/sid/patient-id"


def record_number_system(clinic_slug: str) -> str:
    """A clinic's record numbers (Patient.external_id): one system per clinic, as each clinic
    numbers its patients on its own."""
    return f"{system_base()}/sid/clinic/{clinic_slug}/record-number"


def patient_condition_extension() -> str:
    """The extension on Patient naming the condition they are treated for: a patient record
    needs one, and a clinic system creating a patient through the FHIR door has no other element
    to say it in (the Condition resource is read-only, and has the patient's id)."""
    return f"{system_base()}/StructureDefinition/patient-condition"


CONDITION_SYSTEM = "condition"
PAIN_MOMENT_SYSTEM = "pain-moment"
SESSION_SYSTEM = "session-observation"
