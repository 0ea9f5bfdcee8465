"""Session logs: log a session, add the next morning's pain."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action

from rehab import selectors, services
from rehab.api import serializers as s
from rehab.api.filters import SessionFilter
from rehab.api.idempotency import idempotent
from rehab.api.views.base import IDEMPOTENCY_HEADER, ApiViewSet
from rehab.audit import AuditAction
from rehab.models import SessionLog


@extend_schema_view(
    list=extend_schema(
        summary="List session logs",
        tags=["sessions"],
        description=(
            "Session logs, the latest date first, each with its pain, safety signals and the "
            "decision its evaluation arrived at. A patient sees their own. The read is audited."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a session log",
        tags=["sessions"],
        description=(
            "One session log by id, with its evaluation's decision (null while pending). Another "
            "clinic's session is a 404. The read is audited."
        ),
    ),
)
class SessionViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = SessionLog.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.SessionSerializer
    filterset_class = SessionFilter
    ordering_fields = ["date", "created_at", "id"]
    ordering = ["-date", "-id"]
    patient_actions = frozenset({"list", "retrieve", "create", "next_morning_pain"})
    read_action = AuditAction.SESSION_READ

    def get_queryset(self):
        return selectors.sessions_for(self.principal)

    @extend_schema(
        summary="Log a session; a safety signal is evaluated at once (a fall pauses the plan), "
        "any other session's decision follows moments later",
        tags=["sessions"],
        description=(
            "Logs a session on an active plan, dated the patient's local day (never in the future;"
            " a second one for the same day is a 409 session_duplicate). A fall, a near fall, "
            "dizziness or high pain is evaluated before the response (a fall pauses the plan); any"
            " other session's decision follows moments later (`decision_pending`). A patient may "
            "log their own. With an Idempotency-Key a retry returns the first response."
        ),
        request=s.SessionCreateSerializer,
        responses={201: s.SessionSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        def handler():
            data = self.parse(s.SessionCreateSerializer)
            log = services.session_log(
                actor=self.principal.actor, within=selectors.plans_for(self.principal), **data
            )
            return self.render(log, status_code=status.HTTP_201_CREATED)

        return idempotent(request, self.principal, handler)

    @extend_schema(
        summary="Add the next morning's pain to a session",
        tags=["sessions"],
        description=(
            "Adds the next morning's pain (0-10) to a logged session, for the evaluation that "
            "weighs it. A patient may add it to their own sessions."
        ),
        request=s.NextMorningPainSerializer,
        responses=s.SessionSerializer,
    )
    @action(detail=True, methods=["post"], url_path="next-morning-pain")
    def next_morning_pain(self, request, pk=None):
        session = self.get_object()
        data = self.parse(s.NextMorningPainSerializer)
        updated = services.session_add_next_morning_pain(
            session=session, pain=data["pain_next_morning"], actor=self.principal.actor
        )
        return self.render(updated)
