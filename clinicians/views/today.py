"""Today: the clinic's patients, the ones most in need of attention first.

Each patient's need (their flags as one number) is stored on the patient: the page first has
the stale ones worked out again (services.dashboard_refresh: those a write marked, and everyone
on a new day), then one selector sorts, filters and counts the clinic by the stored need from an
index (rehab.selectors, "Dashboard: Today"), and the page asks for the details of the 25
patients it shows. The number of queries, and nearly the time, is the same for 10 patients or
10,000.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path

from clinicians.access import clinic_today, clinician_required
from rehab import selectors, services
from rehab.audit import AuditAction, audit_reads
from rehab.models import CONDITION_CHOICES


class TodayFilterForm(forms.Form):
    """The list's search and filters, read from the query string. A value that is not one of
    the choices is reported on its field and ignored; the list still shows."""

    q = forms.CharField(
        label="Search",
        max_length=100,
        required=False,
        help_text="Name, clinic record number or e-mail.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    flag = forms.ChoiceField(
        label="Needs attention",
        required=False,
        choices=[
            ("", "All patients"),
            (selectors.DASHBOARD_ATTENTION, "Any reason"),
            *((flag.code, flag.label) for flag in selectors.DASHBOARD_FLAGS),
        ],
    )
    condition = forms.ChoiceField(
        label="Condition", required=False, choices=[("", "All conditions"), *CONDITION_CHOICES]
    )
    status = forms.ChoiceField(
        label="Plan",
        required=False,
        choices=[("", "All (not archived)"), *selectors.DASHBOARD_STATUSES.items()],
    )

    def filters(self) -> dict[str, str]:
        """The valid values; a field in error counts as not given."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) or "" for name in self.fields}


@clinician_required
def today(request):
    principal = request.principal
    day = clinic_today(request)
    form = TodayFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else dict.fromkeys(form.fields, "")
    # What the page shows is always computed for the clinic's today.
    services.dashboard_refresh(clinic=principal.clinic, today=day)
    patients = selectors.patient_list_for_dashboard(
        principal=principal,
        search=filters["q"],
        flag=filters["flag"],
        condition=filters["condition"],
        status=filters["status"],
    )
    # get_page never fails: a page number that is not a number shows the first page, one past
    # the end the last.
    page = Paginator(patients, selectors.DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.dashboard_rows(principal=principal, today=day, patients=list(page))
    audit_reads(
        actor=principal.actor,
        action=AuditAction.PATIENT_LIST,
        patients=[row.patient for row in rows],
        clinic=principal.clinic,
    )
    counts = selectors.dashboard_flag_counts(principal=principal)
    summary = [
        {"flag": flag, "count": counts[flag.code]}
        for flag in selectors.DASHBOARD_FLAGS
        if counts[flag.code]
    ]
    return render(
        request,
        "clinicians/today.html",
        {
            "nav": "today",
            "today": day,
            "form": form,
            "filters": filters,
            "filtered": any(filters.values()),
            "page": page,
            "rows": rows,
            "counts": counts,
            "summary": summary,
        },
    )


urlpatterns = [path("", today, name="today")]
