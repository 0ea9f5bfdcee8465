"""Patients (with their clinical notes) and their screenings."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action

from rehab import selectors, services
from rehab.api import serializers as s
from rehab.api.filters import PatientFilter, ScreeningFilter
from rehab.api.views.base import ApiViewSet
from rehab.audit import AuditAction, audit_reads
from rehab.models import Patient, Screening


@extend_schema_view(
    list=extend_schema(
        summary="List patients",
        tags=["patients"],
        description=(
            "The clinic's patients by last name, archived ones included with their `archived_at` "
            "(`?archived=false` leaves them out); `?search=` needs every word in the name, record "
            "number or e-mail. A patient's login sees only their own record. The read is audited."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a patient",
        tags=["patients"],
        description=(
            "One patient's record by id. Another clinic's patient is a 404; a patient may read "
            "their own. The read is audited."
        ),
    ),
)
class PatientViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Patient.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.PatientSerializer
    filterset_class = PatientFilter
    ordering_fields = ["last_name", "created_at", "updated_at", "id"]
    ordering = ["last_name", "first_name", "id"]
    patient_actions = frozenset({"list", "retrieve"})
    read_action = AuditAction.PATIENT_READ

    def get_queryset(self):
        return selectors.patients_for(self.principal)

    def patient_of(self, obj):
        return obj

    @extend_schema(
        summary="Create a patient",
        tags=["patients"],
        description=(
            "Creates a patient in the caller's clinic, with an IANA `timezone` (the clinic's when "
            "left out) and reminder preferences (09:00 by e-mail when left out). Staff and clinic "
            "systems only."
        ),
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
        description=(
            "Changes the fields sent and keeps the rest (a partial update); the same rules as at "
            "creation. Staff and clinic systems only."
        ),
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
        description=(
            "The clinic's dated working notes on a patient, newest first, paged. The clinic's "
            "staff and systems only: a patient's login gets a 403. The read is audited."
        ),
        responses=s.ClinicalNoteSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a dated clinical note to a patient's record",
        tags=["patients"],
        description=(
            "Adds a note (`noted_on`, `text`) to a patient's record. The clinic's staff and "
            "systems only."
        ),
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
            action=AuditAction.NOTE_READ,
            patients=[patient],
            clinic=self.principal.clinic,
        )
        return self.get_paginated_response(s.ClinicalNoteSerializer(page, many=True).data)

    @extend_schema(
        summary="Archive a patient (discontinues the open plan)",
        tags=["patients"],
        description=(
            "Archives a patient: their open plan is discontinued, their record kept and still "
            "listed with its `archived_at`. Archiving an archived patient changes nothing. Staff "
            "and clinic systems only."
        ),
        request=None,
        responses=s.PatientSerializer,
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        patient = self.get_object()
        return self.render(services.patient_archive(patient=patient, actor=self.principal.actor))


@extend_schema_view(
    list=extend_schema(
        summary="List screenings",
        tags=["screenings"],
        description=(
            "Contraindication screenings, newest first, each with its verdict (status, referral, "
            "reasons, missing answers, constraints). Staff and clinic systems only. The read is "
            "audited."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a screening and its verdict",
        tags=["screenings"],
        description=(
            "One screening by id: its answers, its verdict and each reason in words. Another "
            "clinic's screening is a 404. The read is audited."
        ),
    ),
)
class ScreeningViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Screening.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.ScreeningSerializer
    filterset_class = ScreeningFilter
    ordering_fields = ["screened_at", "id"]
    ordering = ["-screened_at", "-id"]
    read_action = AuditAction.SCREENING_READ

    def get_queryset(self):
        return selectors.screenings_for(self.principal)

    @extend_schema(
        summary="Submit screening answers; the verdict is in the response",
        tags=["screenings"],
        description=(
            "Screens a patient: the answers give a verdict (cleared, modified, incomplete or "
            "blocked, with a referral and the constraints a plan must respect), stored and "
            "returned. A missing answer makes it incomplete. Staff and clinic systems only."
        ),
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
