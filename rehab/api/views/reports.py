"""PDF progress reports: request one, poll its status, download it."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from rehab import selectors, services
from rehab.api import serializers as s
from rehab.api.filters import ReportFilter
from rehab.api.views.base import ApiViewSet
from rehab.audit import AuditAction
from rehab.models import Report


@extend_schema_view(
    list=extend_schema(
        summary="List progress reports",
        tags=["reports"],
        description=(
            "Progress reports, newest first, with their status. A patient sees the plain-language "
            "reports of their own. The read is audited."
        ),
    ),
    retrieve=extend_schema(
        summary="A report's status",
        tags=["reports"],
        description=(
            "One report by id: its status (pending, rendering, ready or failed); download it once "
            "it is ready. Another clinic's report is a 404."
        ),
    ),
)
class ReportViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Report.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    patient_actions = frozenset({"list", "retrieve", "create", "download"})
    read_action = AuditAction.REPORT_READ

    def get_queryset(self):
        return selectors.reports_for(self.principal)

    @extend_schema(
        summary="Request a PDF progress report; a worker renders it (poll its status)",
        tags=["reports"],
        description=(
            "Asks for a PDF progress report of a patient for an audience (clinician or patient). A"
            " worker renders it, so the answer is a 202 with the report pending: poll its status, "
            "then download it. A patient may ask only for the patient version of their own."
        ),
        request=s.ReportCreateSerializer,
        responses={202: s.ReportSerializer},
    )
    def create(self, request):
        data = self.parse(s.ReportCreateSerializer, patients=selectors.patients_for(self.principal))
        if not self.principal.is_staff and data["audience"] != Report.Audience.PATIENT:
            raise ValidationError({"audience": ["A patient receives the patient version."]})
        report = services.report_request(actor=self.principal.actor, **data)
        return self.render(report, status_code=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download a ready report (PDF)",
        tags=["reports"],
        description=(
            "The report's PDF as an attachment, once its status is ready (409 report_not_ready "
            "before; report_missing when the file is gone). A clinician or clinic system may "
            "download any report of the clinic, a patient only their own plain-language ones. The "
            "hand-over is audited."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The PDF, as an attachment."
            ),
            409: OpenApiResponse(
                s.ErrorSerializer, description="report_not_ready or report_missing"
            ),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        # Someone else's report (Report.DoesNotExist) and one without a file (ReportUnavailable)
        # are the exception handler's 404 and 409.
        file = services.report_download(principal=self.principal, report_id=pk)
        response = FileResponse(
            file.open(),
            content_type=file.content_type,
            as_attachment=True,
            filename=file.filename,
        )
        response["Cache-Control"] = "private, no-store"
        return response
