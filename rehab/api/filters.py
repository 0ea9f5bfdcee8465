"""Query filters for the list endpoints. `updated_since` (an ISO 8601 datetime) is how a clinic
system syncs: ask for what changed since its last run."""

import datetime as dt

import django_filters as filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from rehab import selectors
from rehab.api.serializers import MAX_ID
from rehab.audit import events_of_patient
from rehab.clinical import outcomes as clinical_outcomes
from rehab.models import (
    CONDITION_CHOICES,
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
)
from rehab.selectors.search import SEARCH_MAX_LENGTH


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A record id: a whole number in the database's range (a float or a 100-digit number is a
    400, not an overflow deep in the database driver)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(filters.fields.IsoDateTimeField):
    """An ISO 8601 datetime, turned into UTC before it reaches the database: PostgreSQL refuses
    offsets beyond ±15:59 that Python accepts, and a date at the edge of the calendar must be a
    400, not an overflow."""

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return value
        try:
            return value.astimezone(dt.UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError("This date-time is out of range.") from exc


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, except that a request naming none of the filters gets the list
    as it is, without the filter set and its form being built (a millisecond of every page and
    every record read, for the common request that filters nothing). Every filter here applies
    only when its parameter is given (none has a default), so the result is the same."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class StrictFilterSet(filters.FilterSet):
    """A filter given with an empty value is an error, not "no filter": a client that sends
    ?status= has a bug worth hearing about, and a sync must never silently widen."""

    def is_valid(self):
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if name not in self.data:
                continue
            value = self.data.get(name)
            if hasattr(self.data, "getlist") and len(self.data.getlist(name)) > 1:
                self.form.add_error(name, "Give this filter once.")
                valid = False
            elif value == "":
                self.form.add_error(name, "This filter may not be empty.")
                valid = False
            elif isinstance(filter_, filters.BooleanFilter) and value not in ("true", "false"):
                # The default widget reads anything else as "no filter"; say it instead.
                self.form.add_error(name, "Use true or false.")
                valid = False
        return valid


class PatientFilter(StrictFilterSet):
    condition = filters.ChoiceFilter(choices=CONDITION_CHOICES)
    archived = filters.BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)
    external_id = filters.CharFilter()
    search = filters.CharFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Words to find: every word must be part of the first or last name, the "
        f"record number or the e-mail (as the dashboard's search); at most {SEARCH_MAX_LENGTH} "
        "characters.",
    )
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Patient
        fields = ["condition", "archived", "external_id", "search", "updated_since"]

    def filter_search(self, queryset, name, value):
        return selectors.patients_matching(queryset, value)


class ProtocolFilter(StrictFilterSet):
    condition = filters.ChoiceFilter(choices=CONDITION_CHOICES)
    builtin = filters.BooleanFilter(field_name="clinic", lookup_expr="isnull")

    class Meta:
        model = Protocol
        fields = ["condition", "builtin"]


class ScreeningFilter(StrictFilterSet):
    patient = IdFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=Screening.Status.choices)
    updated_since = UtcIsoDateTimeFilter(field_name="screened_at", lookup_expr="gte")

    class Meta:
        model = Screening
        fields = ["patient", "status", "updated_since"]


class PlanFilter(StrictFilterSet):
    patient = IdFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=Plan.Status.choices)
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Plan
        fields = ["patient", "status", "updated_since"]


class SessionFilter(StrictFilterSet):
    patient = IdFilter(field_name="patient_id")
    plan = IdFilter(field_name="plan_id")
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = SessionLog
        fields = ["patient", "plan", "date_from", "date_to", "updated_since"]


class DecisionFilter(StrictFilterSet):
    patient = IdFilter(field_name="plan__patient_id")
    plan = IdFilter(field_name="plan_id")
    status = filters.ChoiceFilter(choices=ProgressionDecision.Status.choices)
    outcome = filters.ChoiceFilter(choices=ProgressionDecision.Outcome.choices)
    updated_since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = ProgressionDecision
        fields = ["patient", "plan", "status", "outcome", "updated_since"]


class OutcomeFilter(StrictFilterSet):
    patient = IdFilter(field_name="patient_id")
    measure = filters.ChoiceFilter(choices=[(m, m) for m in clinical_outcomes.MEASURES])
    updated_since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = OutcomeScore
        fields = ["patient", "measure", "updated_since"]


class ReminderFilter(StrictFilterSet):
    patient = IdFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=Reminder.Status.choices)
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Reminder
        fields = ["patient", "status", "updated_since"]


class AuditEventFilter(StrictFilterSet):
    # The events naming the patient and the list reads that showed them among others.
    patient = IdFilter(method="of_patient")
    action = filters.CharFilter()
    since = UtcIsoDateTimeFilter(field_name="at", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["patient", "action", "since"]

    def of_patient(self, queryset, name, value):
        return queryset.filter(events_of_patient(value))


class ReportFilter(StrictFilterSet):
    patient = IdFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=Report.Status.choices)
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Report
        fields = ["patient", "status", "updated_since"]
