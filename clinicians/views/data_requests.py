"""A patient's data requests at the dashboard: erasing a record (clinic administrators, behind
a confirmation), and the list of archived or discharged patients past the clinic's retention
period, with the clinic's retention settings. The export is on the patient page
(clinicians/views/patient.py)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicians.access import clinic_admin_required
from clinicians.forms.data_requests import DataRequestSettingsForm, PatientEraseForm
from rehab import selectors, services
from rehab.audit import AuditAction, audit_reads
from rehab.errors import RehabError
from rehab.web import apply_errors


def _render_erase(request, patient, form, status=200):
    return render(
        request,
        "clinicians/data_requests/erase.html",
        {"patient": patient, "form": form, "clinic": request.principal.clinic},
        status=status,
    )


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def patient_erase(request, pk: int):
    principal = request.principal
    patient = get_object_or_404(selectors.patients_for(principal), pk=pk)
    if request.method == "GET":
        audit_reads(
            actor=principal.actor,
            action=AuditAction.PATIENT_READ,
            patients=[patient],
            clinic=principal.clinic,
        )
        return _render_erase(request, patient, PatientEraseForm(patient=patient))
    form = PatientEraseForm(request.POST, patient=patient)
    if not form.is_valid():
        return _render_erase(request, patient, form, status=400)
    try:
        services.patient_erase(patient=patient, by=principal, reason=form.cleaned_data["reason"])
    except RehabError as error:
        apply_errors(form, error)
        return _render_erase(request, patient, form, status=error.status)
    # The id only: the name is what was erased.
    messages.success(request, f"Record {pk} is erased.")
    return redirect("clinicians:retention")


@clinic_admin_required
@require_GET
def retention(request):
    return _render_retention(request)


def _render_retention(request, form=None, status=200):
    """The review list, a page of it, and the settings form (bound when a save was refused)."""
    principal = request.principal
    clinic = principal.clinic
    patients = selectors.patients_past_retention(principal=principal)
    page = Paginator(patients, selectors.RETENTION_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    if rows:
        audit_reads(
            actor=principal.actor, action=AuditAction.PATIENT_LIST, patients=rows, clinic=clinic
        )
    return render(
        request,
        "clinicians/data_requests/retention.html",
        {
            "nav": "retention",
            "clinic": clinic,
            "page": page,
            "rows": rows,
            "form": form or DataRequestSettingsForm(instance=clinic),
        },
        status=status,
    )


@clinic_admin_required
@require_POST
def retention_settings(request):
    principal = request.principal
    form = DataRequestSettingsForm(request.POST)
    if not form.is_valid():
        return _render_retention(request, form=form, status=400)
    try:
        services.clinic_set_data_requests(
            clinic=principal.clinic, actor=principal.actor, **form.cleaned_data
        )
    except RehabError as error:
        apply_errors(form, error)
        return _render_retention(request, form=form, status=error.status)
    messages.success(request, "The clinic's data request settings are saved.")
    return redirect("clinicians:retention")


urlpatterns = [
    path("patients/<int:pk>/erase/", patient_erase, name="patient_erase"),
    path("data/retention/", retention, name="retention"),
    path("data/retention/settings/", retention_settings, name="retention_settings"),
]
