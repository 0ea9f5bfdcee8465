"""Query filters for the list endpoints. `updated_since` (an ISO 8601 datetime) is how a clinic
system syncs: ask for what changed since its last run."""

import django_filters as filters

from rehab.clinical import outcomes as clinical_outcomes
from rehab.models import (
    CONDITION_CHOICES,
    AuditEvent,
    OutcomeScore,
    Patient,
    Plan,
    ProgressionDecision,
    Reminder,
    Screening,
    SessionLog,
)


class PatientFilter(filters.FilterSet):
    condition = filters.ChoiceFilter(choices=CONDITION_CHOICES)
    archived = filters.BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)
    external_id = filters.CharFilter()
    search = filters.CharFilter(
        method="filter_search", help_text="Part of a name or record number."
    )
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Patient
        fields = ["condition", "archived", "external_id", "search", "updated_since"]

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(external_id__icontains=value)
        )


class ScreeningFilter(filters.FilterSet):
    patient = filters.NumberFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=Screening.Status.choices)
    updated_since = filters.IsoDateTimeFilter(field_name="screened_at", lookup_expr="gte")

    class Meta:
        model = Screening
        fields = ["patient", "status", "updated_since"]


class PlanFilter(filters.FilterSet):
    patient = filters.NumberFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=Plan.Status.choices)
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Plan
        fields = ["patient", "status", "updated_since"]


class SessionFilter(filters.FilterSet):
    patient = filters.NumberFilter(field_name="patient_id")
    plan = filters.NumberFilter(field_name="plan_id")
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = SessionLog
        fields = ["patient", "plan", "date_from", "date_to", "updated_since"]


class DecisionFilter(filters.FilterSet):
    patient = filters.NumberFilter(field_name="plan__patient_id")
    plan = filters.NumberFilter(field_name="plan_id")
    status = filters.ChoiceFilter(choices=ProgressionDecision.Status.choices)
    outcome = filters.ChoiceFilter(choices=ProgressionDecision.Outcome.choices)
    updated_since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = ProgressionDecision
        fields = ["patient", "plan", "status", "outcome", "updated_since"]


class OutcomeFilter(filters.FilterSet):
    patient = filters.NumberFilter(field_name="patient_id")
    measure = filters.ChoiceFilter(choices=[(m, m) for m in clinical_outcomes.MEASURES])
    updated_since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = OutcomeScore
        fields = ["patient", "measure", "updated_since"]


class ReminderFilter(filters.FilterSet):
    patient = filters.NumberFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=Reminder.Status.choices)
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Reminder
        fields = ["patient", "status", "updated_since"]


class AuditEventFilter(filters.FilterSet):
    patient = filters.NumberFilter(field_name="patient_ref")
    action = filters.CharFilter()
    since = filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["patient", "action", "since"]
