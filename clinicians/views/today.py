"""Today: the clinic's patients, the ones most in need of attention first.

Each patient's need (their flags as one number) is stored on the patient: the page first has
the stale ones worked out again (services.dashboard_refresh: those a write marked, and everyone
on a new day), then one selector sorts, filters and counts the clinic by the stored need from an
index (rehab.selectors, "Dashboard: Today"), and the page asks for the details of the 25
patients it shows (selectors.dashboard_paginator: the summary's counts say how long the list
is unless a search, condition or plan status narrows it). The number of queries, and nearly
the time, is the same for 10 patients or 10,000.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from clinicians.access import clinic_today, clinician_required
from clinicians.forms.today import TodayFilterForm
from rehab import selectors, services
from rehab.audit import AuditAction, audit_reads

# The selectors' keywords, from the form's fields.
FILTERS = {"search": "q", "flag": "flag", "condition": "condition", "status": "status"}


@clinician_required
def today(request):
    principal = request.principal
    day = clinic_today(request)
    form = TodayFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else dict.fromkeys(form.fields, "")
    # What the page shows is always computed for the clinic's today.
    services.dashboard_refresh(clinic=principal.clinic, today=day)
    chosen = {keyword: filters[field] for keyword, field in FILTERS.items()}
    patients = selectors.patient_list_for_dashboard(principal=principal, **chosen)
    counts = selectors.dashboard_flag_counts(principal=principal)
    paginator = selectors.dashboard_paginator(patients, counts, **chosen)
    # get_page never fails: a page number that is not a number shows the first page, one past
    # the end the last.
    page = paginator.get_page(request.GET.get("page"))
    rows = selectors.dashboard_rows(principal=principal, today=day, patients=list(page))
    audit_reads(
        actor=principal.actor,
        action=AuditAction.PATIENT_LIST,
        patients=[row.patient for row in rows],
        clinic=principal.clinic,
    )
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
