"""The protocol library: list, copy into the clinic, edit the clinic's own."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action

from rehab import selectors, services
from rehab.api import serializers as s
from rehab.api.filters import ProtocolFilter
from rehab.api.views.base import ApiViewSet
from rehab.models import Protocol


@extend_schema_view(
    list=extend_schema(
        summary="List the protocol library (built-in and the clinic's own)",
        tags=["protocols"],
        description=(
            "The protocols the clinic may assign: the built-in library and the clinic's own "
            "copies, by condition and name. Staff and clinic systems only."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a protocol with its levels",
        tags=["protocols"],
        description=(
            "One protocol by id: its levels, citations, outcome measures, retest interval and "
            "progression settings. Another clinic's own protocol is a 404."
        ),
    ),
)
class ProtocolViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Protocol.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.ProtocolSerializer
    filterset_class = ProtocolFilter
    ordering_fields = ["name", "condition", "id"]
    ordering = ["condition", "name", "id"]

    def get_queryset(self):
        return selectors.protocols_for(self.principal)

    @extend_schema(
        summary="Copy a protocol into the clinic's library",
        tags=["protocols"],
        description=(
            "Copies a built-in protocol or one of the clinic's own into the clinic's library, "
            "under a new name if one is given, so it can be edited."
        ),
        request=s.ProtocolCopySerializer,
        responses={201: s.ProtocolSerializer},
    )
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        data = self.parse(s.ProtocolCopySerializer)
        copy = services.protocol_copy(
            protocol=self.get_object(),
            clinic=self.principal.clinic,
            actor=self.principal.actor,
            name=data.get("name"),
        )
        return self.render(copy, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit one of the clinic's own protocols (built-ins are read-only)",
        tags=["protocols"],
        description=(
            "Changes the name, summary, levels or progression settings of one of the clinic's own "
            "protocols. Built-in protocols are read-only (403 protocol_read_only: copy one and "
            "edit the copy); plans already assigned keep the levels they were assigned with."
        ),
        request=s.ProtocolUpdateSerializer,
        responses=s.ProtocolSerializer,
    )
    def partial_update(self, request, pk=None):
        protocol = self.get_object()
        data = self.parse(s.ProtocolUpdateSerializer)
        if "levels" in data:
            data["levels"] = [dict(level) for level in data["levels"]]
        updated = services.protocol_update(protocol=protocol, actor=self.principal.actor, **data)
        return self.render(updated)
