"""The FHIR door's writes of Patient: create (POST, conditional with If-None-Exist), update by id
(PUT Patient/{id}) and conditional update by identifier (PUT Patient?identifier=system|value).
They share the read routes, so each view is the read one with the writes added; a type not in
write.WRITES keeps the read views and answers a write with a 405.

The clinic's staff and systems write (as the REST API's patient create and update); a patient's
token gets a 403. The body is application/fhir+json or application/json (another: 415); write.py
maps it to the services, which check, write and audit."""

from __future__ import annotations

from django.http import QueryDict
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from rehab import selectors
from rehab.api.auth import principal_of
from rehab.api.parsers import JSONParser
from rehab.audit import AuditAction
from rehab.fhir import codes, resources, search, write
from rehab.fhir.errors import FhirNotFound, FhirRefused, issue
from rehab.fhir.registry import REGISTRY
from rehab.fhir.views import MEDIA_TYPE, HasPrincipal, ReadView, SearchView
from rehab.models import Patient


class FhirJSONParser(JSONParser):
    media_type = MEDIA_TYPE


class WriteNegotiation(DefaultContentNegotiation):
    """The body's parser by its Content-Type (none matching: a 415); the answer, as every
    answer of the door, FHIR's JSON whatever Accept says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class StaffWrite(HasPrincipal):
    """Anyone with a principal reads (each within their scope); only the clinic's staff and
    systems write: a patient's own token changes no record through this door."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        # A method the view does not take is its 405, for everyone, decided before any lookup.
        takes = hasattr(view, request.method.lower())
        if request.method in SAFE_METHODS or not takes or principal_of(request).is_staff:
            return True
        self.message = "A patient's login cannot change records through this door."
        return False


class PatientWriteMixin:
    parser_classes = [FhirJSONParser, JSONParser]
    content_negotiation_class = WriteNegotiation
    permission_classes = [StaffWrite]

    def patient_input(self) -> write.PatientInput:
        return write.patient_input(self.request.data, principal=self.principal)

    def matches(self, value: str) -> list[Patient]:
        """The clinic's patients an identifier token matches, as the identifier search finds
        them (only the acting clinic's, so another clinic's patient is never touched). Two at
        most: more is no different from two."""
        condition = REGISTRY["Patient"].param("identifier").condition(value, self.principal)
        return list(selectors.patients_for(self.principal).filter(condition).order_by("pk")[:2])

    def condition_value(self, query: QueryDict, where: str) -> str:
        """The one identifier of a conditional write's search; any other parameter is refused,
        as the search refuses it."""
        names = set(query) - {"_format"}
        values = query.getlist("identifier")
        if names != {"identifier"} or len(values) != 1 or not values[0]:
            raise FhirRefused(
                400,
                [
                    issue(
                        "not-supported",
                        f"{where}: give one identifier=system|value and nothing else; a "
                        "conditional write of Patient matches on the identifier only.",
                    )
                ],
            )
        return values[0]

    def require_matching(self, data: write.PatientInput, value: str) -> None:
        """A patient created by a conditional write must match its condition, or the same
        request sent again would create another one. We keep only the record number."""
        system, code = search.token(value)
        ours = system in (None, codes.record_number_system(self.principal.clinic.slug))
        if not ours or data.record_number != code:
            raise FhirRefused(
                400,
                [
                    issue(
                        "invalid",
                        f"No patient matches {value}, and the Patient sent would not match it "
                        "once created: send the record number under the clinic's "
                        "record-number system, the one the condition names.",
                        "Patient.identifier",
                    )
                ],
            )

    def answer(self, patient: Patient, data: write.PatientInput, *, created: bool) -> Response:
        """201 with Location for a create, 200 for an update; the body as Prefer asks: the
        resource (return=representation, the default), none (return=minimal), or what was and
        was not stored (return=OperationOutcome)."""
        prefer = self.request.headers.get("Prefer", "")
        body = resources.patient_resource(patient, clinic=self.principal.clinic)
        if "return=minimal" in prefer:
            body = None
        elif "return=OperationOutcome" in prefer:
            body = OperationOutcome(issue=write.ignored_issues(data))
        response = Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        if created:
            response["Location"] = f"{self.base_url()}Patient/{patient.pk}"
        return response

    def create(self, data: write.PatientInput) -> Response:
        patient = write.patient_create_from(principal=self.principal, data=data)
        return self.answer(patient, data, created=True)

    def update(self, patient: Patient, data: write.PatientInput) -> Response:
        patient = write.patient_update_from(principal=self.principal, patient=patient, data=data)
        return self.answer(patient, data, created=False)


def _several(value: str) -> FhirRefused:
    return FhirRefused(
        412,
        [
            issue(
                "multiple-matches",
                f"More than one patient matches {value}: name the system "
                "(system|value) or update by id.",
            )
        ],
    )


class PatientTypeView(PatientWriteMixin, SearchView):
    """GET Patient?…: search. POST Patient: create; with If-None-Exist: identifier=…, only when
    none matches (one does: 200 with it, nothing written; several: 412). PUT Patient?identifier=…:
    none matches, create (201); one, update it (200); several, 412."""

    def post(self, request, resource_type: str):
        data = self.patient_input()
        header = request.headers.get("If-None-Exist")
        if header is not None:
            value = self.condition_value(QueryDict(header), "If-None-Exist")
            found = self.matches(value)
            if len(found) > 1:
                raise _several(value)
            if found:
                # Nothing written: the answer shows the patient, so it is a read, audited.
                patient = found[0]
                self.audit(AuditAction.PATIENT_READ, [patient.pk], interaction="create-exists")
                return Response(resources.patient_resource(patient, clinic=self.principal.clinic))
            self.require_matching(data, value)
        return self.create(data)

    def put(self, request, resource_type: str):
        value = self.condition_value(request.query_params, "PUT Patient?…")
        data = self.patient_input()
        found = self.matches(value)
        if len(found) > 1:
            raise _several(value)
        if not found:
            self.require_matching(data, value)
            return self.create(data)
        patient = found[0]
        if data.resource_id not in (None, str(patient.pk)):
            raise FhirRefused(
                400,
                [
                    issue(
                        "invalid",
                        f"The Patient's id, {data.resource_id}, is not the id of the patient "
                        f"{value} matches ({patient.pk}).",
                        "Patient.id",
                    )
                ],
            )
        return self.update(patient, data)


class PatientInstanceView(PatientWriteMixin, ReadView):
    """GET Patient/{id}: read. PUT Patient/{id}: update; the body's id must be the URL's. An id
    that is not one of the clinic's patients is a 404 (we do not create with a client's id)."""

    def put(self, request, resource_type: str, resource_id: str):
        pk = REGISTRY["Patient"].row_id(resource_id)
        patient = selectors.patients_for(self.principal).filter(pk=pk).first() if pk else None
        if patient is None:
            raise FhirNotFound(f"Patient/{resource_id} is not known.")
        data = self.patient_input()
        if data.resource_id != resource_id:
            raise FhirRefused(
                400,
                [
                    issue(
                        "invalid",
                        f"The Patient's id must be the URL's, {resource_id}.",
                        "Patient.id",
                    )
                ],
            )
        return self.update(patient, data)


# The views of the types write.WRITES declares, by type: (the type's, one resource's).
WRITE_VIEWS = {"Patient": (PatientTypeView, PatientInstanceView)}
