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

# --- outcome measures (rehab.clinical.outcomes) ---------------------------------------------------

# Each measure's score as LOINC where we found its term, checked against two sources where we
# could: NPRS, the pain rating's 72514-3 (as CLINICAL.md §5, and outcomes.MEASURES' loinc); ODI,
# 97909-6 "Oswestry disability index score ODI" (loinc.org); KOOS, the panel 72091-2 "Knee injury
# and Osteoarthritis Outcome Score [KOOS]" with one term per subscale (the US eCQM value sets of
# the total-knee-replacement functional-status measure list all five; 72101-9 and 72100-1 also on
# a second LOINC listing). RMDQ, PSFS and WOMAC: no LOINC term we could confirm, so our own code
# only. Every measure also carries our own code (the measure's, e.g. "koos"), always.
OUTCOME_LOINC: dict[str, tuple[str, str]] = {
    "nprs": PAIN_SEVERITY,
    "odi": ("97909-6", "Oswestry disability index score ODI"),
    "koos": ("72091-2", "Knee injury and Osteoarthritis Outcome Score [KOOS]"),
}
KOOS_SUBSCALE_LOINC: dict[str, tuple[str, str]] = {
    "pain": ("72102-7", "Pain score [KOOS]"),
    "symptoms": ("72101-9", "Symptoms score [KOOS]"),
    "adl": ("72100-1", "Activities of daily living score [KOOS]"),
    "sport_rec": ("72099-5", "Sport-recreation score [KOOS]"),
    "qol": ("72098-7", "Quality of life score [KOOS]"),
}
KOOS_SUBSCALE_NAMES: dict[str, str] = {
    "pain": "KOOS Pain",
    "symptoms": "KOOS Symptoms",
    "adl": "KOOS Function in daily living (ADL)",
    "sport_rec": "KOOS Function in sport and recreation (Sport/Rec)",
    "qol": "KOOS Knee-related quality of life (QOL)",
}
OUTCOME_SYSTEM = "outcome-measure"  # our codes: the measure ("koos"), a subscale ("koos-pain")

# --- safety events (SessionLog's fall and chest pain) ---------------------------------------------

# SNOMED CT 1912002 |Fall (event)| (the code FHIR's adverse-event-type value set names) and
# 29857009 |Chest pain (finding)|.
ADVERSE_EVENTS: dict[str, tuple[str, str]] = {
    "fall": ("1912002", "Fall"),
    "chest-pain": ("29857009", "Chest pain"),
}
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# LOINC 11506-3 "Progress note", the kind of document our PDF reports are.
PROGRESS_NOTE = ("11506-3", "Progress note")
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
AUDIT_ACTION_SYSTEM = "audit-action"  # our AuditAction values, e.g. "patient.read"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"

# The HL7 Physical Activity IG's exercise prescription (PAServiceRequest, its example
# Scen1ExerciseRx): category PhysicalActivity from the IG's temporary codes, the Goal it pertains
# to in the core extension, the patient as performer.
PA_TEMPORARY_CODES = "http://hl7.org/fhir/us/physical-activity/CodeSystem/pa-temporary-codes"
PERTAINS_TO_GOAL = "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal"
