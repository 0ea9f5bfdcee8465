"""Outcome measures: record a questionnaire, change against the baseline."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from rehab import selectors, services
from rehab.api import serializers as s
from rehab.api.filters import OutcomeFilter
from rehab.api.views.base import ApiViewSet
from rehab.audit import AuditAction
from rehab.models import OutcomeScore, Patient


@extend_schema_view(
    list=extend_schema(
        summary="List outcome scores",
        tags=["outcomes"],
        description=(
            "Questionnaire scores, the latest first, filtered by patient and measure. A patient "
            "sees their own. The read is audited."
        ),
    ),
    retrieve=extend_schema(
        summary="Get an outcome score",
        tags=["outcomes"],
        description=(
            "One outcome score by id, with its answers and scores. Another clinic's score is a "
            "404. The read is audited."
        ),
    ),
)
class OutcomeViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = OutcomeScore.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.OutcomeSerializer
    filterset_class = OutcomeFilter
    ordering_fields = ["taken_on", "id"]
    ordering = ["-taken_on", "-id"]
    patient_actions = frozenset({"list", "retrieve", "create", "changes"})
    read_action = AuditAction.OUTCOME_READ

    def get_queryset(self):
        return selectors.outcomes_for(self.principal)

    @extend_schema(
        summary="Submit questionnaire answers; the scores are in the response",
        tags=["outcomes"],
        description=(
            "Scores a patient's answers to one questionnaire and records them; the scores are in "
            "the response. `taken_on` is the patient's local date (today when left out). A patient"
            " may record their own."
        ),
        request=s.OutcomeCreateSerializer,
        responses={201: s.OutcomeSerializer},
    )
    def create(self, request):
        data = self.parse(
            s.OutcomeCreateSerializer, patients=selectors.patients_for(self.principal)
        )
        record = services.outcome_record(actor=self.principal.actor, **data)
        return self.render(record, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change of a measure's latest score against the baseline (first)",
        tags=["outcomes"],
        description=(
            "For one patient and one measure, per subscale: the latest score against the first "
            "(the baseline), the improvement and whether it passes the measure's meaningful-change"
            " threshold. Not paged. Another clinic's patient is a 404. The read is audited."
        ),
        parameters=[s.OutcomeChangeQuerySerializer],
        responses=s.OutcomeChangeSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def changes(self, request):
        query = s.OutcomeChangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        patient = (
            selectors.patients_for(self.principal)
            .filter(pk=query.validated_data["patient"])
            .first()
        )
        if patient is None:
            raise NotFound("No such patient.")
        self._audit([patient])
        changes = selectors.outcome_changes(
            patient=patient, measure=query.validated_data["measure"]
        )
        return Response([change.to_dict() for change in changes])

    def patient_of(self, obj):
        return obj if isinstance(obj, Patient) else obj.patient
