"""Patients (with their clinical notes) and their screenings."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action

from rehab import selectors, services
from rehab.api import serializers as s
from rehab.api.filters import PatientFilter, ScreeningFilter
from rehab.api.views.base import ApiViewSet
from rehab.audit import audit_reads
from rehab.models import Patient, Screening


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
