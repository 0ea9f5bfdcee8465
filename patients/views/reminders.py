"""Reminders: how and when the patient is reminded, the last reminders and what became of them,
and a private calendar link of their walking days for their phone's calendar."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST, require_safe

from patients.access import patient_required
from patients.forms.reminders import ReminderSettingsForm, timezone_place
from rehab import calendar, selectors, services, wording
from rehab.audit import AuditAction, audit_record
from rehab.errors import RehabError
from rehab.models import Patient
from rehab.web import apply_errors

_MISSING = {Patient.Channel.EMAIL: "e-mail address", Patient.Channel.SMS: "mobile phone number"}


# --- Words ---------------------------------------------------------------------------------------


def _clock(moment) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def _zone_words(name: str) -> str:
    place = timezone_place(name)
    return f"{place} time" if place != name else place


def settings_sentences(settings: selectors.ReminderSettings) -> list[str]:
    """What the patient's reminder settings add up to, in a sentence or three."""
    state = settings.state
    if state == "paused":
        return ["Your reminders are paused. We won't send any until you turn them back on below."]
    if state == "off":
        return ["You have chosen not to get reminders."]
    if state == "unreachable":
        return [
            f"We can't send your reminders {wording.reminder_channel(settings.channel)}: there "
            f"is no {_MISSING[settings.channel]} on your record. Choose another way below, or ask "
            "your clinic to add one."
        ]
    if state == "no_plan":
        return ["You have no walking plan at the moment, so there is nothing to remind you about."]
    if state == "plan_paused":
        return ["Your walking plan is paused for now, so we are not sending reminders."]
    sentences = [
        f"We'll remind you {wording.reminder_channel(settings.channel)} at {_clock(settings.time)} "
        f"({_zone_words(settings.timezone)}) on your walking days: "
        f"{wording.days_words(settings.schedule_days)}."
    ]
    if settings.sends_at != settings.time:
        sentences.append(
            f"Your clinic sends no messages between {_clock(settings.quiet_start)} and "
            f"{_clock(settings.quiet_end)}, so your reminder comes at {_clock(settings.sends_at)}."
        )
    sentences.append(
        "If a walking day goes by without a walk logged, we send one gentle reminder the next day."
    )
    return sentences


# --- Pages ---------------------------------------------------------------------------------------


def _render_page(request, *, form=None, new_link: str = "", status: int = 200):
    principal = request.principal
    patient = principal.patient
    settings = selectors.reminder_settings_for(principal)
    context = {
        "nav": "reminders",
        "patient": patient,
        "form": form or ReminderSettingsForm(patient=patient),
        "state": settings.state,
        "sentences": settings_sentences(settings),
        "history": selectors.reminder_history_for(principal),
        "feed": selectors.calendar_feed_for(principal),
        "new_link": new_link,
        "webcal_link": "webcal://" + new_link.split("://", 1)[-1] if new_link else "",
    }
    audit_record(
        actor=request.user,
        action=AuditAction.PORTAL_REMINDERS,
        patient=patient,
        clinic=principal.clinic,
    )
    response = render(request, "patients/reminders.html", context, status=status)
    if new_link:
        # The link is shown once: no cache may keep a copy of the page that holds it.
        add_never_cache_headers(response)
    return response


@patient_required
def reminders(request):
    patient = request.principal.patient
    if request.method != "POST":
        return _render_page(request)
    form = ReminderSettingsForm(request.POST, patient=patient)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.patient_set_reminders(
                patient=patient,
                actor=request.user,
                channel=data["reminder_channel"],
                time=data["reminder_time"],
                timezone_name=data["timezone"],
                enabled=not data["paused"],
            )
        except RehabError as error:
            apply_errors(form, error, name_other_fields=False)
        else:
            messages.success(request, "Your reminder settings are saved.")
            return redirect("patients:reminders")
    return _render_page(request, form=form, status=400)


@patient_required
@require_POST
def calendar_create(request):
    try:
        token = services.calendar_feed_create(patient=request.principal.patient, actor=request.user)
    except RehabError as error:
        messages.error(request, error.message)
        return redirect("patients:reminders")
    link = request.build_absolute_uri(reverse("patients:calendar_feed", args=[token]))
    return _render_page(request, new_link=link)


@patient_required
@require_POST
def calendar_revoke(request):
    feed = services.calendar_feed_revoke(patient=request.principal.patient, actor=request.user)
    if feed is not None:
        messages.success(
            request,
            "Your calendar link has stopped working. You can remove the “Walking days” calendar "
            "from your calendar app.",
        )
    return redirect("patients:reminders")


@require_safe
def calendar_feed(request, token: str):
    """The feed a calendar app fetches. No sign-in (calendar apps cannot): the long random
    token is the credential, so an unknown or stopped one is simply not found."""
    feed = selectors.calendar_feed_for_token(token=token)
    if feed is None:
        raise Http404("No such calendar.")
    patient = feed.patient
    plan = None if patient.archived_at is not None else selectors.plan_open(patient=patient)
    # Apps poll every few hours; each fetch is a read of the patient's plan, so each is recorded.
    audit_record(
        actor=None,
        action=AuditAction.CALENDAR_FETCH,
        obj=feed,
        patient=patient,
        detail={"via": "calendar_feed"},
    )
    body = calendar.feed_ics(
        patient=patient,
        plan=plan,
        today=patient.local_today(),
        portal_url=request.build_absolute_uri(reverse("patients:today")),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="walking-days.ics"'
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [
    path("reminders/", reminders, name="reminders"),
    path("reminders/calendar/new/", calendar_create, name="calendar_create"),
    path("reminders/calendar/stop/", calendar_revoke, name="calendar_revoke"),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
