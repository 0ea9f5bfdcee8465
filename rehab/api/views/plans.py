"""Plans and their state changes, and the progression decisions taken on them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action

from rehab import selectors, services
from rehab.api import serializers as s
from rehab.api.filters import DecisionFilter, PlanFilter
from rehab.api.idempotency import idempotent
from rehab.api.views.base import IDEMPOTENCY_HEADER, ApiViewSet
from rehab.models import Plan, ProgressionDecision


@extend_schema_view(
    list=extend_schema(summary="List plans", tags=["plans"]),
    retrieve=extend_schema(
        summary="Get a plan: current level with caps and every level", tags=["plans"]
    ),
)
class PlanViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Plan.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.PlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ["-created_at", "-id"]
    patient_actions = frozenset({"list", "retrieve"})
    read_action = "plan.read"

    def get_queryset(self):
        return selectors.plans_for(self.principal)

    @extend_schema(
        summary="Assign a protocol (needs a valid screening that allows it)",
        tags=["plans"],
        request=s.PlanCreateSerializer,
        responses={201: s.PlanSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        def handler():
            data = self.parse(
                s.PlanCreateSerializer,
                patients=selectors.patients_for(self.principal),
                protocols=selectors.protocols_for(self.principal),
            )
            plan = services.plan_assign(actor=self.principal.actor, **data)
            return self.render(plan, status_code=status.HTTP_201_CREATED)

        return idempotent(request, self.principal, handler)

    @extend_schema(
        summary="Change a plan's settings",
        tags=["plans"],
        request=s.PlanUpdateSerializer,
        responses=s.PlanSerializer,
    )
    def partial_update(self, request, pk=None):
        plan = self.get_object()
        data = self.parse(s.PlanUpdateSerializer)
        return self.render(
            services.plan_set_auto_apply(plan=plan, actor=self.principal.actor, **data)
        )

    def _act(self, service, input_serializer):
        """A state change of the plan: parse its input, call the service, show the plan."""
        plan = self.get_object()
        data = self.parse(input_serializer)
        return self.render(service(plan=plan, actor=self.principal.actor, **data))

    @extend_schema(
        summary="Pause a plan",
        tags=["plans"],
        request=s.ReasonSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._act(services.plan_pause, s.ReasonSerializer)

    @extend_schema(
        summary="Resume a paused plan (needs a valid screening again)",
        tags=["plans"],
        request=s.PlanResumeSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._act(services.plan_resume, s.PlanResumeSerializer)

    @extend_schema(
        summary="Complete a plan",
        tags=["plans"],
        request=s.ReasonSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._act(services.plan_complete, s.ReasonSerializer)

    @extend_schema(
        summary="Discontinue a plan",
        tags=["plans"],
        request=s.PlanDiscontinueSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"])
    def discontinue(self, request, pk=None):
        return self._act(services.plan_discontinue, s.PlanDiscontinueSerializer)

    @extend_schema(
        summary="Move a plan to another level (recorded as a decision)",
        tags=["plans"],
        request=s.PlanSetLevelSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"], url_path="set-level")
    def set_level(self, request, pk=None):
        plan = self.get_object()
        data = self.parse(s.PlanSetLevelSerializer)
        services.plan_set_level(
            plan=plan, level=data["level"] - 1, reason=data["reason"], actor=self.principal.actor
        )
        plan.refresh_from_db()
        return self.render(plan)


@extend_schema_view(
    list=extend_schema(summary="List progression decisions", tags=["decisions"]),
    retrieve=extend_schema(
        summary="Get a progression decision with its reasons", tags=["decisions"]
    ),
)
class DecisionViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = ProgressionDecision.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.DecisionSerializer
    filterset_class = DecisionFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    patient_actions = frozenset({"list", "retrieve"})
    read_action = "decision.read"

    def get_queryset(self):
        return selectors.decisions_for(self.principal)

    def patient_of(self, obj):
        return obj.plan.patient

    @extend_schema(
        summary="Approve a decision awaiting approval",
        tags=["decisions"],
        request=s.NoteSerializer,
        responses=s.DecisionSerializer,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        decision = self.get_object()
        data = self.parse(s.NoteSerializer)
        return self.render(
            services.decision_approve(
                decision=decision, note=data["note"], actor=self.principal.actor
            )
        )

    @extend_schema(
        summary="Reject a decision awaiting approval",
        tags=["decisions"],
        request=s.NoteSerializer,
        responses=s.DecisionSerializer,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        decision = self.get_object()
        data = self.parse(s.NoteSerializer)
        return self.render(
            services.decision_reject(
                decision=decision, note=data["note"], actor=self.principal.actor
            )
        )
