"""What every API view shares: the id pattern, the Idempotency-Key header, ApiViewSet."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework import status, viewsets
from rest_framework.response import Response

from rehab.access import Principal
from rehab.api.auth import principal_of
from rehab.audit import audit_reads
from rehab.models import Patient

# Up to 18 digits: every id the database can hold, and nothing that would overflow its integer
# type on the way in (a 500 on PostgreSQL) rather than simply not be found.
ID = r"[0-9]{1,18}"
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (e.g. a UUID): a retry with the same key and body returns the "
    "first response instead of creating again.",
)


class ApiViewSet(viewsets.GenericViewSet):
    """Shared behaviour: the principal, scoped querysets, audited reads."""

    lookup_value_regex = ID
    # What a patient's own login may do here (on their own rows); staff may do everything.
    patient_actions: frozenset[str] = frozenset()
    read_action = ""  # the audit action of a read of this resource's patient data

    @property
    def principal(self) -> Principal:
        return principal_of(self.request)

    def patient_of(self, obj) -> Patient:
        return obj.patient

    def _audit(self, objects) -> None:
        if self.read_action and objects:
            audit_reads(
                actor=self.principal.actor,
                action=self.read_action,
                patients=[self.patient_of(obj) for obj in objects],
                clinic=self.principal.clinic,
            )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self._audit(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        self._audit([obj])
        return Response(self.get_serializer(obj).data)

    def render(self, obj, *, serializer_class=None, status_code=status.HTTP_200_OK) -> Response:
        serializer_class = serializer_class or self.get_serializer_class()
        return Response(
            serializer_class(obj, context=self.get_serializer_context()).data, status=status_code
        )

    def parse(self, serializer_class, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
