"""API views: parse with an input serializer, act through a service, render with an output
serializer. Querysets come from the selectors scoped by the acting principal, so another
clinic's (or another patient's) row is simply not found: a 404, never a 403 or a leak."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from rehab import selectors, services, two_step
from rehab.access import Principal, principal_for_user
from rehab.api import serializers as s
from rehab.api.auth import PersonalTokenAuthentication, principal_of
from rehab.api.filters import (
    AuditEventFilter,
    DecisionFilter,
    OutcomeFilter,
    PatientFilter,
    PlanFilter,
    ProtocolFilter,
    ReminderFilter,
    ReportFilter,
    ScreeningFilter,
    SessionFilter,
)
from rehab.api.idempotency import idempotent
from rehab.audit import audit_reads, audit_trail_read
from rehab.errors import RehabError
from rehab.models import (
    AuditEvent,
    OutcomeScore,
    Patient,
    Plan,
    ProgressionDecision,
    Protocol,
    Reminder,
    Report,
    Screening,
    SessionLog,
    User,
)

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


@extend_schema_view(
    list=extend_schema(summary="List patients", tags=["patients"]),
    retrieve=extend_schema(summary="Get a patient", tags=["patients"]),
)
class PatientViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Patient.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.PatientSerializer
    filterset_class = PatientFilter
    ordering_fields = ["last_name", "created_at", "updated_at", "id"]
    ordering = ["last_name", "first_name", "id"]
    patient_actions = frozenset({"list", "retrieve"})
    read_action = "patient.read"

    def get_queryset(self):
        return selectors.patients_for(self.principal)

    def patient_of(self, obj):
        return obj

    @extend_schema(
        summary="Create a patient",
        tags=["patients"],
        request=s.PatientCreateSerializer,
        responses={201: s.PatientSerializer},
    )
    def create(self, request):
        data = self.parse(s.PatientCreateSerializer)
        patient = services.patient_create(
            clinic=self.principal.clinic,
            actor=self.principal.actor,
            timezone_name=data.pop("timezone", None),
            **data,
        )
        return self.render(patient, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Update a patient",
        tags=["patients"],
        request=s.PatientUpdateSerializer,
        responses=s.PatientSerializer,
    )
    def partial_update(self, request, pk=None):
        patient = self.get_object()
        data = self.parse(s.PatientUpdateSerializer, partial=True)
        return self.render(
            services.patient_update(patient=patient, actor=self.principal.actor, **data)
        )

    @extend_schema(
        methods=["GET"],
        summary="A patient's clinical notes, newest first (the clinic's staff only)",
        tags=["patients"],
        responses=s.ClinicalNoteSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a dated clinical note to a patient's record",
        tags=["patients"],
        request=s.ClinicalNoteCreateSerializer,
        responses={201: s.ClinicalNoteSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def notes(self, request, pk=None):
        # Not in patient_actions: the notes are the clinic's working notes, not the patient's
        # to read (as the clinician's version of a report), so a patient's login gets a 403.
        patient = self.get_object()
        if request.method == "POST":
            data = self.parse(s.ClinicalNoteCreateSerializer)
            note = services.clinical_note_add(patient=patient, actor=self.principal.actor, **data)
            return self.render(
                note, serializer_class=s.ClinicalNoteSerializer, status_code=status.HTTP_201_CREATED
            )
        notes = selectors.clinical_notes_for(self.principal).filter(patient=patient)
        page = self.paginate_queryset(notes.order_by("-noted_on", "-created_at", "-id"))
        audit_reads(
            actor=self.principal.actor,
            action="note.read",
            patients=[patient],
            clinic=self.principal.clinic,
        )
        return self.get_paginated_response(s.ClinicalNoteSerializer(page, many=True).data)

    @extend_schema(
        summary="Archive a patient (discontinues the open plan)",
        tags=["patients"],
        request=None,
        responses=s.PatientSerializer,
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        patient = self.get_object()
        return self.render(services.patient_archive(patient=patient, actor=self.principal.actor))


@extend_schema_view(
    list=extend_schema(summary="List screenings", tags=["screenings"]),
    retrieve=extend_schema(summary="Get a screening and its verdict", tags=["screenings"]),
)
class ScreeningViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Screening.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.ScreeningSerializer
    filterset_class = ScreeningFilter
    ordering_fields = ["screened_at", "id"]
    ordering = ["-screened_at", "-id"]
    read_action = "screening.read"

    def get_queryset(self):
        return selectors.screenings_for(self.principal)

    @extend_schema(
        summary="Submit screening answers; the verdict is in the response",
        tags=["screenings"],
        request=s.ScreeningCreateSerializer,
        responses={201: s.ScreeningSerializer},
    )
    def create(self, request):
        data = self.parse(
            s.ScreeningCreateSerializer, patients=selectors.patients_for(self.principal)
        )
        screening = services.screening_submit(
            patient=data["patient"], answers=data["answers"], actor=self.principal.actor
        )
        return self.render(screening, status_code=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List the protocol library (built-in and the clinic's own)", tags=["protocols"]
    ),
    retrieve=extend_schema(summary="Get a protocol with its levels", tags=["protocols"]),
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
    list=extend_schema(summary="List session logs", tags=["sessions"]),
    retrieve=extend_schema(summary="Get a session log", tags=["sessions"]),
)
class SessionViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = SessionLog.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.SessionSerializer
    filterset_class = SessionFilter
    ordering_fields = ["date", "created_at", "id"]
    ordering = ["-date", "-id"]
    patient_actions = frozenset({"list", "retrieve", "create", "next_morning_pain"})
    read_action = "session.read"

    def get_queryset(self):
        return selectors.sessions_for(self.principal)

    @extend_schema(
        summary="Log a session; progression is evaluated at once (a fall pauses the plan)",
        tags=["sessions"],
        request=s.SessionCreateSerializer,
        responses={201: s.SessionSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        def handler():
            data = self.parse(s.SessionCreateSerializer, plans=selectors.plans_for(self.principal))
            log = services.session_log(actor=self.principal.actor, **data)
            return self.render(log, status_code=status.HTTP_201_CREATED)

        return idempotent(request, self.principal, handler)

    @extend_schema(
        summary="Add the next morning's pain to a session",
        tags=["sessions"],
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


@extend_schema_view(
    list=extend_schema(summary="List outcome scores", tags=["outcomes"]),
    retrieve=extend_schema(summary="Get an outcome score", tags=["outcomes"]),
)
class OutcomeViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = OutcomeScore.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.OutcomeSerializer
    filterset_class = OutcomeFilter
    ordering_fields = ["taken_on", "id"]
    ordering = ["-taken_on", "-id"]
    patient_actions = frozenset({"list", "retrieve", "create", "changes"})
    read_action = "outcome.read"

    def get_queryset(self):
        return selectors.outcomes_for(self.principal)

    @extend_schema(
        summary="Submit questionnaire answers; the scores are in the response",
        tags=["outcomes"],
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


@extend_schema_view(
    list=extend_schema(summary="Reminder history (read only)", tags=["reminders"]),
    retrieve=extend_schema(summary="Get a reminder and its delivery result", tags=["reminders"]),
)
class ReminderViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Reminder.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.ReminderSerializer
    filterset_class = ReminderFilter
    ordering_fields = ["due_date", "id"]
    ordering = ["-due_date", "-id"]
    patient_actions = frozenset({"list", "retrieve"})
    read_action = "reminder.read"

    def get_queryset(self):
        return selectors.reminders_for(self.principal)


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


@extend_schema_view(
    list=extend_schema(
        summary="Audit events of the clinic (clinic administrators)", tags=["audit"]
    ),
    retrieve=extend_schema(summary="Get an audit event", tags=["audit"]),
)
class AuditEventViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = AuditEvent.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]
    admin_only = True

    def get_queryset(self):
        return selectors.audit_events_for(self.principal)

    def _audit(self, objects) -> None:
        # Reading the trail is audited too, even a page without patients: one insert.
        audit_trail_read(
            actor=self.principal.actor, events=objects, via="api", clinic=self.principal.clinic
        )


# Each refusal its own class: the error handler reads the stable `code` from default_code.
class OtpRequired(AuthenticationFailed):
    default_code = "otp_required"


class OtpInvalid(AuthenticationFailed):
    default_code = "otp_invalid"


class TwoStepSetupRequired(AuthenticationFailed):
    default_code = "two_step_setup_required"


def _token_second_step(request, user: User, code: str | None) -> None:
    """A token is as strong as a dashboard sign-in: an account with an authenticator sends its
    code too (a wrong one counts towards the lockout), and a clinician whose clinic requires
    two-step sign-in but who has not set it up gets no token at all. Staff keep personal tokens
    (scripts, their own tools) because the code makes them as safe as a session; clinic systems
    use API keys, which this does not touch."""
    if not two_step.two_step_enrolled(user=user):
        if two_step.two_step_required(user=user):
            raise TwoStepSetupRequired(
                "Your clinic requires two-step sign-in: set it up in the dashboard first."
            )
        return
    if not code:
        raise OtpRequired(
            "This account uses two-step sign-in: send the code from the authenticator app as `otp`."
        )
    if not two_step.two_step_verify(user=user, code=code).ok:
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        raise OtpInvalid("Wrong username, password or code.")


class TokenView(APIView):
    """A person's personal API token (e.g. for a patient's phone app)."""

    authentication_classes = [PersonalTokenAuthentication]

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        summary="Get a personal token with a username and password (and the code, for an "
        "account with two-step sign-in)",
        tags=["auth"],
        request=s.TokenRequestSerializer,
        responses={200: s.TokenSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = serializer.validated_data.pop("otp", None)
        user = authenticate(request, **serializer.validated_data)
        if getattr(request, "axes_locked_out", False):
            # django-axes counts this door's failures with the sign-in pages' (rehab/lockout.py).
            raise RehabError(
                "too_many_attempts",
                "Too many sign-in attempts; try again in "
                f"{int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} minutes.",
                status=429,
            )
        principal = principal_for_user(user) if isinstance(user, User) else None
        if principal is None:
            raise AuthenticationFailed("Wrong username or password.")
        _token_second_step(request, user, code)
        _, raw = services.personal_token_create(user=user, clinic=principal.clinic)
        return Response({"token": raw})

    @extend_schema(
        summary="Revoke the personal token you send",
        tags=["auth"],
        request=None,
        responses={204: None},
    )
    def delete(self, request):
        services.personal_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
