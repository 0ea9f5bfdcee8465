"""Logging a session, what happens next, and the next morning's pain."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from patients.access import patient_required
from patients.forms.log import (
    EFFORT_CHOICES,
    PAIN_CHOICES,
    NextMorningPainForm,
    log_form_for,
)
from rehab import selectors, services, wording
from rehab.audit import AuditAction, audit_record
from rehab.errors import RehabError
from rehab.models import Plan, ProgressionDecision, SessionLog
from rehab.web import apply_errors

Outcome = ProgressionDecision.Outcome
# The service names the next-morning score after its column; the portal's form calls it pain.
PORTAL_ALIASES = {"pain_next_morning": "pain"}
Status = ProgressionDecision.Status


@require_http_methods(["GET", "POST"])
@patient_required
def session_log(request):
    principal = request.principal
    patient = principal.patient
    local_today = patient.local_today()
    plan = selectors.portal_plan(principal)
    context = {"nav": "today", "plan": plan, "clinic": principal.clinic, "today": local_today}
    if plan is None or plan.status != Plan.Status.ACTIVE:
        # Nothing to log against: the page says why (no plan, on hold or ended) in plain words.
        context["state"] = "none" if plan is None else plan.status
        status = 409 if request.method == "POST" else 200
        return render(request, "patients/log.html", context, status=status)

    form = log_form_for(
        plan=plan, today=local_today, data=request.POST if request.method == "POST" else None
    )
    context.update(form=form, state=plan.status)
    if request.method == "POST":
        if form.is_valid():
            try:
                log = services.session_log(plan=plan, actor=request.user, **form.service_kwargs())
            except RehabError as error:
                apply_errors(form, error, aliases=PORTAL_ALIASES, name_other_fields=False)
                return render(request, "patients/log.html", context, status=error.status)
            return redirect("patients:session_saved", pk=log.pk)
        return render(request, "patients/log.html", context, status=400)
    # The form shows the plan's prescription: a read of the patient's plan, like Today.
    audit_record(
        actor=request.user,
        action=AuditAction.PORTAL_LOG_FORM,
        obj=plan,
        patient=patient,
        clinic=principal.clinic,
    )
    return render(request, "patients/log.html", context)


def _next_step(decision: ProgressionDecision | None) -> str:
    """What the decision this session led to means for the patient's next walks."""
    if decision is None:
        return ""
    if decision.outcome == Outcome.ADVANCE:
        if decision.status == Status.APPLIED:
            return (
                "You are ready for the next step: your next walks will be a little longer or "
                "faster. The Today page shows exactly what to do."
            )
        return "You may be ready for the next step. Your physiotherapist will check and tell you."
    if decision.outcome == Outcome.REGRESS:
        if decision.status == Status.APPLIED:
            return (
                "We have made your next walks a little easier, to give your body time to settle. "
                "The Today page shows exactly what to do."
            )
        return "Your physiotherapist will look at making your walks a little easier for a while."
    return "Keep going at the same level."


def _summary(log: SessionLog) -> list[tuple[str, str]]:
    """What was saved, each score with its words."""
    pain = dict(PAIN_CHOICES)
    effort = dict(EFFORT_CHOICES)
    rows = [
        ("Date", f"{log.date:%A} {log.date.day} {log.date:%B %Y}"),
        ("Minutes walked", str(log.minutes_done)),
        ("Pain before", pain[str(log.pain_before)]),
        ("Worst pain while walking", pain[str(log.pain_worst)]),
        ("Pain just after", pain[str(log.pain_after)]),
        ("How hard it felt", effort[str(log.effort)]),
    ]
    events = [wording.adverse_event_told(name) for name in log.adverse_events]
    if events:
        rows.append(("What happened", ", ".join(events)))
    return rows


@patient_required
def session_saved(request, pk: int):
    principal = request.principal
    try:
        log = selectors.portal_session(principal, session_id=pk)
    except SessionLog.DoesNotExist:
        raise Http404 from None
    # The decision its evaluation arrived at (read with the session); none yet while a session
    # with no safety signal is still being evaluated, which the page says (a reload shows it).
    decision = log.decision
    paused = bool(
        (decision is not None and decision.outcome == Outcome.PAUSE) or log.fall or log.chest_pain
    )
    take_care = not paused and (log.near_fall or log.dizziness)
    audit_record(
        actor=request.user,
        action=AuditAction.PORTAL_SESSION_READ,
        obj=log,
        patient=principal.patient,
        clinic=principal.clinic,
    )
    context = {
        "nav": "today",
        "log": log,
        "clinic": principal.clinic,
        "stop": paused,
        "take_care": take_care,
        # After a stop or a take-care message, what matters is that message, not the level.
        "next_step": "" if paused or take_care else _next_step(decision),
        "decision_pending": (
            wording.decision_pending(wording.PATIENT) if log.evaluation_due_on else ""
        ),
        "summary": _summary(log),
    }
    return render(request, "patients/log_saved.html", context)


@require_http_methods(["GET", "POST"])
@patient_required
def next_morning(request, pk: int):
    principal = request.principal
    try:
        log = selectors.portal_session(principal, session_id=pk)
    except SessionLog.DoesNotExist:
        raise Http404 from None
    form = NextMorningPainForm(request.POST if request.method == "POST" else None)
    context = {"nav": "today", "log": log, "form": form, "clinic": principal.clinic}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "patients/next_morning.html", context, status=400)
        try:
            services.session_add_next_morning_pain(
                session=log, pain=form.cleaned_data["pain"], actor=request.user
            )
        except RehabError as error:
            apply_errors(form, error, aliases=PORTAL_ALIASES, name_other_fields=False)
            return render(request, "patients/next_morning.html", context, status=error.status)
        messages.success(request, "Thank you. Your pain this morning is saved.")
        return redirect("patients:today")
    audit_record(
        actor=request.user,
        action=AuditAction.PORTAL_SESSION_READ,
        obj=log,
        patient=principal.patient,
        clinic=principal.clinic,
    )
    return render(request, "patients/next_morning.html", context)


urlpatterns = [
    path("log/", session_log, name="session_log"),
    path("log/<int:pk>/", session_saved, name="session_saved"),
    path("sessions/<int:pk>/next-morning/", next_morning, name="next_morning"),
]
