"""Logging a session from the portal, the page that says what happens next, and the next
morning's pain."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from patients.forms.log import SessionLogForm
from rehab import services
from rehab.clinical import levels as L
from rehab.models import Alert, AuditEvent, Plan, ProgressionDecision, SessionLog
from tests.factories import (
    TODAY,
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    active_plan,
    good_session,
)

LOG_URL = reverse("patients:session_log")
NOW = "2026-03-02 10:00"  # Monday, TODAY, in London (UTC in March)
TOMORROW = "2026-03-03 08:30"


@pytest.fixture
def plan(db):
    plan = active_plan()
    plan.patient.user = UserFactory()
    plan.patient.save()
    return plan


@pytest.fixture
def portal(client, plan):
    client.force_login(plan.patient.user)
    return client


def _answers(**overrides) -> dict:
    data = {
        "date": "2026-03-02",
        "minutes_done": "10",
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "speed_kmh": "1.5",
        "pain_before": "2",
        "pain_worst": "3",
        "pain_after": "2",
        "effort": "3",
        "swelling": "none",
        "notes": "Felt steady <today>",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def _text(response) -> str:
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def _checked(response, name: str, value: str) -> bool:
    return bool(
        re.search(
            rf'<input type="radio" name="{name}" value="{value}"[^>]* checked', _html(response)
        )
    )


def _html(response) -> str:
    return response.content.decode()


def _saved(plan) -> SessionLog:
    return SessionLog.objects.get(plan=plan)


# --- the form -------------------------------------------------------------------------------


@freeze_time(NOW)
def test_log_page_shows_the_form_prefilled_with_today_and_the_prescription(portal):
    response = portal.get(LOG_URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert form["date"].value() == TODAY
    assert form["minutes_done"].value() == 10
    assert 'max="2026-03-02"' in _html(response)
    # Knee conditions are asked about swelling; no slope is prescribed at level 1.
    assert "swelling" in form.fields
    assert "incline_pct" not in form.fields


@freeze_time(NOW)
def test_logging_a_session_saves_it_and_shows_what_happens_next(
    portal, plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the worker evaluates at commit
        response = portal.post(LOG_URL, _answers())

    log = _saved(plan)
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:session_saved", args=[log.pk])
    assert (log.minutes_done, log.pain_before, log.pain_worst, log.pain_after, log.effort) == (
        10,
        2,
        3,
        2,
        3,
    )
    assert float(log.speed_kmh) == 1.5
    assert log.notes == "Felt steady <today>"
    assert log.logged_by == plan.patient.user

    page = portal.get(response["Location"])
    text = _text(page)
    assert "Saved. Well done." in text
    assert "Tomorrow morning we will ask how your pain is." in text
    assert "3 — mild" in text  # worst pain, with its word
    assert "Stop exercising now" not in text
    # The first session at a level is too few to judge: the plan stays where it is.
    assert "Keep going at the same level." in text


@freeze_time(NOW)
def test_pain_out_of_range_is_refused_and_everything_typed_is_kept(portal, plan):
    response = portal.post(LOG_URL, _answers(pain_worst="11", minutes_done="12", fall="on"))

    assert response.status_code == 400
    assert not SessionLog.objects.exists()
    form = response.context["form"]
    assert form.errors["pain_worst"] == ["Choose a number from 0 to 10."]
    html = _html(response)
    assert 'role="alert"' in html
    assert 'href="#id_pain_worst"' in html
    assert 'value="12"' in html
    assert _checked(response, "pain_before", "2")
    assert _checked(response, "effort", "3")
    assert re.search(r'name="fall"[^>]* checked', html)
    assert "Felt steady &lt;today&gt;" in html


@pytest.mark.parametrize("typed", ["100", "12345.5", "-2", "10.5"])
@freeze_time(NOW)
def test_a_speed_out_of_range_is_one_plain_sentence_and_the_answers_are_kept(portal, typed):
    """Django's own words ("no more than 2 digits before the decimal point") said twice, next to
    "Enter 10 km/h or less", were what a patient who typed 100 read."""
    response = portal.post(LOG_URL, _answers(speed_kmh=typed, minutes_done="12"))

    assert response.status_code == 400
    assert not SessionLog.objects.exists()
    assert response.context["form"].errors["speed_kmh"] == [
        "Enter a speed between 0 and 10 km/h, for example 2.5."
    ]
    html = _html(response)
    assert "digits" not in html
    assert "decimal point" not in html
    assert f'value="{typed}"' in html
    assert 'value="12"' in html
    assert _checked(response, "pain_worst", "3")


@pytest.mark.parametrize("typed", ["100", "123.25", "-1", "20.5"])
def test_a_slope_out_of_range_is_one_plain_sentence(typed):
    form = SessionLogForm(
        {**_answers(), "incline_pct": typed}, today=dt.date(2026, 3, 2), show_incline=True
    )

    assert not form.is_valid()
    assert form.errors["incline_pct"] == [
        "Enter a slope between 0 and 20 %, for example 5. Use 0 if the treadmill was flat."
    ]


@pytest.mark.parametrize(("field", "typed"), [("speed_kmh", "2.55"), ("incline_pct", "2.25")])
def test_a_decimal_with_too_many_places_says_how_to_write_it(field, typed):
    form = SessionLogForm(
        {**_answers(), field: typed}, today=dt.date(2026, 3, 2), show_incline=True
    )

    assert not form.is_valid()
    (message,) = form.errors[field]
    assert message.startswith("Use at most one number after the point")


@freeze_time(NOW)
def test_missing_pain_is_asked_for_and_the_other_answers_stay_checked(portal):
    response = portal.post(LOG_URL, _answers(pain_after=None))

    assert response.status_code == 400
    assert response.context["form"].errors["pain_after"] == [
        "Choose how much pain you had just after (0 means none)."
    ]
    assert _checked(response, "pain_worst", "3")
    assert not SessionLog.objects.exists()


@freeze_time(NOW)
def test_a_future_date_is_refused_by_the_service_and_the_answers_are_kept(portal):
    response = portal.post(LOG_URL, _answers(date="2026-03-03"))

    assert response.status_code == 400
    assert response.context["form"].errors["date"] == [
        "A session cannot be logged for a future date."
    ]
    assert _checked(response, "pain_before", "2")
    assert 'value="2026-03-03"' in _html(response)
    assert not SessionLog.objects.exists()


@freeze_time(NOW)
def test_a_second_log_for_the_same_day_is_refused_with_a_clear_message(portal, plan):
    services.session_log(plan=plan, actor=None, date=TODAY, **good_session())

    response = portal.post(LOG_URL, _answers())

    assert response.status_code == 409
    assert "A session is already logged for 02 Mar 2026." in _text(response)
    assert SessionLog.objects.count() == 1


@freeze_time(NOW)
def test_a_paused_plan_takes_no_log_and_says_to_contact_the_clinic(portal, plan):
    services.plan_pause(plan=plan, actor=None, reason="Review first.")

    page = portal.get(LOG_URL)
    refused = portal.post(LOG_URL, _answers())

    assert "Your plan is on hold." in _text(page)
    assert "form" not in page.context
    assert refused.status_code == 409
    assert plan.patient.clinic.name in _text(refused)
    assert not SessionLog.objects.exists()


# --- adverse events -------------------------------------------------------------------------


@freeze_time(NOW)
def test_a_fall_pauses_the_plan_and_says_stop_and_contact_the_clinic(portal, plan):
    response = portal.post(LOG_URL, _answers(fall="on"), follow=True)

    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    text = _text(response)
    assert "Stop exercising now." in text
    assert f"Your plan is paused. Please contact your clinic today: {plan.patient.clinic.name}" in (
        text
    )
    assert re.search(r'class="banner banner-danger stop-banner" role="alert"', _html(response))
    assert "call emergency services" not in text
    assert "Tomorrow morning" not in text


@freeze_time(NOW)
def test_a_fall_logged_for_a_day_before_the_level_change_pauses_with_the_stop_message(client, db):
    """Moved up a level yesterday, the patient logs today the walk of the day before, where
    they fell: the same stop message, and the clinic is alerted."""
    plan = active_plan(today=TODAY - dt.timedelta(days=3))
    plan.patient.user = UserFactory()
    plan.patient.save()
    lead = ClinicianFactory(clinic=plan.clinic, is_clinic_admin=True)
    yesterday = TODAY - dt.timedelta(days=1)
    services.plan_set_level(plan=plan, level=1, actor=None, reason="Doing well", today=yesterday)
    client.force_login(plan.patient.user)

    fell_on = TODAY - dt.timedelta(days=2)
    response = client.post(LOG_URL, _answers(date=str(fell_on), fall="on"), follow=True)

    assert _saved(plan).date == fell_on
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    assert "Stop exercising now." in _text(response)
    alerted = Alert.objects.filter(decision__plan=plan, kind=Alert.Kind.PAUSE)
    assert [a.clinician for a in alerted] == [lead]


@freeze_time(NOW)
def test_chest_pain_also_says_to_call_emergency_services(portal, plan):
    response = portal.post(LOG_URL, _answers(chest_pain="on"), follow=True)

    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    text = _text(response)
    assert "Stop exercising now." in text
    assert "If you have chest pain now, call emergency services (999, 112 or 911)." in text


@freeze_time(NOW)
def test_severe_pain_pauses_the_plan_with_the_stop_message(portal, plan):
    response = portal.post(LOG_URL, _answers(pain_worst="8"), follow=True)

    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    assert "Stop exercising now." in _text(response)


@freeze_time(NOW)
def test_dizziness_keeps_the_plan_but_asks_to_rest_and_names_the_clinic(portal, plan):
    response = portal.post(LOG_URL, _answers(dizziness="on"), follow=True)

    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
    text = _text(response)
    assert "Please rest now" in text
    assert "you felt dizzy" in text
    assert plan.patient.clinic.name in text
    assert "Stop exercising now" not in text
    assert "Keep going at the same level." not in text


@freeze_time(NOW)
def test_the_patient_ticks_and_reads_back_what_happened_in_their_own_words(portal, plan):
    form_text = _text(portal.get(LOG_URL))
    for words in ("I fell", "I nearly fell", "I felt dizzy", "I had chest pain"):
        assert words in form_text

    response = portal.post(LOG_URL, _answers(dizziness="on", near_fall="on"), follow=True)

    assert "What happened I nearly fell, I felt dizzy" in _text(response)


# --- the result page --------------------------------------------------------------------------


@freeze_time(NOW)
def test_another_patients_session_is_not_found(portal, db):
    other = active_plan()
    log = services.session_log(plan=other, actor=None, date=TODAY, **good_session())

    assert portal.get(reverse("patients:session_saved", args=[log.pk])).status_code == 404


@freeze_time(NOW)
def test_result_page_costs_a_fixed_number_of_queries_and_records_the_read(
    portal, plan, django_assert_num_queries
):
    log = services.session_log(plan=plan, actor=None, date=TODAY, **good_session())
    url = reverse("patients:session_saved", args=[log.pk])
    portal.get(url)  # the first request refreshes the session; count a steady one

    # session, user, clinician?, patient, the log with its plan and its decision (one join;
    # before the session named its decision, a query of its own: 7), audit event
    with django_assert_num_queries(6):
        response = portal.get(url)

    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="portal.session_read", object_id=str(log.pk)).exists()


@freeze_time(NOW)
def test_an_applied_advance_is_said_in_plain_words(portal, plan):
    log = services.session_log(plan=plan, actor=None, date=TODAY, **good_session())
    services.session_evaluate(session_id=log.pk)  # the worker's part, done
    ProgressionDecision.objects.filter(plan=plan).update(
        outcome=ProgressionDecision.Outcome.ADVANCE, status=ProgressionDecision.Status.APPLIED
    )

    text = _text(portal.get(reverse("patients:session_saved", args=[log.pk])))

    assert "You are ready for the next step" in text


# --- next-morning pain ------------------------------------------------------------------------


def _morning(client, plan, log, when=TOMORROW, **data):
    with freeze_time(when):
        client.force_login(plan.patient.user)  # the idle session of the evening has ended
        return client.post(reverse("patients:next_morning", args=[log.pk]), data)


@freeze_time(NOW)
def test_next_morning_pain_is_saved_and_thanked_for(portal, plan):
    log = services.session_log(plan=plan, actor=None, date=TODAY, **good_session())

    response = _morning(portal, plan, log, pain="3")

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:today")
    log.refresh_from_db()
    assert log.pain_next_morning == 3
    with freeze_time(TOMORROW):
        assert "Your pain this morning is saved" in _text(portal.get(response["Location"]))


@freeze_time(NOW)
def test_next_morning_page_asks_about_that_walk_and_says_when_already_answered(portal, plan):
    log = services.session_log(plan=plan, actor=None, date=TODAY, **good_session())
    url = reverse("patients:next_morning", args=[log.pk])

    with freeze_time(TOMORROW):
        portal.force_login(plan.patient.user)
        asked = portal.get(url)
        services.session_add_next_morning_pain(session=log, pain=4, actor=None)
        answered = portal.get(url)

    assert "Your pain the morning after your walk on Monday 2 March" in _text(asked)
    assert 'name="pain" value="4"' in _html(asked)
    assert "You have already told us: 4 out of 10." in _text(answered)
    assert "form" not in _html(answered).split("<main", 1)[1].split("</main>", 1)[0]


@freeze_time(NOW)
def test_next_morning_pain_on_the_same_day_is_refused_with_the_reason(portal, plan):
    log = services.session_log(plan=plan, actor=None, date=TODAY, **good_session())

    response = _morning(portal, plan, log, when=NOW, pain="3")

    assert response.status_code == 400
    assert "Next-morning pain can be added from the next morning on." in _text(response)
    log.refresh_from_db()
    assert log.pain_next_morning is None


@freeze_time(NOW)
def test_next_morning_pain_out_of_range_or_missing_is_refused(portal, plan):
    log = services.session_log(plan=plan, actor=None, date=TODAY, **good_session())

    too_high = _morning(portal, plan, log, pain="11")
    missing = _morning(portal, plan, log)

    assert too_high.status_code == 400
    assert "Choose a number from 0 to 10." in _text(too_high)
    assert missing.status_code == 400
    assert "Choose how much pain you have this morning" in _text(missing)


@freeze_time(NOW)
def test_next_morning_pain_given_twice_is_refused(portal, plan):
    log = services.session_log(plan=plan, actor=None, date=TODAY, **good_session())
    _morning(portal, plan, log, pain="2")

    again = _morning(portal, plan, log, pain="5")

    assert again.status_code == 409
    assert "already recorded" in _text(again)
    log.refresh_from_db()
    assert log.pain_next_morning == 2


@freeze_time(NOW)
def test_next_morning_for_another_patients_session_is_not_found(portal, plan):
    other = active_plan()
    log = services.session_log(plan=other, actor=None, date=TODAY, **good_session())

    assert _morning(portal, plan, log, pain="2").status_code == 404
    with freeze_time(TOMORROW):
        assert portal.get(reverse("patients:next_morning", args=[log.pk])).status_code == 404
    log.refresh_from_db()
    assert log.pain_next_morning is None


# --- who may use it ---------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_portal_sign_in(client, db):
    for url in (LOG_URL, reverse("patients:next_morning", args=[1])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/portal/login/")


def test_clinician_is_sent_to_the_dashboard(dashboard):
    response = dashboard.post(LOG_URL, _answers())

    assert response.status_code == 302
    assert response["Location"] == reverse("clinicians:today")
    assert not SessionLog.objects.exists()


@freeze_time(NOW)
def test_patient_without_a_plan_is_told_there_is_nothing_to_log(client, db):
    patient = PatientFactory(user=UserFactory())
    client.force_login(patient.user)

    response = client.post(LOG_URL, _answers())

    assert response.status_code == 409
    assert "has not set up your plan yet" in _text(response)


@freeze_time(NOW)
def test_the_log_page_costs_a_fixed_number_of_queries(portal, plan, django_assert_num_queries):
    url = reverse("patients:session_log")
    portal.get(url)  # the first request refreshes the session; count a steady one
    # session, user, clinician?, patient, the plan (the form is built from its prescription),
    # and the audit event of that read
    with django_assert_num_queries(6):
        assert portal.get(url).status_code == 200
    assert AuditEvent.objects.filter(action="portal.log_form", patient=plan.patient).count() == 2
