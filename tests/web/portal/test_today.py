"""The portal's Today page: what to do today in plain words, the safety list, the states of a
plan, the next-morning prompt and the guided timer's markup."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from rehab.clinical import levels as L
from rehab.models import AuditEvent, Plan
from tests.factories import (
    TODAY,
    PatientFactory,
    UserFactory,
    active_plan,
    builtin_protocol,
    clean_answers,
    good_session,
)

TODAY_URL = reverse("patients:today")
NOW = "2026-03-02 10:00"  # Monday, TODAY, mid-morning in London (UTC in March)
TOMORROW = "2026-03-03 08:30"


def _with_portal_user(plan: Plan) -> Plan:
    plan.patient.user = UserFactory()
    plan.patient.save()
    return plan


@pytest.fixture
def plan(db):
    return _with_portal_user(active_plan())


@pytest.fixture
def portal(client, plan):
    client.force_login(plan.patient.user)
    return client


def _low_back_plan() -> Plan:
    patient = PatientFactory(condition=L.CHRONIC_LOW_BACK_PAIN, user=UserFactory())
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=TODAY
    )
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(L.CHRONIC_LOW_BACK_PAIN),
        actor=None,
        start_date=TODAY,
        today=TODAY,
    )


def _text(response) -> str:
    """The page's visible words with tags removed and spaces collapsed."""
    assert response.status_code == 200, response
    page = response.content.decode()
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _visit_on(when: str, client, plan):
    """Today's page at another moment; signed in afresh, as the idle session would have ended."""
    with freeze_time(when):
        client.force_login(plan.patient.user)
        return client.get(TODAY_URL)


def _log(plan, day, **overrides):
    return services.session_log(
        plan=plan, actor=None, date=day, today=day, **good_session(**overrides)
    )


@freeze_time(NOW)
def test_today_says_what_to_do_in_plain_sentences(portal, plan):
    response = portal.get(TODAY_URL)

    assert response.status_code == 200
    text = _text(response)
    assert "What to do today" in text  # Monday is one of the default Mon/Wed/Fri days
    assert "Walk backwards for 10 minutes" in text
    assert "On the treadmill, holding both handrails" in text
    assert "At 1.5 km/h" in text
    assert "With the treadmill flat (no slope)" in text
    assert "3 times a week: Monday, Wednesday and Friday" in text
    assert response.context["nav"] == "today"


@freeze_time(NOW)
def test_walking_days_other_than_the_levels_sessions_a_week_are_named_as_days(portal, plan):
    # The clinician set six walking days; the level asks for 3 a week: never "3 times a week:
    # Monday, Tuesday, ..., Saturday".
    plan.schedule_days = [0, 1, 2, 3, 4, 5]
    plan.save(update_fields=["schedule_days"])

    text = _text(portal.get(TODAY_URL))

    assert "Your walking days: Monday, Tuesday, Wednesday, Thursday, Friday and Saturday." in text
    assert "3 times a week" not in text


@freeze_time(NOW)
def test_today_shows_the_treadmill_safety_instructions_under_stay_safe(portal):
    text = _text(portal.get(TODAY_URL))

    safety = text.split("Stay safe", 1)[1]
    assert "Clip on the treadmill's safety key before you start." in safety
    assert "Check that there is no furniture, mat, toy or pet behind you." in safety
    # Open-ground advice belongs to overground levels only.
    assert "potholes" not in safety


@freeze_time(NOW)
def test_safety_list_adds_what_this_patients_screening_asks(client, db):
    plan = _with_portal_user(active_plan(feels_unsteady=True))  # fall-risk constraints
    client.force_login(plan.patient.user)

    text = _text(client.get(TODAY_URL)).split("Stay safe", 1)[1]

    assert "Only walk backwards with your physiotherapist or a trained helper beside you." in text
    assert "Never go faster than 1.5 km/h." in text
    assert "Keep the treadmill flat, with no slope." in text


@freeze_time(NOW)
def test_intervals_are_said_in_words_with_the_overground_instructions(client, db):
    plan = _low_back_plan()
    client.force_login(plan.patient.user)

    response = client.get(TODAY_URL)

    text = _text(response)
    assert "Walk for 10 minutes, changing between backwards and forwards" in text
    assert "1 minute backwards, then 1 minute forwards, repeated" in text
    assert "On a clear, level floor with nothing behind you" in text
    assert "At a speed that feels comfortable" in text
    assert "Outdoors, watch for people, animals and potholes." in text
    assert "safety key" not in text
    html = response.content.decode()
    assert 'data-backward-seconds="60"' in html
    assert 'data-forward-seconds="60"' in html


@freeze_time(NOW)
def test_timer_markup_is_hidden_until_the_script_shows_it(portal):
    html = portal.get(TODAY_URL).content.decode()

    section = re.search(r'<section id="session-timer"[^>]*>', html).group(0)
    assert " hidden" in section
    assert 'data-minutes="10"' in section
    for element_id in (
        "timer-start",
        "timer-pause",
        "timer-stop",
        "timer-phase",
        "timer-remaining",
        "timer-announce",
        "log-form-message",
        "id_minutes_done",
    ):
        assert f'id="{element_id}"' in html
    assert 'aria-live="assertive"' in html
    assert "js/session_timer.js" in html


@freeze_time(NOW)
def test_log_form_is_on_the_page_prefilled_with_the_prescription(portal):
    response = portal.get(TODAY_URL)

    form = response.context["form"]
    assert form["date"].value() == TODAY
    assert form["minutes_done"].value() == 10
    assert form["setting"].value() == L.TREADMILL_BOTH_HANDRAILS
    assert form["speed_kmh"].value() == "1.5"
    html = response.content.decode()
    assert f'action="{reverse("patients:session_log")}"' in html
    # Each pain radio is labelled with its number and its word (the number shown large, the
    # words in the label for a screen reader and, once chosen, under the scale).
    assert re.search(
        r'<label class="scale-step" for="id_pain_before_3"><input type="radio"[^>]*'
        r'id="id_pain_before_3"[^>]*><span class="scale-number" aria-hidden="true">3</span>'
        r'<span class="visually-hidden">3 — mild</span></label>',
        html,
    )
    assert "7 — very hard" in html  # Borg CR10
    # The words at 0, 5 and 10 are shown under each scale.
    assert html.count("<span>no pain</span><span>moderate</span><span>worst imaginable</span>") == 3
    assert "<span>nothing at all</span><span>hard</span><span>as hard as possible</span>" in html


@freeze_time(NOW)
def test_rest_day_says_so_and_names_the_next_walking_day(portal, plan):
    text = _text(_visit_on("2026-03-03 10:00", portal, plan))  # a Tuesday

    assert "Today is a rest day" in text
    assert "Your next walk, on Wednesday 4 March:" in text
    assert "What to do today" not in text
    assert "If you walked today anyway, fill this in" in text


@freeze_time(NOW)
def test_already_logged_today_says_done_and_hides_the_form(portal, plan):
    log = _log(plan, TODAY)

    response = portal.get(TODAY_URL)

    text = _text(response)
    assert "Done today ✓ — well done" in text
    assert "form" not in response.context
    assert 'id="session-timer"' not in response.content.decode()
    assert reverse("patients:session_saved", args=[log.pk]) in response.content.decode()


@freeze_time(NOW)
def test_no_plan_yet_says_the_physiotherapist_will_set_it_up(client, db):
    patient = PatientFactory(user=UserFactory())
    client.force_login(patient.user)

    response = client.get(TODAY_URL)

    assert response.status_code == 200
    assert "Your physiotherapist will set up your plan." in _text(response)
    assert "form" not in response.context


@freeze_time(NOW)
def test_paused_plan_shows_a_calm_hold_banner_without_timer_or_form(portal, plan):
    services.plan_pause(plan=plan, actor=None, reason="Knee review booked for Friday.")

    response = portal.get(TODAY_URL)

    text = _text(response)
    assert "Your plan is on hold" in text
    assert "Please contact your clinic before walking again" in text
    assert plan.patient.clinic.name in text
    assert "Knee review booked for Friday." in text
    assert "form" not in response.context
    assert 'id="session-timer"' not in response.content.decode()
    assert "Walk backwards for" not in text


@freeze_time(NOW)
def test_completed_plan_says_well_done(portal, plan):
    services.plan_complete(plan=plan, actor=None)

    text = _text(portal.get(TODAY_URL))

    assert "You have finished your walking plan. Well done!" in text


@freeze_time(NOW)
def test_next_morning_prompt_appears_the_day_after_a_session(portal, plan):
    log = _log(plan, TODAY)
    assert "How is your pain this morning?" not in _text(portal.get(TODAY_URL))

    response = _visit_on(TOMORROW, portal, plan)

    text = _text(response)
    assert "How is your pain this morning?" in text
    assert reverse("patients:next_morning", args=[log.pk]) in response.content.decode()


@freeze_time(NOW)
def test_next_morning_prompt_names_the_day_two_days_later_and_stops_after(portal, plan):
    _log(plan, TODAY)

    two_days = _text(_visit_on("2026-03-04 09:00", portal, plan))
    three_days = _text(_visit_on("2026-03-05 09:00", portal, plan))

    assert "How was your pain the morning after your walk on Monday 2 March?" in two_days
    assert "morning after your walk" not in three_days


@freeze_time(NOW)
def test_next_morning_prompt_is_gone_once_answered(portal, plan):
    log = _log(plan, TODAY)
    with freeze_time(TOMORROW):
        services.session_add_next_morning_pain(session=log, pain=2, actor=None)
    text = _text(_visit_on(TOMORROW, portal, plan))

    assert "How is your pain this morning?" not in text


@freeze_time(NOW)
def test_today_records_a_read_of_the_patients_data(portal, plan):
    portal.get(TODAY_URL)

    event = AuditEvent.objects.filter(action="portal.today").get()
    assert event.patient == plan.patient
    assert event.actor == plan.patient.user


@freeze_time(NOW)
def test_today_with_a_plan_costs_a_fixed_number_of_queries(portal, plan, django_assert_num_queries):
    portal.get(TODAY_URL)  # the first request refreshes the session; count a steady one
    # session, user, clinician?, patient, plan, recent sessions, audit event
    with django_assert_num_queries(7):
        response = portal.get(TODAY_URL)
    assert "form" in response.context


@freeze_time(NOW)
def test_today_with_the_next_morning_prompt_costs_the_same_queries(
    portal, plan, django_assert_num_queries
):
    plan.start_date = TODAY - dt.timedelta(days=2)
    plan.save()
    _log(plan, TODAY - dt.timedelta(days=2))
    _log(plan, TODAY - dt.timedelta(days=1))
    portal.get(TODAY_URL)

    with django_assert_num_queries(7):
        response = portal.get(TODAY_URL)
    assert "awaiting" in response.context


def test_anonymous_visitor_is_sent_to_the_portal_sign_in(client, db):
    response = client.get(TODAY_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/")


def test_clinician_is_sent_to_the_dashboard(dashboard):
    response = dashboard.get(TODAY_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("clinicians:today")
