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
from rehab.audit import AuditAction
from rehab.models import Plan, ProgressionDecision


@extend_schema_view(
    list=extend_schema(
        summary="List plans",
        tags=["plans"],
        description=(
            "Plans, newest first, each with its status, current level (numbered from 1), today's "
            "prescription capped to the screening's constraints, and every level. A patient sees "
            "their own. The read is audited."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a plan: current level with caps and every level",
        tags=["plans"],
        description=(
            "One plan by id: its status, current level and prescription with each cap in words, "
            "and every level of its protocol snapshot. Another clinic's plan is a 404. The read is"
            " audited."
        ),
    ),
)
class PlanViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Plan.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.PlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ["-created_at", "-id"]
    patient_actions = frozenset({"list", "retrieve"})
    read_action = AuditAction.PLAN_READ

    def get_queryset(self):
        return selectors.plans_for(self.principal)

    @extend_schema(
        summary="Assign a protocol (needs a valid screening that allows it)",
        tags=["plans"],
        description=(
            "Assigns a protocol to a patient as a new plan, its levels copied so later edits of "
            "the protocol never change it. Needs a valid screening that allows the protocol (409 "
            "screening_required, screening_blocked; a clinician may override a blocked one with "
            "`override_reason` where the referral allows it) and no other open plan (409 "
            "plan_already_open). With an Idempotency-Key a retry returns the first response."
        ),
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
        description=(
            "Turns the automatic application of progression decisions on or off (`auto_apply`); "
            "off, each suggested decision waits for a clinician's approval. Staff and clinic "
            "systems only."
        ),
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
        description=(
            "Pauses an active plan from the patient's today, with an optional reason: its days are"
            " paused, never missed, until it resumes. A plan that is not active is a 409."
        ),
        request=s.ReasonSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._act(services.plan_pause, s.ReasonSerializer)

    @extend_schema(
        summary="Resume a paused plan (needs a valid screening again)",
        tags=["plans"],
        description=(
            "Resumes a paused plan. It needs a valid screening again (a fall invalidates the old "
            "one, so a patient who fell is screened again), or an `override_reason` where a "
            "clinician may override. A plan that is not paused is a 409."
        ),
        request=s.PlanResumeSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._act(services.plan_resume, s.PlanResumeSerializer)

    @extend_schema(
        summary="Complete a plan",
        tags=["plans"],
        description=(
            "Ends an active or paused plan as completed, with an optional reason. An ended plan is"
            " a 409."
        ),
        request=s.ReasonSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._act(services.plan_complete, s.ReasonSerializer)

    @extend_schema(
        summary="Discontinue a plan",
        tags=["plans"],
        description=(
            "Ends an active or paused plan before its course is through; the reason is required. "
            "An ended plan is a 409."
        ),
        request=s.PlanDiscontinueSerializer,
        responses=s.PlanSerializer,
    )
    @action(detail=True, methods=["post"])
    def discontinue(self, request, pk=None):
        return self._act(services.plan_discontinue, s.PlanDiscontinueSerializer)

    @extend_schema(
        summary="Move a plan to another level (recorded as a decision)",
        tags=["plans"],
        description=(
            "Moves an active plan to another level (numbered from 1) with a reason, recorded as an"
            " applied progression decision. A plan that is not active is a 409 plan_not_active."
        ),
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
    list=extend_schema(
        summary="List progression decisions",
        tags=["decisions"],
        description=(
            "Progression decisions, newest first: each evaluation's outcome (advance, hold, "
            "regress or pause), its reasons in words and codes, its levels, and whether it was "
            "applied or awaits approval. A patient sees those on their own plans. The read is "
            "audited."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a progression decision with its reasons",
        tags=["decisions"],
        description=(
            "One progression decision by id, with every reason (code, words and the outcome it "
            "argues for). Another clinic's decision is a 404. The read is audited."
        ),
    ),
)
class DecisionViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = ProgressionDecision.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.DecisionSerializer
    filterset_class = DecisionFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    patient_actions = frozenset({"list", "retrieve"})
    read_action = AuditAction.DECISION_READ

    def get_queryset(self):
        return selectors.decisions_for(self.principal)

    def patient_of(self, obj):
        return obj.plan.patient

    @extend_schema(
        summary="Approve a decision awaiting approval",
        tags=["decisions"],
        description=(
            "Applies a suggested decision that awaits approval, with an optional note. Sessions "
            "logged since and not yet evaluated are judged first: if one replaces the suggestion, "
            "the approval is refused (409 decision_not_pending) and the new decision kept. Staff "
            "and clinic systems only."
        ),
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
        description=(
            "Declines a suggested decision that awaits approval, with an optional note; the plan "
            "stays at its level. A decision no longer awaiting approval is a 409 "
            "decision_not_pending. Staff and clinic systems only."
        ),
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
