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
from rehab.errors import RehabError
from rehab.models import Report


@extend_schema_view(
    list=extend_schema(summary="List progress reports", tags=["reports"]),
    retrieve=extend_schema(summary="A report's status", tags=["reports"]),
)
class ReportViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Report.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    patient_actions = frozenset({"list", "retrieve", "create", "download"})
    read_action = "report.read"

    def get_queryset(self):
        return selectors.reports_for(self.principal)

    @extend_schema(
        summary="Request a PDF progress report; a worker renders it (poll its status)",
        tags=["reports"],
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
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            409: OpenApiResponse(
                s.ErrorSerializer, description="report_not_ready or report_missing"
            ),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        report = self.get_object()
        if report.status != Report.Status.READY:
            raise RehabError(
                "report_not_ready",
                f"The report is {report.get_status_display().lower()}; download it once ready.",
                status=409,
            )
        path = services.report_path(report)
        if not path.is_file():
            raise RehabError(
                "report_missing",
                "The report's file is no longer there; request the report again.",
                status=409,
            )
        self._audit([report])
        response = FileResponse(
            path.open("rb"),
            content_type="application/pdf",
            as_attachment=True,
            filename=f"progress-report-{report.patient_id}-{report.period_end}.pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response
