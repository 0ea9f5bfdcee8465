"""My progress: charts, the walking calendar, the level history, the questionnaires and the
patient's own progress reports.

The views read through selectors scoped to the signed-in patient and write through services;
what they add is wording: a level change's reasons, written for clinicians, are told here in
plain words for the patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe

from patients.access import patient_required
from patients.forms import outcomes as forms_outcomes
from rehab import selectors, services, wording
from rehab.audit import AuditAction, audit_record
from rehab.clinical import outcomes as clinical_outcomes
from rehab.errors import RehabError
from rehab.models import Report
from rehab.reports import charts
from rehab.web import apply_outcome_errors

# Charts are drawn this size and scaled by the browser (viewBox, width 100 %): about 1:1 on a
# 360 px phone (310 px for the drawing), with 13-unit labels, so they are at least 12 px there.
# At 340 units and the PDF's 7.5-unit labels they were 6.8 px. portal_progress.css caps the
# width, so a wide screen does not blow the labels up either.
CHART_WIDTH, CHART_HEIGHT, CHART_TEXT = 300, 240, 13

# --- level history in plain words ----------------------------------------------------------------

_LEVEL_PREFIX = re.compile(r"^\s*level\s+\d+\s*[:.\-–—]\s*", re.IGNORECASE)  # noqa: RUF001


def _level_words(plan, index: int | None) -> str:
    """'level 4 (10 min at 2 km/h, both rails)': the number people count, then what it asks
    (within the plan's constraints)."""
    if index is None:
        return "a new level"
    name = plan.level_name(index)
    detail = _LEVEL_PREFIX.sub("", name).strip()
    return f"level {index + 1}" + (f" ({detail})" if detail else "")


def _because(event: selectors.PlanEvent) -> str:
    return wording.because(event.reasons, event.kind)


def _history_sentence(event: selectors.PlanEvent, plan) -> str:
    to_level = _level_words(plan, event.to_level)
    if event.kind == "start":
        return f"you started your plan at {to_level}."
    if event.kind in ("advance", "regress") and event.by_clinician:
        moved = "up" if event.kind == "advance" else "back"
        note = next((r.get("text", "").strip() for r in event.reasons if r.get("text")), "")
        sentence = f"your physiotherapist moved you {moved} to {to_level}."
        return sentence + (f" Their note: “{note}”" if note else "")
    because = _because(event)
    because = f" because {because}" if because else ""
    if event.kind == "advance":
        return f"moved up to {to_level}{because}."
    if event.kind == "regress":
        return f"moved back to {to_level} to make it easier{because}."
    if event.kind == "pause" and event.reasons:
        return (
            f"your plan was paused{because}. Your physiotherapist will talk with you before "
            "you carry on."
        )
    return {
        "pause": "your physiotherapist paused your plan.",
        "resume": "your plan started again.",
        "complete": "you finished your plan. Well done!",
        "discontinue": "your plan was stopped.",
    }.get(event.kind, "your plan changed.")


# --- charts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartView:
    title: str
    svg: str  # safe: chart_svg escapes every text it draws
    summary: str


def _chart_views(points) -> list[ChartView]:
    minutes, speed = charts.minutes_speed_charts(points)
    views = []
    for chart in (charts.pain_chart(points), minutes, speed):
        views.append(
            ChartView(
                title=chart.title,
                svg=mark_safe(
                    charts.chart_svg(chart, CHART_WIDTH, CHART_HEIGHT, text_size=CHART_TEXT)
                ),
                summary=charts.chart_text_alternative(chart),
            )
        )
    return views


# --- questionnaires in words ---------------------------------------------------------------------


def _subscale(code: str) -> str:
    return wording.subscale(code, wording.PATIENT)


def _outcome_view(status: selectors.OutcomeStatus, drafts: dict | None = None) -> dict:
    code = status.measure
    draft = (drafts or {}).get(code)
    pages = forms_outcomes.questionnaire_pages(code)
    words = forms_outcomes.measure_words(code)
    subscales = clinical_outcomes.get_measure(code).subscales
    rows = [
        (
            score.taken_on,
            [(_subscale(s), forms_outcomes.number(score.scores.get(s))) for s in subscales],
        )
        for score in reversed(status.scores)
    ]
    changes = [(_subscale(c.subscale), forms_outcomes.change_words(c)) for c in status.changes]
    return {
        "code": code,
        "name": words.name,
        "minutes": words.minutes,
        "about": words.about,
        "due": status.due,
        "next_due": status.next_due,
        "first": status.scores[0].taken_on if status.scores else None,
        "online": forms_outcomes.available_online(code),
        "url": reverse("patients:questionnaire", args=[code]),
        "direction": forms_outcomes.direction_words(code),
        # A questionnaire left half answered: where the patient carries on.
        "draft_page": min(draft.page, len(pages) - 1) + 1 if draft and pages else None,
        "page_count": len(pages),
        "single": len(subscales) == 1,
        "rows": rows,
        "changes": changes,
    }


# --- pages ---------------------------------------------------------------------------------------


@patient_required
def progress(request):
    principal = request.principal
    patient = principal.patient
    today = patient.local_today()
    plan = selectors.portal_plan(principal)
    context: dict = {"nav": "progress", "plan": plan, "today": today}
    if plan is not None:
        weeks_ago = today - timedelta(weeks=selectors.PORTAL_CHART_WEEKS)
        since = max(weeks_ago, min(plan.start_date, today))
        logs = selectors.portal_progress_sessions(principal, plan=plan, since=since, today=today)
        history = selectors.portal_plan_history(principal, plan=plan)
        points = selectors.session_points(logs)
        statuses = selectors.portal_outcomes(principal, plan=plan, today=today)
        # Only a due questionnaire answered page by page can have been left half answered.
        paged_due = any(s.due and forms_outcomes.questionnaire_pages(s.measure) for s in statuses)
        drafts = selectors.portal_questionnaire_drafts(principal) if paged_due else {}
        outcomes = [_outcome_view(status, drafts) for status in statuses]
        context.update(
            level_number=plan.current_level + 1,
            level_count=len(plan.levels),
            calendar=selectors.portal_adherence_calendar(
                plan=plan,
                session_days={log.date for log in logs},
                today=today,
            ),
            charts=_chart_views(points),
            points=list(reversed(points)),
            chart_since=since,
            history=[(event.day, _history_sentence(event, plan)) for event in history],
            due=[o for o in outcomes if o["due"]],
            outcomes=[o for o in outcomes if o["rows"]],
        )
    audit_record(
        actor=request.user,
        action=AuditAction.PLAN_READ,
        obj=plan,
        patient=patient,
        detail={"page": "portal progress"},
    )
    return render(request, "patients/progress.html", context)


@patient_required
def questionnaire(request, measure: str):
    principal = request.principal
    patient = principal.patient
    today = patient.local_today()
    plan = selectors.portal_plan(principal)
    if measure not in selectors.portal_outcome_measures(plan):
        raise Http404("Not one of your questionnaires.")
    status = next(
        s
        for s in selectors.portal_outcomes(principal, plan=plan, today=today)
        if s.measure == measure
    )
    context = {
        "nav": "progress",
        "measure": measure,
        "words": forms_outcomes.measure_words(measure),
        "status": status,
        "online": forms_outcomes.available_online(measure),
    }
    # Posting to a questionnaire that has no form yet changes nothing: said on the page, as a 400.
    code = 400 if request.method == "POST" else 200
    pages = forms_outcomes.questionnaire_pages(measure)
    # A long questionnaire goes page by page; a post without a page (all its answers at once,
    # from a page shown before it went page by page) is still scored as a whole.
    if context["online"] and pages and (request.method != "POST" or "page" in request.POST):
        return _questionnaire_pages(request, measure=measure, pages=pages, context=context)
    if context["online"]:
        previous = status.latest.answers if status.latest is not None else None
        form = forms_outcomes.questionnaire_form(
            measure, request.POST if request.method == "POST" else None, previous_answers=previous
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.outcome_record(
                    patient=patient, measure=measure, answers=form.answers(), actor=request.user
                )
            except RehabError as error:
                apply_outcome_errors(form, error)
                code = error.status
            else:
                messages.success(
                    request,
                    f"Thank you: your answers to the {context['words'].name} are saved.",
                )
                return redirect(reverse("patients:progress") + "#scores")
        context["form"] = form
    audit_record(
        actor=request.user,
        action=AuditAction.OUTCOME_READ,
        patient=patient,
        detail={"measure": measure, "page": "portal questionnaire"},
    )
    return render(request, "patients/questionnaire.html", context, status=code)


def _page_index(raw, pages, default: int) -> int:
    """A page's number as the URL and the form give it (1-based), as an index within range."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return default
    return min(max(number - 1, 0), len(pages) - 1)


def _questionnaire_pages(request, *, measure: str, pages, context: dict):
    """A long questionnaire, one page at a time. Each page's answers are saved as it is left
    (Next, Back or "Save and finish later"), so a locked phone or an ended sign-in loses
    nothing, and opening the questionnaire again resumes at the page left. The last page's Next
    scores the whole questionnaire as outcome_record always has; a refusal (a KOOS part under
    half answered) is shown, filled in, on the page it is about."""
    principal = request.principal
    patient = principal.patient
    draft = selectors.portal_questionnaire_draft(principal, measure=measure)
    saved = dict(draft.answers) if draft is not None else {}
    status = 200
    here = reverse("patients:questionnaire", args=[measure])
    if request.method == "POST":
        index = _page_index(request.POST.get("page"), pages, 0)
        form = forms_outcomes.questionnaire_form(measure, request.POST, page=pages[index])
        go = request.POST.get("go", "next")
        status = 400
        if form.is_valid():
            answers = form.answers()
            last = index == len(pages) - 1
            if go == "next" and last:
                services.questionnaire_draft_save(
                    patient=patient,
                    measure=measure,
                    answers=answers,
                    page=index,
                    actor=request.user,
                )
                everything = {**saved, **answers}
                try:
                    services.questionnaire_finish(
                        patient=patient, measure=measure, answers=everything, actor=request.user
                    )
                except RehabError as error:
                    index = forms_outcomes.page_of_error(pages, error.fields)
                    form = forms_outcomes.questionnaire_form(
                        measure,
                        forms_outcomes.page_data(pages[index], everything),
                        page=pages[index],
                    )
                    form.is_valid()
                    apply_outcome_errors(form, error)
                    status = error.status
                else:
                    messages.success(
                        request,
                        f"Thank you: your answers to the {context['words'].name} are saved.",
                    )
                    return redirect(reverse("patients:progress") + "#scores")
            else:
                if go == "back":
                    target = max(index - 1, 0)
                elif go == "next":
                    target = index + 1
                else:  # "later": saved, to carry on another time
                    target = index
                services.questionnaire_draft_save(
                    patient=patient,
                    measure=measure,
                    answers=answers,
                    page=target,
                    actor=request.user,
                )
                if go not in ("back", "next"):
                    messages.success(
                        request,
                        "Your answers so far are saved. Open the questionnaire again to carry on "
                        "where you left off.",
                    )
                    return redirect("patients:progress")
                return redirect(f"{here}?page={target + 1}")
    else:
        index = _page_index(request.GET.get("page"), pages, draft.page if draft is not None else 0)
        index = min(index, len(pages) - 1)
        initial = {item: saved[item] for item in pages[index].items if item in saved}
        form = forms_outcomes.questionnaire_form(measure, page=pages[index], initial=initial)
    context.update(
        form=form,
        page=pages[index],
        page_number=index + 1,
        page_count=len(pages),
        is_last_page=index == len(pages) - 1,
        resumed=request.method == "GET" and "page" not in request.GET and draft is not None,
    )
    audit_record(
        actor=request.user,
        action=AuditAction.OUTCOME_READ,
        patient=patient,
        detail={"measure": measure, "page": "portal questionnaire"},
    )
    return render(request, "patients/questionnaire.html", context, status=status)


@patient_required
def reports(request):
    principal = request.principal
    error = None
    code = 200
    if request.method == "POST":
        try:
            services.report_request(
                patient=principal.patient, audience=Report.Audience.PATIENT, actor=request.user
            )
        except RehabError as exc:
            error, code = exc.message, exc.status
        else:
            messages.success(
                request,
                "We are making your progress report. It is usually ready within a minute.",
            )
            return redirect("patients:reports")
    rows = selectors.portal_reports(principal)
    audit_record(
        actor=request.user,
        action=AuditAction.REPORT_LIST,
        patient=principal.patient,
        detail={"page": "portal reports"},
    )
    return render(
        request,
        "patients/reports.html",
        {
            "nav": "progress",
            "reports": rows,
            "error": error,
            "preparing": any(
                r.status in (Report.Status.PENDING, Report.Status.RENDERING) for r in rows
            ),
        },
        status=code,
    )


@patient_required
def report_download(request, pk: int):
    try:
        file = services.report_download(principal=request.principal, report_id=pk)
    except Report.DoesNotExist:
        raise Http404("No such report.") from None
    except services.ReportUnavailable as exc:
        # Told in the patient's words on their list of reports, where they can make a new one.
        if exc.code == "report_missing":
            messages.error(
                request, "That report's file is no longer there. Please make a new report."
            )
        elif exc.report.status == Report.Status.FAILED:
            messages.error(request, "Sorry, we could not make that report. Please make a new one.")
        else:
            messages.info(
                request, "Your report is still being prepared. Please try again in a minute."
            )
        return redirect("patients:reports")
    response = FileResponse(
        file.open(), content_type=file.content_type, as_attachment=True, filename=file.filename
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("progress/", progress, name="progress"),
    path("questionnaires/<str:measure>/", questionnaire, name="questionnaire"),
    path("reports/", reports, name="reports"),
    path("reports/<int:pk>/download/", report_download, name="report_download"),
]
