"""Writes through the FHIR door: a Patient from a clinic system creates or updates our patient
record, through the services the REST API's patient create and update use (their rules, their
audit, the deferred work they record), never around them.

A Patient is read with fhir.resources' R4B model: a body that is not a valid Patient is a 400
naming the element. It is then mapped the way resources.patient_resource maps ours to a Patient,
so what is written reads back the same: the record number under the clinic's identifier system,
the official name, the birth date, the first phone and e-mail, and the condition in our
extension. A rule of ours (a family name, a birth date not in the future, a record number no
other patient of the clinic has) is a 422 naming the element. Elements we do not store (gender,
address, other identifiers...) are ignored, as FHIR lets a server do, and said: the
CapabilityStatement lists what Patient keeps, and `Prefer: return=OperationOutcome` answers with
one informational issue per element ignored.

An update replaces what the Patient carries, as FHIR's update does: a telecom or record number
left out is removed. What a Patient cannot say (the time zone, the reminder preferences) is
kept; so is the condition when the extension is left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError
from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import ValidationError

from rehab import services
from rehab.access import Principal
from rehab.clinical import levels as L
from rehab.errors import ErrorCode, RehabError
from rehab.fhir import codes
from rehab.fhir.errors import FhirRefused, issue
from rehab.models import Patient


@dataclass(frozen=True)
class Writable:
    """A resource type the door writes, declared beside the registry: the views route these
    interactions and the CapabilityStatement declares them, from this one place."""

    name: str
    interactions: tuple[str, ...]  # FHIR's TypeRestfulInteraction codes: create, update
    conditional_create: bool
    conditional_update: bool
    documentation: str  # may name {condition_extension}, filled in by the CapabilityStatement


# The Patient elements we keep; any other is ignored (and said, see the module's docstring).
PATIENT_STORED = ("identifier", "name", "telecom", "birthDate", "active", "extension")
# Elements every resource may carry that a write needs no word about: its type, its id (checked
# against the URL), and meta, text and managingOrganization, which we make ourselves on read.
PATIENT_SILENT = ("resourceType", "id", "meta", "text", "managingOrganization")

WRITES: dict[str, Writable] = {
    "Patient": Writable(
        name="Patient",
        interactions=("create", "update"),
        conditional_create=True,
        conditional_update=True,
        documentation="Writes keep: the record number (identifier under the clinic's "
        "record-number system; our patient-id identifier, when sent, must be the patient's "
        "own), the official name (family, given), birthDate (a full date, not in the future), "
        "the first phone and e-mail of telecom, and the condition in the extension "
        "{condition_extension} (required to create). "
        "Other elements (gender, address, other identifiers...) are ignored: "
        "Prefer: return=OperationOutcome lists them. An update replaces what Patient carries; "
        "the time zone and reminder preferences, which it cannot carry, are kept. active false "
        "is refused: archive a patient in Retrowalk or with the REST API.",
    ),
}


@dataclass(frozen=True)
class PatientInput:
    """A Patient resource as the services' fields, with what it said that we do not keep."""

    resource_id: str | None
    fields: dict[str, Any]
    condition: str | None
    our_ids: tuple[str, ...]  # values of identifiers under our patient-id system
    ignored: tuple[str, ...] = field(default=())

    @property
    def record_number(self) -> str:
        return self.fields["external_id"]


# A service's field -> the element of Patient it comes from, for the issue's expression.
FIELD_ELEMENTS = {
    "first_name": "Patient.name.given",
    "last_name": "Patient.name.family",
    "date_of_birth": "Patient.birthDate",
    "email": "Patient.telecom.where(system='email')",
    "phone": "Patient.telecom.where(system='phone')",
    # Text-message reminders need a phone: removing it is refused on the phone.
    "reminder_channel": "Patient.telecom.where(system='phone')",
    "external_id": "Patient.identifier",
}


def _condition_element() -> str:
    return f"Patient.extension('{codes.patient_condition_extension()}')"


def _element(field: str) -> str | None:
    return _condition_element() if field == "condition" else FIELD_ELEMENTS.get(field)


def _expression(loc: tuple[Any, ...]) -> str:
    """pydantic's location of an error -> the element's FHIRPath, `Patient.name[0].family`."""
    path = "Patient"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += "." + str(part).removesuffix("__ext")
    return path


def _parse(data: Any) -> FhirPatient:
    if not isinstance(data, dict) or data.get("resourceType") != "Patient":
        kind = data.get("resourceType") if isinstance(data, dict) else None
        raise FhirRefused(
            400,
            [
                issue(
                    "invalid",
                    f"Expected a Patient resource, got {kind or 'no resourceType'}.",
                    "Patient.resourceType" if isinstance(data, dict) else None,
                )
            ],
        )
    try:
        return FhirPatient.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_url=False):
            code = "structure" if error["type"] == "extra_forbidden" else "value"
            message = "Not an element of Patient." if code == "structure" else error["msg"]
            issues.append(issue(code, message, _expression(error["loc"])))
        raise FhirRefused(400, issues) from None


def _condition(resource: FhirPatient, refusals: list[dict]) -> str | None:
    url = codes.patient_condition_extension()
    ours = [ext for ext in resource.extension or [] if ext.url == url]
    if not ours:
        return None
    where = _condition_element()
    concept = ours[0].valueCodeableConcept
    if len(ours) > 1 or concept is None:
        refusals.append(
            issue("value", "Give the condition once, as a valueCodeableConcept.", where)
        )
        return None
    from_snomed = {code: condition for condition, (code, _) in codes.CONDITION_SNOMED.items()}
    system = codes.local_system(codes.CONDITION_SYSTEM)
    for coding in concept.coding or []:
        if coding.system == system and coding.code in L.CONDITIONS:
            return coding.code
        if coding.system == codes.SNOMED and coding.code in from_snomed:
            return from_snomed[coding.code]
    refusals.append(
        issue(
            "code-invalid",
            f"Not a condition we treat: code it in {system} "
            f"({', '.join(L.CONDITIONS)}) or SNOMED CT "
            f"({', '.join(from_snomed)}).",
            where,
        )
    )
    return None


def patient_input(data: Any, *, principal: Principal) -> PatientInput:
    """The body of a create or update as the services' fields: a 400 when it is not a valid
    Patient, a 422 when it breaks a rule of ours that needs no look-up."""
    resource = _parse(data)
    refusals: list[dict] = []
    ignored = [
        f"Patient.{name.lstrip('_')}"
        for name in data
        if name.lstrip("_") not in PATIENT_STORED + PATIENT_SILENT
    ]

    record_numbers, our_ids = [], []
    record_system = codes.record_number_system(principal.clinic.slug)
    # Every clinic's record numbers are under this prefix (codes.record_number_system).
    clinic_systems = f"{codes.system_base()}/sid/clinic/"
    for index, identifier in enumerate(resource.identifier or []):
        where = f"Patient.identifier[{index}]"
        if identifier.system == record_system:
            record_numbers.append((where, identifier.value))
        elif identifier.system == codes.patient_id_system():
            our_ids.append(identifier.value)
        elif (identifier.system or "").startswith(clinic_systems):
            refusals.append(
                issue(
                    "business-rule",
                    "This is another clinic's record-number system: give the record number "
                    f"under {record_system}.",
                    f"{where}.system",
                )
            )
        else:
            ignored.append(where)
    for where, value in record_numbers:
        if not value:
            refusals.append(issue("required", "Give the record number's value.", f"{where}.value"))
    if len(record_numbers) > 1:
        refusals.append(
            issue(
                "business-rule",
                f"A patient has one record number: give one identifier under {record_system}.",
                record_numbers[1][0],
            )
        )

    names = [name for name in resource.name or [] if name.use not in ("old", "anonymous")]
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    first_name = last_name = ""
    if name is None:
        refusals.append(issue("required", "Give the patient's name.", "Patient.name"))
    else:
        at = f"Patient.name[{(resource.name or []).index(name)}]"
        last_name = (name.family or "").strip()
        first_name = " ".join(given.strip() for given in name.given or [] if given.strip())
        if not last_name:
            refusals.append(issue("required", "Give the family name.", f"{at}.family"))
        if not first_name:
            refusals.append(issue("required", "Give a given name.", f"{at}.given"))
        ignored += [f"{at}.{part}" for part in ("prefix", "suffix", "text") if getattr(name, part)]
        ignored += [
            f"Patient.name[{index}]"
            for index, other in enumerate(resource.name or [])
            if other is not name
        ]

    telecom = {"email": "", "phone": ""}
    for index, point in enumerate(resource.telecom or []):
        if point.system in telecom and not telecom[point.system] and point.value:
            telecom[point.system] = point.value.strip()
        else:
            ignored.append(f"Patient.telecom[{index}]")

    birth_date = resource.birthDate
    if birth_date is not None and not isinstance(birth_date, dt.date):
        refusals.append(
            issue("value", "Give the full date of birth (YYYY-MM-DD).", "Patient.birthDate")
        )
        birth_date = None

    if resource.active is False:
        refusals.append(
            issue(
                "business-rule",
                "Archiving a patient is not done through FHIR: archive them in Retrowalk or "
                "with POST /api/v1/patients/{id}/archive/.",
                "Patient.active",
            )
        )
    if resource.modifierExtension:
        refusals.append(
            issue(
                "not-supported",
                "We understand no modifier extension, so we cannot keep this resource.",
                "Patient.modifierExtension",
            )
        )
    condition = _condition(resource, refusals)
    ignored += [
        f"Patient.extension[{index}]"
        for index, ext in enumerate(resource.extension or [])
        if ext.url != codes.patient_condition_extension()
    ]
    if refusals:
        raise FhirRefused(422, refusals)
    return PatientInput(
        resource_id=resource.id,
        fields={
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": birth_date,
            "email": telecom["email"],
            "phone": telecom["phone"],
            "external_id": record_numbers[0][1] if record_numbers else "",
        },
        condition=condition,
        our_ids=tuple(our_ids),
        ignored=tuple(ignored),
    )


def ignored_issues(data: PatientInput) -> list[dict]:
    """What a write kept and what it left out, as informational issues."""
    if not data.ignored:
        return [issue("informational", "Every element was stored.", severity="information")]
    return [
        issue(
            "informational",
            "Not stored: this server does not keep this element; it was ignored.",
            element,
            severity="information",
        )
        for element in data.ignored
    ]


def _refused(exc: RehabError) -> FhirRefused:
    """A service's refusal as the FHIR door says it: a rule on the fields is a 422 naming each
    element, a conflict with the record's state (an archived patient, an open plan) a 409."""
    if exc.code != ErrorCode.VALIDATION_ERROR:
        where = next((_element(name) for name in exc.fields), None)
        return FhirRefused(exc.status, [issue("conflict", exc.message, where)])
    issues = [
        issue("business-rule", message, _element(name))
        for name, messages in exc.fields.items()
        for message in messages
    ]
    return FhirRefused(422, issues or [issue("business-rule", exc.message)])


_RACE = FhirRefused(
    409,
    [
        issue(
            "conflict",
            "Another request wrote a patient with this record number at the same moment; send "
            "this one again.",
            "Patient.identifier",
        )
    ],
)


def patient_create_from(*, principal: Principal, data: PatientInput) -> Patient:
    if data.condition is None:
        raise FhirRefused(
            422,
            [
                issue(
                    "required",
                    "Give the condition the patient is treated for, in the extension "
                    f"{codes.patient_condition_extension()}.",
                    _condition_element(),
                )
            ],
        )
    if data.our_ids:
        raise FhirRefused(
            422,
            [
                issue(
                    "business-rule",
                    "Our patient ids are given by this server; leave the identifier under "
                    f"{codes.patient_id_system()} out of a new patient.",
                    "Patient.identifier",
                )
            ],
        )
    try:
        return services.patient_create(
            clinic=principal.clinic,
            actor=principal.actor,
            condition=data.condition,
            **data.fields,
        )
    except RehabError as exc:
        raise _refused(exc) from None
    except IntegrityError:
        # Two writes of one new record number at once: the constraint keeps one.
        raise _RACE from None


def patient_update_from(*, principal: Principal, patient: Patient, data: PatientInput) -> Patient:
    if any(value != str(patient.pk) for value in data.our_ids):
        raise FhirRefused(
            422,
            [
                issue(
                    "business-rule",
                    f"The identifier under {codes.patient_id_system()} is this patient's id, "
                    f"{patient.pk}; it cannot change.",
                    "Patient.identifier",
                )
            ],
        )
    changes = dict(data.fields)
    if data.condition is not None:
        changes["condition"] = data.condition
    try:
        return services.patient_update(patient=patient, actor=principal.actor, **changes)
    except RehabError as exc:
        raise _refused(exc) from None
    except IntegrityError:
        raise _RACE from None
