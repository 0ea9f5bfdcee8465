"""The patient page: everything about one patient, with the decisions and reports acted on here.

Reads go through selectors scoped by the clinician's principal (another clinic's patient,
decision or report is a 404); writes go through services, whose refusals come back as messages
or form errors, never as a 500. Opening the page is itself recorded in the audit trail.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.http.response import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from clinicians.access import clinician_required
from clinicians.forms.patient import DecisionNoteForm, ReportRequestForm
from clinicians.forms.referrals import referral_forms
from clinicians.forms.work import ClinicalNoteForm
from rehab import selectors, services
from rehab.audit import AuditAction, audit_view_with_trail
from rehab.clinical import outcomes as clinical_outcomes
from rehab.errors import RehabError
from rehab.fhir.export import patient_export as patient_export_zip
from rehab.models import Patient, Report
from rehab.reports import charts
from rehab.web import apply_errors

# The status polling gives up after this; the page's "refresh" link still works.
REPORT_POLL_SECONDS = 2


def _chart_view(key: str, chart: charts.Chart) -> dict:
    """A chart with everything a reader without the picture needs: the text alternative and
    the values as a table."""
    days = sorted({day for series in chart.series for day, _ in series.points})
    values = [dict(series.points) for series in chart.series]
    return {
        "id": f"chart-{key}",
        "title": chart.title,
        # chart_svg escapes every text it draws (minidom text nodes) and has no script.
        "svg": charts.chart_svg(chart),
        "text": charts.chart_text_alternative(chart),
        "columns": [series.name for series in chart.series],
        "rows": [(day, [points.get(day) for points in values]) for day in reversed(days)],
    }


def _charts(points) -> list[dict]:
    if not points:
        return []
    minutes, speed = charts.minutes_speed_charts(points)
    return [
        _chart_view("pain", charts.pain_chart(points)),
        _chart_view("minutes", minutes),
        _chart_view("speed", speed),
    ]


def _patient_or_404(request, pk: int) -> Patient:
    return get_object_or_404(selectors.patients_for(request.principal), pk=pk)


def render_patient_page(
    request,
    patient: Patient,
    *,
    report_form=None,
    referral_form=None,
    note_form=None,
    status: int = 200,
):
    """The patient's page, with any of its forms bound (a refused report request, referral
    action or note shown with its errors): the one renderer the patient page's views share."""
    principal = request.principal
    # Recorded before the trail is read, so the trail shows this visit (and its reading) too.
    audit_view_with_trail(
        actor=request.user,
        action=AuditAction.PATIENT_VIEW,
        patient=patient,
        clinic=principal.clinic,
        reads=(AuditAction.NOTE_READ,),  # the page shows the clinical notes
    )
    page = selectors.patient_page(principal=principal, patient=patient)
    context = {
        "page": page,
        "patient": patient,
        "summary": page.plan,
        "charts": _charts(page.chart_points),
        "report_form": report_form or ReportRequestForm(),
        # The referral banners' forms (clinicians/views/referrals.py posts them).
        "referral_forms": referral_forms(page.referrals, bound=referral_form),
        "note_form": note_form or ClinicalNoteForm(today=page.today),
        "outcome_measures": list(clinical_outcomes.MEASURES.values()),
        "notes_cap": selectors.PATIENT_PAGE_NOTES,
        "clinic_timezone": principal.clinic.timezone,
        "poll_ms": REPORT_POLL_SECONDS * 1000,
    }
    return render(request, "clinicians/patient/page.html", context, status=status)


@clinician_required
@require_GET
def patient(request, pk: int):
    return render_patient_page(request, _patient_or_404(request, pk))


@clinician_required
@require_POST
def report_request(request, pk: int):
    patient = _patient_or_404(request, pk)
    form = ReportRequestForm(request.POST)
    if form.is_valid():
        try:
            services.report_request(patient=patient, actor=request.user, **form.cleaned_data)
        except RehabError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, "Report requested. It is being prepared; the download appears below."
            )
            return redirect(reverse("clinicians:patient", args=[patient.pk]) + "#reports")
    return render_patient_page(request, patient, report_form=form, status=400)


@clinician_required
@require_POST
def note_add(request, pk: int):
    """A dated clinical note on the record. A refusal re-renders the page with the note as
    typed and its errors beside the fields."""
    patient = _patient_or_404(request, pk)
    form = ClinicalNoteForm(request.POST, today=patient.local_today())
    status = 400
    if form.is_valid():
        try:
            services.clinical_note_add(patient=patient, actor=request.user, **form.cleaned_data)
        except RehabError as error:
            apply_errors(form, error)
            status = error.status
        else:
            messages.success(request, "The note is added to the record.")
            return redirect(reverse("clinicians:patient", args=[patient.pk]) + "#notes")
    return render_patient_page(request, patient, note_form=form, status=status)


def _decide(request, pk: int, *, approve: bool):
    decision = get_object_or_404(selectors.decisions_for(request.principal), pk=pk)
    back = reverse("clinicians:patient", args=[decision.plan.patient_id]) + "#decisions"
    form = DecisionNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The note is too long: keep it under 1,000 characters.")
        return redirect(back)
    note = form.cleaned_data["note"]
    levels = decision.plan.levels
    move = f"from {levels[decision.from_level]['name']} to {levels[decision.to_level]['name']}"
    try:
        if approve:
            services.decision_approve(decision=decision, actor=request.user, note=note)
        else:
            services.decision_reject(decision=decision, actor=request.user, note=note)
    except RehabError as error:
        messages.error(request, error.message)
    else:
        outcome = decision.get_outcome_display().lower()
        if approve:
            messages.success(request, f"Approved: the {outcome} {move} is applied.")
        else:
            messages.success(request, f"Rejected: the {outcome} {move} is not applied.")
    return redirect(back)


@clinician_required
@require_POST
def decision_approve(request, pk: int):
    return _decide(request, pk, approve=True)


@clinician_required
@require_POST
def decision_reject(request, pk: int):
    return _decide(request, pk, approve=False)


def _report_or_404(request, pk: int) -> Report:
    return get_object_or_404(selectors.reports_for(request.principal), pk=pk)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@clinician_required
@require_GET
def report_status(request, pk: int):
    """A report's status only (no clinical content): polled by the page while it renders."""
    report = _report_or_404(request, pk)
    ready = report.status == Report.Status.READY
    download_url = reverse("clinicians:report_download", args=[report.pk]) if ready else None
    if _wants_json(request):
        response = JsonResponse(
            {
                "status": report.status,
                "status_display": report.get_status_display(),
                "download_url": download_url,
            }
        )
        response["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "clinicians/patient/report_status.html",
        {"report": report, "download_url": download_url},
    )


@clinician_required
@require_GET
def report_download(request, pk: int):
    try:
        file = services.report_download(principal=request.principal, report_id=pk)
    except Report.DoesNotExist:
        raise Http404("No such report.") from None
    except services.ReportUnavailable as exc:
        return render(
            request,
            "clinicians/patient/report_status.html",
            {"report": exc.report, "download_url": None, "problem": exc.message},
            status=exc.status,
        )
    response = FileResponse(
        file.open(), content_type=file.content_type, as_attachment=True, filename=file.filename
    )
    response["Cache-Control"] = "private, no-store"
    return response


@clinician_required
@require_GET
def patient_export(request, pk: int):
    """The patient's whole record in one zip (rehab.fhir.export), for a clinician of their
    clinic: what a patient who asks for their data (GDPR Art. 15, 20) is given."""
    base_url = request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")
    try:
        export = patient_export_zip(principal=request.principal, patient_id=pk, base_url=base_url)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("patients/<int:pk>/", patient, name="patient"),
    path("patients/<int:pk>/export/", patient_export, name="patient_export"),
    path("decisions/<int:pk>/approve/", decision_approve, name="decision_approve"),
    path("decisions/<int:pk>/reject/", decision_reject, name="decision_reject"),
    path("patients/<int:pk>/reports/", report_request, name="report_request"),
    path("patients/<int:pk>/notes/", note_add, name="note_add"),
    path("reports/<int:pk>/", report_status, name="report_status"),
    path("reports/<int:pk>/download/", report_download, name="report_download"),
]
