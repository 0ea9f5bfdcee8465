"""The clinician's flows: new patient -> screening -> assign a protocol -> manage the plan, and
the portal invitation.

Views parse input, call one selector or service, and render. Every refusal is a RehabError from
rehab.services, shown on the form it belongs to with everything typed kept.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from clinicians.access import clinician_required
from clinicians.forms.flows import (
    AssignForm,
    AutoApplyForm,
    CompleteForm,
    DiscontinueForm,
    PatientForm,
    PauseForm,
    ResumeForm,
    ScreeningForm,
    SetLevelForm,
)
from rehab import selectors, services, wording
from rehab.audit import AuditAction, audit_record
from rehab.clinical import screening as clinical_screening
from rehab.clinical.levels import Constraints, cap_level
from rehab.errors import RehabError
from rehab.models import Plan, Screening
from rehab.web import apply_errors

# --- Helpers ----------------------------------------------------------------------------------


def _patient(request, pk: int):
    """The clinic's patient, or 404: another clinic's id is simply not found."""
    return get_object_or_404(selectors.patients_for(request.principal), pk=pk)


def _audit_read(request, action: AuditAction, patient, obj=None) -> None:
    audit_record(
        actor=request.user,
        action=action,
        obj=obj,
        patient=patient,
        clinic=request.principal.clinic,
    )


def _verdict(screening: Screening | None) -> clinical_screening.Verdict | None:
    if screening is None:
        return None
    return clinical_screening.Verdict.from_dict(screening.verdict_dict())


STATUS_WORDS = {
    "cleared": (
        "Cleared",
        "ok",
        "Backward walking may start as the protocol prescribes.",
    ),
    "modified": (
        "Cleared with modifications",
        "warn",
        "Backward walking may start, within the constraints below.",
    ),
    "incomplete": (
        "Incomplete",
        "warn",
        "Some required questions were not answered, so no plan can start yet.",
    ),
    "blocked": (
        "Blocked",
        "danger",
        "Backward walking must not start now.",
    ),
}
REFERRAL_WORDS = {
    "emergency": "Refer to emergency services now.",
    "urgent": "Urgent referral: the patient needs a doctor's assessment before any exercise.",
    "routine": "Routine referral: ask the patient's doctor to assess the reasons below.",
    "none": "No referral is needed.",
}


def verdict_words(verdict: clinical_screening.Verdict) -> dict:
    """A verdict in plain words for the page: status, referral, reasons, missing questions and
    constraints, each a sentence a clinician can act on."""
    label, tone, meaning = STATUS_WORDS[verdict.status]
    return {
        "status": verdict.status,
        "label": label,
        "tone": tone,
        "meaning": meaning,
        "referral": verdict.referral,
        "referral_words": REFERRAL_WORDS[verdict.referral],
        "reasons": [clinical_screening.REASON_TEXT.get(code, code) for code in verdict.reasons],
        "missing": [
            clinical_screening.ITEMS[code].label if code in clinical_screening.ITEMS else code
            for code in verdict.missing
        ],
        "constraints": verdict.constraints.describe(),
        "allows_plan": verdict.allows_plan,
        "can_override": verdict.can_override,
    }


# --- New patient, edit patient ----------------------------------------------------------------


@clinician_required
def patient_new(request):
    clinic = request.principal.clinic
    data = request.POST if request.method == "POST" else None
    form = PatientForm(data, default_timezone=clinic.timezone)
    status = 200
    if data is not None:
        status = 400
        if form.is_valid():
            fields = dict(form.cleaned_data)
            try:
                patient = services.patient_create(
                    clinic=clinic,
                    actor=request.user,
                    timezone_name=fields.pop("timezone"),
                    **fields,
                )
            except RehabError as err:
                apply_errors(form, err)
                status = err.status
            else:
                messages.success(
                    request, f"{patient.full_name} is added. Next: the safety screening."
                )
                return redirect("clinicians:screening_new", pk=patient.pk)
    return render(
        request, "clinicians/flows/patient_form.html", {"form": form, "nav": "new"}, status=status
    )


@clinician_required
def patient_edit(request, pk: int):
    patient = _patient(request, pk)
    data = request.POST if request.method == "POST" else None
    form = PatientForm(
        data,
        initial=PatientForm.initial_for(patient),
        default_timezone=request.principal.clinic.timezone,
    )
    status = 200
    if data is not None:
        status = 400
        if form.is_valid():
            try:
                services.patient_update(patient=patient, actor=request.user, **form.cleaned_data)
            except RehabError as err:
                apply_errors(form, err)
                status = err.status
                patient = _patient(request, pk)  # the service may have touched the instance
            else:
                messages.success(request, f"{patient.full_name}'s details are saved.")
                return redirect("clinicians:patient", pk=patient.pk)
    _audit_read(request, AuditAction.PATIENT_READ, patient, patient)
    return render(
        request,
        "clinicians/flows/patient_form.html",
        {"form": form, "patient": patient},
        status=status,
    )


# --- Screening --------------------------------------------------------------------------------


@clinician_required
def screening_new(request, pk: int):
    patient = _patient(request, pk)
    status = 200
    if request.method == "POST":
        form = ScreeningForm(request.POST, condition=patient.condition)
        status = 400
        if form.is_valid():
            try:
                screening = services.screening_submit(
                    patient=patient, answers=form.answers(), actor=request.user
                )
            except RehabError as err:
                apply_errors(form, err)
                status = err.status
            else:
                return redirect("clinicians:screening_result", pk=screening.pk)
    else:
        initial = {}
        previous = _previous_screening(request, patient)
        if previous is not None:
            initial = ScreeningForm.initial_from(previous.answers)
        form = ScreeningForm(initial=initial, condition=patient.condition)
    _audit_read(request, AuditAction.PATIENT_READ, patient, patient)
    return render(
        request,
        "clinicians/flows/screening_form.html",
        {"form": form, "patient": patient},
        status=status,
    )


def _previous_screening(request, patient) -> Screening | None:
    """?from=<id>: start from an earlier screening's answers (to complete an incomplete one)."""
    try:
        screening_id = int(request.GET.get("from", ""))
    except ValueError:
        return None
    return (
        selectors.screenings_for(request.principal).filter(patient=patient, pk=screening_id).first()
    )


@clinician_required
def screening_result(request, pk: int):
    screening = get_object_or_404(selectors.screenings_for(request.principal), pk=pk)
    patient = screening.patient
    today = patient.local_today()
    current = selectors.screening_current(patient=patient, today=today)
    open_plan = selectors.plan_open(patient=patient)
    _audit_read(request, AuditAction.SCREENING_READ, patient, screening)
    return render(
        request,
        "clinicians/flows/screening_result.html",
        {
            "patient": patient,
            "screening": screening,
            "verdict": verdict_words(_verdict(screening)),
            "is_current": current is not None and current.pk == screening.pk,
            "open_plan": open_plan,
            "min_override": services.MIN_OVERRIDE_REASON_LENGTH,
        },
    )


# --- Assigning a protocol ---------------------------------------------------------------------


def _preview(protocol, constraints: Constraints) -> list[dict]:
    rows = []
    for position, row in enumerate(protocol.levels.all(), start=1):
        capped = cap_level(row.to_level(), constraints)
        rows.append({"number": position, "level": capped.level, "capped": capped})
    return rows


def _default_schedule(protocol) -> list[int]:
    levels = list(protocol.levels.all())
    per_week = levels[0].sessions_per_week if levels else 3
    return services.DEFAULT_SCHEDULES.get(per_week, [0, 2, 4])


@clinician_required
def plan_assign(request, pk: int):
    patient = _patient(request, pk)
    today = patient.local_today()
    screening = selectors.screening_current(patient=patient, today=today)
    verdict = _verdict(screening)
    open_plan = selectors.plan_open(patient=patient)
    protocols = list(
        selectors.protocols_for_condition(request.principal, condition=patient.condition)
    )
    show_override = verdict is not None and verdict.can_override
    form_kwargs = {
        "protocols": protocols,
        "show_override": show_override,
        "min_override": services.MIN_OVERRIDE_REASON_LENGTH,
    }
    status = 200
    choice_error = ""

    if request.method == "POST":
        form = AssignForm(request.POST, **form_kwargs)
        status = 400
        selected = _chosen(protocols, request.POST.get("protocol"))
        if form.is_valid():
            try:
                plan = services.plan_assign(
                    patient=patient, actor=request.user, **form.service_kwargs()
                )
            except RehabError as err:
                apply_errors(form, err)
                status = err.status
            else:
                messages.success(
                    request, f"{plan.protocol_name} is assigned to {patient.full_name}."
                )
                return redirect("clinicians:plan_manage", pk=plan.pk)
    else:
        # ?protocol=<id> previews a protocol; without it, the first of the library's.
        if "protocol" in request.GET:
            selected = _chosen(protocols, request.GET["protocol"])
            if selected is None:
                choice_error = "Choose one of the protocols in the list."
                status = 400
        else:
            selected = protocols[0] if protocols else None
        form = AssignForm(
            initial={
                "protocol": selected.pk if selected else None,
                "start_date": today,
                "schedule_days": _default_schedule(selected) if selected else [0, 2, 4],
            },
            **form_kwargs,
        )

    constraints = Constraints.from_dict(screening.constraints if screening else {})
    _audit_read(request, AuditAction.PATIENT_READ, patient, patient)
    return render(
        request,
        "clinicians/flows/plan_assign.html",
        {
            "patient": patient,
            "screening": screening,
            "verdict": verdict_words(verdict) if verdict else None,
            "open_plan": open_plan,
            "protocols": protocols,
            "selected": selected,
            "choice_error": choice_error,
            "preview": _preview(selected, constraints) if selected else [],
            "constraints": constraints.describe(),
            "form": form,
            "can_assign": (
                selected is not None
                and open_plan is None
                and verdict is not None
                and (verdict.allows_plan or verdict.can_override)
            ),
            "show_override": show_override,
        },
        status=status,
    )


def _chosen(protocols: list, raw) -> object | None:
    for protocol in protocols:
        if str(protocol.pk) == str(raw):
            return protocol
    return None


# --- Managing a plan --------------------------------------------------------------------------

ACTIONS_BY_STATUS = {
    Plan.Status.ACTIVE: ("set_level", "pause", "complete", "discontinue", "auto_apply"),
    Plan.Status.PAUSED: ("resume", "complete", "discontinue", "auto_apply"),
}


def _plan_forms(plan: Plan, *, show_override: bool, bound: tuple[str, object] | None = None):
    """Each action's form, prefixed by its name so the ids on the page stay unique; the one
    that was posted is bound to its data."""
    builders = {
        "pause": lambda data: PauseForm(data, prefix="pause"),
        "resume": lambda data: ResumeForm(data, prefix="resume", show_override=show_override),
        "set_level": lambda data: SetLevelForm(
            data,
            prefix="set_level",
            level_names=[capped.level.name for capped in plan.capped_levels()],
            current=plan.current_level,
        ),
        "complete": lambda data: CompleteForm(data, prefix="complete"),
        "discontinue": lambda data: DiscontinueForm(data, prefix="discontinue"),
        "auto_apply": lambda data: AutoApplyForm(
            data, prefix="auto_apply", initial={"auto_apply": plan.auto_apply}
        ),
    }
    posted, data = bound or (None, None)
    return {name: build(data if name == posted else None) for name, build in builders.items()}


def _run_action(action: str, plan: Plan, actor, data: dict) -> str:
    """Call the action's service; return the message to show on success."""
    if action == "pause":
        services.plan_pause(plan=plan, actor=actor, reason=data["reason"])
        return "The plan is paused. The patient cannot log sessions until it is resumed."
    if action == "resume":
        services.plan_resume(
            plan=plan,
            actor=actor,
            reason=data["reason"],
            override_reason=data.get("override_reason", ""),
        )
        return "The plan is active again."
    if action == "set_level":
        services.plan_set_level(plan=plan, level=data["level"], reason=data["reason"], actor=actor)
        return f"The plan moved to level {data['level'] + 1}."
    if action == "complete":
        services.plan_complete(plan=plan, actor=actor, reason=data["reason"])
        return "The plan is completed."
    if action == "discontinue":
        services.plan_discontinue(plan=plan, actor=actor, reason=data["reason"])
        return "The plan is discontinued."
    services.plan_set_auto_apply(plan=plan, auto_apply=data["auto_apply"], actor=actor)
    if data["auto_apply"]:
        return "Advance and regress suggestions will now apply at once."
    return "Advance and regress suggestions will now wait for approval."


@clinician_required
def plan_manage(request, pk: int):
    plan = get_object_or_404(selectors.plans_for(request.principal), pk=pk)
    patient = plan.patient
    screening = selectors.screening_current(patient=patient, today=patient.local_today())
    verdict = _verdict(screening)
    already_overridden = (
        screening is not None and screening.pk == plan.screening_id and bool(plan.override_reason)
    )
    show_override = verdict is not None and verdict.can_override and not already_overridden
    status = 200
    action = None
    error_messages: list[str] = []

    if request.method == "POST":
        action = request.POST.get("action", "")
        forms = _plan_forms(plan, show_override=show_override, bound=(action, request.POST))
        form = forms.get(action)
        if form is None:
            raise Http404("No such action.")
        status = 400
        if form.is_valid():
            try:
                message = _run_action(action, plan, request.user, form.cleaned_data)
            except RehabError as err:
                apply_errors(form, err)
                status = err.status
            else:
                messages.success(request, message)
                return redirect("clinicians:plan_manage", pk=plan.pk)
        error_messages = list(form.non_field_errors())
    else:
        forms = _plan_forms(plan, show_override=show_override)

    available = ACTIONS_BY_STATUS.get(plan.status, ())
    if action and action not in available:
        # The form is not on the page for a plan in this state: say everything at the top.
        error_messages = [str(e) for errors in forms[action].errors.values() for e in errors]
    _audit_read(request, AuditAction.PLAN_READ, patient, plan)
    return render(
        request,
        "clinicians/flows/plan_manage.html",
        {
            "plan": plan,
            "patient": patient,
            "levels": [
                {"number": n, "capped": capped, "current": n - 1 == plan.current_level}
                for n, capped in enumerate(plan.capped_levels(), start=1)
            ],
            "constraints": plan.constraints_obj.describe(),
            "schedule": wording.days_words(plan.schedule_days),
            "screening": screening,
            "verdict": verdict_words(verdict) if verdict else None,
            # Every safety signal the resume will take as reviewed, the one that paused the
            # plan and any told since (a next morning's pain): all of them on the page.
            "pause_reasons": selectors.plan_pause_reasons(plan=plan),
            "forms": {name: forms[name] for name in available},
            "action": action,
            "bound_form": forms.get(action) if action else None,
            "error_messages": error_messages,
        },
        status=status,
    )


# --- Portal invitation ------------------------------------------------------------------------


@require_POST
@clinician_required
def patient_invite(request, pk: int):
    patient = _patient(request, pk)
    try:
        invite = services.patient_invite(patient=patient, actor=request.user)
    except RehabError as err:
        messages.error(request, err.message)
    else:
        if invite.send_error:
            messages.error(
                request,
                f"The invitation to {invite.sent_to} could not be sent ({invite.send_error}). "
                "Check the address and try again.",
            )
        else:
            days = settings.INVITE_VALID_DAYS
            messages.success(
                request,
                f"Invitation sent to {invite.sent_to}, valid for {days} "
                f"day{'s' if days != 1 else ''}.",
            )
    return redirect("clinicians:patient", pk=patient.pk)


urlpatterns = [
    path("patients/new/", patient_new, name="patient_new"),
    path("patients/<int:pk>/edit/", patient_edit, name="patient_edit"),
    path("patients/<int:pk>/screening/", screening_new, name="screening_new"),
    path("screenings/<int:pk>/", screening_result, name="screening_result"),
    path("patients/<int:pk>/assign/", plan_assign, name="plan_assign"),
    path("plans/<int:pk>/", plan_manage, name="plan_manage"),
    path("patients/<int:pk>/invite/", patient_invite, name="patient_invite"),
]
