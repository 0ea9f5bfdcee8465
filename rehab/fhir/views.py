"""The FHIR door's interactions: metadata, read, search, Patient/$everything. Thin, as the API's
views: the registry says where rows come from (selectors scoped by the acting principal) and how
they become resources; these parse, page, audit and render."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from rehab import selectors
from rehab.access import Principal
from rehab.api.auth import principal_of
from rehab.audit import AuditAction, audit_reads_by_ref
from rehab.fhir import errors, search
from rehab.fhir.capability import capability_statement
from rehab.fhir.everything import patient_everything, searchset
from rehab.fhir.registry import REGISTRY, ResourceType

MEDIA_TYPE = "application/fhir+json"
# Parameters of every search that are not search parameters of a type: the page size, our
# paging cursor, and the format a client may name (we have one).
RESULT_PARAMS = frozenset({"_count", "_cursor", "_format"})


class FhirJSONRenderer(BaseRenderer):
    media_type = MEDIA_TYPE
    format = "json"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        # fhir.resources writes FHIR's JSON itself (its primitives, no empty elements).
        return data.model_dump_json().encode()


class FhirContentNegotiation(BaseContentNegotiation):
    """One format, whatever the Accept header says (application/json, */*, or none): a client
    asking for JSON gets FHIR's JSON, not a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class HasPrincipal(BasePermission):
    """Someone with a clinic (an API key, a clinician) or a patient record: what each sees is the
    selectors' scope, so a patient's token reads only their own resources."""

    message = "This account has no clinic or patient record to act on."

    def has_permission(self, request, view) -> bool:
        return principal_of(request) is not None


class FhirView(APIView):
    # Not in the REST API's OpenAPI schema: the CapabilityStatement describes this door.
    schema = None
    renderer_classes = [FhirJSONRenderer]
    content_negotiation_class = FhirContentNegotiation
    permission_classes = [HasPrincipal]

    def get_exception_handler(self):
        return errors.exception_handler

    @property
    def principal(self) -> Principal:
        return principal_of(self.request)

    def base_url(self) -> str:
        return self.request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")

    def resource_type(self, name: str) -> ResourceType:
        rt = REGISTRY.get(name)
        if rt is None:
            raise errors.FhirNotFound(
                f"This server does not serve {name} resources; GET metadata lists those it does."
            )
        if rt.admin_only and not self.principal.is_clinic_admin:
            raise PermissionDenied(f"Only clinic administrators can read {name} resources.")
        return rt

    def audit(self, action: AuditAction, patient_ids: list[int], **detail) -> None:
        """One event for the response, naming the patients it showed (none: no event)."""
        if patient_ids:
            clinic = self.principal.clinic
            audit_reads_by_ref(
                actor=self.principal.actor,
                action=action,
                refs=[(pk, clinic.pk) for pk in patient_ids],
                detail={"via": "fhir", **detail},
                clinic=clinic,
            )

    def audit_rows(self, source: ResourceType, rows: list, **detail) -> None:
        """The response's event for the rows of one table it showed: the type's own audit, or
        one `audit_action` event naming their patients."""
        if source.audit is not None:
            source.audit(self.principal, rows, {"via": "fhir", **detail})
            return
        self.audit(source.audit_action, [source.patient_id(row) for row in rows], **detail)

    def searchset(self, found: list[Resource], links: list[dict]) -> Bundle:
        return searchset(found, links, base_url=self.base_url())


class MetadataView(FhirView):
    """The CapabilityStatement: no patient data, so no credentials needed (as FHIR expects)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(capability_statement(base_url=self.base_url()))


class ReadView(FhirView):
    def get(self, request, resource_type: str, resource_id: str):
        rt = self.resource_type(resource_type)
        if rt.definitions is not None:
            resource = next((r for r in rt.definitions() if r.id == resource_id), None)
            if resource is None:
                raise errors.FhirNotFound(f"{resource_type}/{resource_id} is not known.")
            return Response(resource)
        # The id names its table: a plain id the type's own, a suffix ("12-outcome") the one
        # whose parts hold it.
        source = next((s for s in rt.sources if s.row_id(resource_id) is not None), None)
        row = resource = None
        if source is not None:
            pk = source.row_id(resource_id)
            row = source.rows(self.principal).filter(pk=pk).first()
        if row is not None:
            built = source.build(row, self.principal)
            resource = next((r for r in built if r.id == resource_id), None)
        if resource is None:
            raise errors.FhirNotFound(f"{resource_type}/{resource_id} is not known.")
        self.audit_rows(source, [row], interaction="read", type=rt.name)
        return Response(resource)


class SearchView(FhirView):
    def get(self, request, resource_type: str):
        rt = self.resource_type(resource_type)
        params = request.query_params
        given: list[tuple[str, str]] = []
        for name in params:
            if name in RESULT_PARAMS:
                continue
            if rt.param(name) is None:
                raise search.SearchError(
                    f"{name}: not a search parameter of {rt.name} on this server; GET metadata "
                    "lists those it supports.",
                    code="not-supported",
                )
            for value in params.getlist(name):
                if not value:
                    raise search.SearchError(f"{name}: give a value.")
                given.append((name, value))
        size = search.count(
            params.getlist("_count"),
            default=settings.FHIR_PAGE_SIZE,
            maximum=settings.API_MAX_PAGE_SIZE,
        )
        start = search.cursor(params.getlist("_cursor"))
        if rt.definitions is not None:
            found, following = self._definitions(rt, given, size, start)
        else:
            found, following = self._rows(rt, given, size, start)
        links = [{"relation": "self", "url": request.build_absolute_uri()}]
        if following is not None:
            query = QueryDict(mutable=True)
            query.update(params)
            query.setlist("_cursor", [following])
            links.append(
                {"relation": "next", "url": f"{self.base_url()}{rt.name}?{query.urlencode()}"}
            )
        return Response(self.searchset(found, links))

    def _rows(
        self, rt: ResourceType, given: list[tuple[str, str]], size: int, start: search.Cursor | None
    ) -> tuple[list[Resource], str | None]:
        """A page of the type's resources, table after table (rt.sources), each in id order:
        one query per table the page reaches, and one audit event per table it showed."""
        if start is not None and start.source >= len(rt.sources):
            raise search.SearchError(search.BAD_CURSOR)
        page: list[tuple[int, object, Resource]] = []
        following = None
        for number, source in enumerate(rt.sources):
            if start is not None and number < start.source:
                continue
            rows = source.rows(self.principal)
            allowed: frozenset[str] | None = None
            for name, value in given:
                param = source.param(name)
                rows = rows.filter(param.condition(value, self.principal))
                if param.parts is not None and (parts := param.parts(value)) is not None:
                    allowed = parts if allowed is None else allowed & parts
            if allowed is not None and not allowed:
                continue  # no resource of this table can match: no query
            here = start if start is not None and number == start.source else None
            rows = rows.order_by("pk")
            if here is not None:
                rows = rows.filter(pk__gte=here.row)
            # need + 1 rows always fill the page and tell whether another follows: each row
            # gives at least one resource. One query, whatever the page size.
            need = size - len(page)
            for row, index, resource in self._resources(
                source, list(rows[: need + 1]), here, allowed
            ):
                if len(page) == size:
                    following = search.Cursor(number, row.pk, index).text()
                    break
                page.append((number, row, resource))
            if following is not None:
                break
        for number, source in enumerate(rt.sources):
            shown = [row for n, row, _ in page if n == number]
            # A type's own audit records even a page without rows (reading the audit trail).
            if shown or source.audit is not None:
                self.audit_rows(
                    source, list(dict.fromkeys(shown)), interaction="search", type=rt.name
                )
        return [resource for _, _, resource in page], following

    def _resources(
        self,
        source: ResourceType,
        rows: list,
        start: search.Cursor | None,
        allowed: frozenset[str] | None,
    ) -> Iterator[tuple[object, int, Resource]]:
        """The rows' resources in order (those of the parts allowed), built only as far as the
        page needs them; those of the cursor's row that the previous page already gave are
        skipped."""
        for row in rows:
            built = source.build(row, self.principal)
            if allowed is not None:
                built = [r for r in built if r.id.split("-", 1)[1] in allowed]
            for index, resource in enumerate(built):
                if start is not None and row.pk == start.row and index < start.skip:
                    continue
                yield row, index, resource

    def _definitions(
        self, rt: ResourceType, given: list[tuple[str, str]], size: int, start: search.Cursor | None
    ) -> tuple[list[Resource], str | None]:
        """Definitions (a handful, built from code): filtered and paged in memory, unaudited."""
        found = rt.definitions()
        for name, value in given:
            param = rt.param(name)
            found = [resource for resource in found if param.matches(value, resource)]
        offset = start.row if start is not None else 0
        following = (
            search.Cursor(0, offset + size, 0).text() if len(found) > offset + size else None
        )
        return found[offset : offset + size], following


class PatientEverythingView(FhirView):
    """GET Patient/{id}/$everything: the patient and every resource we serve about them, in one
    searchset Bundle; one audit event naming the patient."""

    def get(self, request, resource_id: str):
        principal = self.principal
        pk = REGISTRY["Patient"].row_id(resource_id)
        patient = selectors.patients_for(principal).filter(pk=pk).first() if pk else None
        if patient is None:
            raise errors.FhirNotFound(f"Patient/{resource_id} is not known.")
        bundle = patient_everything(
            principal, patient, base_url=self.base_url(), self_url=request.build_absolute_uri()
        )
        self.audit(AuditAction.PATIENT_READ, [patient.pk], interaction="everything")
        return Response(bundle)


class UnknownView(FhirView):
    """Any other path under /fhir/r4/: a 404 OperationOutcome, whatever the method."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request, *args, **kwargs):
        first = request.path_info.removeprefix(reverse("fhir:metadata").removesuffix("metadata"))
        name = first.split("/", 1)[0]
        if name[:1].isupper() and name.isalpha() and name not in REGISTRY:
            raise errors.FhirNotFound(
                f"This server does not serve {name} resources; GET metadata lists those it does."
            )
        raise errors.FhirNotFound("This server has no such FHIR endpoint; GET metadata lists them.")

    post = put = patch = delete = head = options = get


# The views of the operations the registry declares, by (type, operation).
OPERATION_VIEWS = {("Patient", "everything"): PatientEverythingView}
