"""Today: what to do today, in plain words, with a guided timer and the log form."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.urls import path

from patients.access import patient_required
from patients.forms.log import NextMorningPainForm, log_form_for
from rehab import selectors
from rehab.audit import audit_record
from rehab.clinical import levels as clinical_levels
from rehab.clinical.levels import CappedLevel, Constraints, Level
from rehab.clinical.protocols import safety_for
from rehab.models import Plan

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_WHERE = {
    clinical_levels.PARALLEL_BARS: "Between the parallel bars, holding on with both hands",
    clinical_levels.TREADMILL_BOTH_HANDRAILS: "On the treadmill, holding both handrails",
    clinical_levels.TREADMILL_LIGHT_TOUCH: (
        "On the treadmill, with one hand or a light touch on the handrail"
    ),
    clinical_levels.OVERGROUND: "On a clear, level floor with nothing behind you",
}


def _duration_words(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds} seconds"


def _minutes_words(minutes: int) -> str:
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


def prescription_sentences(prescription: CappedLevel) -> list[str]:
    """Today's session as short sentences a patient can follow, one thing each."""
    level: Level = prescription.level
    sentences = []
    if level.interval:
        sentences.append(
            f"Walk for {_minutes_words(level.minutes)}, changing between backwards and forwards"
        )
        sentences.append(
            f"{_duration_words(level.interval.backward_seconds).capitalize()} backwards, "
            f"then {_duration_words(level.interval.forward_seconds)} forwards, repeated"
        )
    else:
        sentences.append(f"Walk backwards for {_minutes_words(level.minutes)}")
    sentences.append(_WHERE.get(level.setting, clinical_levels.SETTINGS.get(level.setting, "")))
    if level.speed_kmh is None:
        sentences.append(
            "At a speed that feels comfortable: a steady pace you can keep up, "
            "slower than your normal walking"
        )
    else:
        sentences.append(f"At {level.speed_kmh:g} km/h")
    on_treadmill = level.setting in clinical_levels.TREADMILL_SETTINGS
    if level.incline_pct:
        sentences.append(f"With the treadmill slope set to {level.incline_pct:g} %")
    elif on_treadmill:
        sentences.append("With the treadmill flat (no slope)")
    if level.supervised:
        sentences.append("With your physiotherapist or a trained helper beside you")
    return sentences


def safety_lines(prescription: CappedLevel, constraints: Constraints) -> list[str]:
    """CLINICAL.md §2's instructions for this setting, then what this patient's screening asks
    of them, in the patient's words."""
    level = prescription.level
    lines = [instruction.text for instruction in safety_for(level)]
    if constraints.supervised_only:
        lines.append(
            "Only walk backwards with your physiotherapist or a trained helper beside you."
        )
    if constraints.handrails_required:
        lines.append("Always hold on: to the parallel bars or to both treadmill handrails.")
    if constraints.max_speed_kmh is not None:
        lines.append(f"Never go faster than {constraints.max_speed_kmh:g} km/h.")
    if constraints.max_incline_pct is not None:
        if constraints.max_incline_pct == 0:
            lines.append("Keep the treadmill flat, with no slope.")
        else:
            lines.append(f"Keep the treadmill slope at {constraints.max_incline_pct:g} % or less.")
    if constraints.bp_check_each_session:
        lines.append("Have your blood pressure checked before each session.")
    if constraints.intensity_by_rpe:
        lines.append("Go by how hard it feels, not by your heart rate.")
    return lines


def _days_words(days: list[int]) -> str:
    names = [WEEKDAYS[d] for d in sorted(days) if 0 <= d < 7]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _next_walking_day(days: list[int], today: dt.date) -> dt.date | None:
    for ahead in range(1, 8):
        day = today + dt.timedelta(days=ahead)
        if day.weekday() in days:
            return day
    return None


def _timer(prescription: CappedLevel) -> dict:
    level = prescription.level
    return {
        "minutes": level.minutes,
        "backward_seconds": level.interval.backward_seconds if level.interval else "",
        "forward_seconds": level.interval.forward_seconds if level.interval else "",
        "first_phase": "Walk backwards",
    }


@patient_required
def today(request):
    principal = request.principal
    patient = principal.patient
    local_today = patient.local_today()
    plan = selectors.portal_plan(principal)
    context = {
        "nav": "today",
        "patient": patient,
        "clinic": principal.clinic,
        "plan": plan,
        "today": local_today,
        "state": "none" if plan is None else plan.status,
    }
    if plan is not None:
        recent = selectors.portal_recent_sessions(principal, plan=plan, today=local_today)
        context["logged_today"] = recent.logged_today
        if recent.awaiting_next_morning is not None:
            context["awaiting"] = recent.awaiting_next_morning
            context["awaiting_is_yesterday"] = (
                recent.awaiting_next_morning.date == local_today - dt.timedelta(days=1)
            )
            context["morning_form"] = NextMorningPainForm(
                auto_id=f"morning_{recent.awaiting_next_morning.pk}_%s"
            )
        if plan.status == Plan.Status.ACTIVE:
            prescription = plan.current_prescription()
            context.update(
                prescription=prescription,
                sentences=prescription_sentences(prescription),
                sessions_per_week=prescription.level.sessions_per_week,
                safety=safety_lines(prescription, plan.constraints_obj),
                timer=_timer(prescription),
                schedule_words=_days_words(plan.schedule_days),
                # Days the clinician set that differ from the level's sessions a week are named
                # as days, never as "3 times a week: Monday, ..., Saturday".
                schedule_count=len(set(plan.schedule_days)),
                scheduled_today=local_today.weekday() in plan.schedule_days,
                next_walking_day=_next_walking_day(plan.schedule_days, local_today),
            )
            if recent.logged_today is None:
                context["form"] = log_form_for(plan=plan, today=local_today)
    audit_record(
        actor=request.user,
        action="portal.today",
        obj=plan,
        patient=patient,
        clinic=principal.clinic,
    )
    return render(request, "patients/today.html", context)


urlpatterns = [path("", today, name="today")]
