"""The clinic's own work on a patient's record: a supervised session and an outcome measure
entered by the clinician. (The clinical note is a form on the patient page itself:
clinicians.views.patient.)

The same services as the portal and the API record them, so the rules are one: a paused plan, a
future date, a second log on the same day, an incomplete questionnaire are refused in the
service's words, on the form, with everything typed kept (400 for bad input, 409 for a conflict
with the record's state). The clinician is the actor of the audit event.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from clinicians.access import clinician_required
from clinicians.forms.work import OUTCOME_FORMS, supervised_session_form
from rehab import selectors, services, wording
from rehab.audit import AuditAction, audit_record
from rehab.clinical import outcomes as clinical_outcomes
from rehab.errors import RehabError
from rehab.models import Plan
from rehab.web import apply_errors, apply_outcome_errors


def _patient(request, pk: int):
    """The clinic's patient, or 404: another clinic's id is simply not found."""
    # It carries the signed-in clinician's clinic row (selectors.patients_for): the services that
    # record an outcome or a session read its webhook events from it, with no query of their own.
    return get_object_or_404(selectors.patients_for(request.principal), pk=pk)


def _audit_read(request, action: AuditAction, patient, obj=None) -> None:
    audit_record(
        actor=request.user, action=action, obj=obj, patient=patient, clinic=request.principal.clinic
    )


# --- Supervised session -----------------------------------------------------------------------


@clinician_required
@require_http_methods(["GET", "POST"])
def session_new(request, pk: int):
    patient = _patient(request, pk)
    today = patient.local_today()
    plan = selectors.plan_open(patient=patient)
    data = request.POST if request.method == "POST" else None
    context = {"patient": patient, "plan": plan, "today": today}
    if plan is None:
        # Nothing to log against; a stale form posted here is a conflict, said in words.
        context["problem"] = (
            f"{patient.full_name} has no open plan, so there is no session to log. "
            "Assign a protocol first."
        )
        status = 409 if data is not None else 200
        return render(request, "clinicians/work/session_form.html", context, status=status)
    form = supervised_session_form(plan=plan, today=today, data=data)
    context["form"] = form
    status = 200
    if data is not None:
        status = 400
        if form.is_valid():
            try:
                log = services.session_log(
                    plan=plan,
                    actor=request.user,
                    supervised=True,
                    today=today,
                    **form.service_kwargs(),
                )
            except RehabError as err:
                apply_errors(form, err)
                status = err.status
            else:
                # log.plan is the plan as the service left it (paused by a fall, say).
                words = f"The supervised session of {log.date.day} {log.date:%B %Y} is logged."
                if log.plan.status == Plan.Status.PAUSED:
                    messages.warning(
                        request, f"{words} The plan is now paused: {log.plan.status_reason}"
                    )
                elif log.evaluation_due_on is not None:
                    # No safety signal: its decision follows moments later, as on the portal.
                    messages.success(
                        request, f"{words} {wording.decision_pending(wording.CLINICIAN)}"
                    )
                else:
                    messages.success(request, words)
                return redirect(reverse("clinicians:patient", args=[patient.pk]) + "#sessions")
    else:
        # The form shows the plan's prescription and constraints: a read of the plan.
        _audit_read(request, AuditAction.PLAN_READ, patient, plan)
    return render(request, "clinicians/work/session_form.html", context, status=status)


# --- Outcome measures -------------------------------------------------------------------------


@clinician_required
@require_http_methods(["GET", "POST"])
def outcome_new(request, pk: int, measure: str):
    patient = _patient(request, pk)
    form_class = OUTCOME_FORMS.get(measure)
    if form_class is None:
        raise Http404("No such outcome measure.")
    today = patient.local_today()
    data = request.POST if request.method == "POST" else None
    form = form_class(data, today=today)
    status = 200
    if data is not None:
        status = 400
        if form.is_valid():
            try:
                services.outcome_record(
                    patient=patient,
                    measure=measure,
                    answers=form.answers(),
                    actor=request.user,
                    taken_on=form.cleaned_data["taken_on"],
                    today=today,
                )
            except RehabError as err:
                apply_outcome_errors(form, err)
                status = err.status
            else:
                name = clinical_outcomes.MEASURES[measure].name
                taken_on = form.cleaned_data["taken_on"]
                messages.success(request, f"{name} of {taken_on.day} {taken_on:%B %Y} is recorded.")
                return redirect(
                    reverse("clinicians:patient", args=[patient.pk]) + f"#outcome-{measure}"
                )
    else:
        _audit_read(request, AuditAction.PATIENT_READ, patient, patient)
    return render(
        request,
        "clinicians/work/outcome_form.html",
        {
            "patient": patient,
            "form": form,
            "measure": clinical_outcomes.MEASURES[measure],
        },
        status=status,
    )


urlpatterns = [
    path("patients/<int:pk>/sessions/new/", session_new, name="session_new"),
    path("patients/<int:pk>/outcomes/<str:measure>/", outcome_new, name="outcome_new"),
]
