"""Read-only histories: reminders sent and the clinic's audit trail."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from rehab import selectors
from rehab.api import serializers as s
from rehab.api.filters import AuditEventFilter, ReminderFilter
from rehab.api.pagination import CursorPages
from rehab.api.views.base import ApiViewSet
from rehab.audit import AuditAction, audit_trail_read
from rehab.models import AuditEvent, Reminder


@extend_schema_view(
    list=extend_schema(
        summary="Reminder history (read only)",
        tags=["reminders"],
        description=(
            "Reminders sent or due, the latest due date first, each with its channel and delivery "
            "result. A patient sees their own. The read is audited."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a reminder and its delivery result",
        tags=["reminders"],
        description=(
            "One reminder by id, with its channel, due day and the send's result. Another clinic's"
            " reminder is a 404. The read is audited."
        ),
    ),
)
class ReminderViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Reminder.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.ReminderSerializer
    filterset_class = ReminderFilter
    ordering_fields = ["due_date", "id"]
    ordering = ["-due_date", "-id"]
    patient_actions = frozenset({"list", "retrieve"})
    read_action = AuditAction.REMINDER_READ

    def get_queryset(self):
        return selectors.reminders_for(self.principal)


@extend_schema_view(
    list=extend_schema(
        summary="Audit events of the clinic (clinic administrators)",
        tags=["audit"],
        description=(
            "The clinic's audit trail, newest first: who read or changed which patient's data, "
            "when and from which address. Clinic administrators only (anyone else gets a 403). "
            "Paged by cursor, without a count, as the trail grows by millions of rows: follow "
            "`next` and `previous`. Reading the trail is itself recorded in it."
        ),
    ),
    retrieve=extend_schema(
        summary="Get an audit event",
        tags=["audit"],
        description=(
            "One event of the clinic's audit trail by id, for clinic administrators. Another "
            "clinic's event is a 404; the read is recorded in the trail too."
        ),
    ),
)
class AuditEventViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = AuditEvent.objects.none()  # for the schema; rows come from get_queryset
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]
    # No count of every row, no offset: the trail grows by millions of rows (CursorPages).
    pagination_class = CursorPages
    admin_only = True

    def get_queryset(self):
        return selectors.audit_events_for(self.principal)

    def _audit(self, objects) -> None:
        # Reading the trail is audited too, even a page without patients: one insert.
        audit_trail_read(
            actor=self.principal.actor, events=objects, via="api", clinic=self.principal.clinic
        )
