"""Every stop message of the portal ("stop exercising now, contact your clinic") shows the
clinic's phone as a tap-to-call link; without a phone it names the clinic in words."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from tests.factories import PatientFactory, UserFactory, active_plan, good_session

NOW = "2026-03-02 10:00"
LOG_URL = reverse("patients:session_log")
TODAY_URL = reverse("patients:today")
CALL = (
    '<a class="button primary" href="tel:+441614960000">Call Riverside Physiotherapy: '
    "+44 (0)161 496 0000</a>"
)
INLINE = '<a class="tel-link" href="tel:+441614960000">call +44 (0)161 496 0000</a>'


@pytest.fixture
def plan(db):
    plan = active_plan()
    clinic = plan.patient.clinic
    clinic.name = "Riverside Physiotherapy"
    clinic.phone = "+44 (0)161 496 0000"
    clinic.opening_hours = "Monday to Friday 8:00-18:00\nSaturday <9:00-12:00>"
    clinic.save()
    plan.patient.user = UserFactory()
    plan.patient.save()
    return plan


@pytest.fixture
def portal(client, plan):
    client.force_login(plan.patient.user)
    return client


def _answers(**overrides) -> dict:
    return {
        "date": "2026-03-02",
        "minutes_done": "10",
        "setting": "treadmill_both_handrails",
        "pain_before": "2",
        "pain_worst": "3",
        "pain_after": "2",
        "effort": "3",
        "swelling": "none",
        **overrides,
    }


def _html(response) -> str:
    return response.content.decode()


def _stop_banner(response) -> str:
    match = re.search(
        r'<div class="banner banner-danger stop-banner".*?</div>', _html(response), re.S
    )
    assert match is not None
    return match.group(0)


@freeze_time(NOW)
@pytest.mark.parametrize("event", [{"fall": "on"}, {"chest_pain": "on"}, {"pain_worst": "8"}])
def test_the_stop_message_after_a_pausing_log_has_a_tap_to_call_button(portal, event):
    response = portal.post(LOG_URL, _answers(**event), follow=True)
    banner = _stop_banner(response)
    assert "Stop exercising now." in banner
    assert CALL in banner
    assert "Opening hours: Monday to Friday 8:00-18:00<br>Saturday &lt;9:00-12:00&gt;" in banner


@freeze_time(NOW)
def test_without_a_phone_the_stop_message_names_the_clinic_in_words(portal, plan):
    plan.patient.clinic.phone = ""
    plan.patient.clinic.save()
    response = portal.post(LOG_URL, _answers(fall="on"), follow=True)
    banner = _stop_banner(response)
    assert "Please contact your clinic today: <strong>Riverside Physiotherapy</strong>." in banner
    assert "tel:" not in _html(response)


@freeze_time(NOW)
def test_a_plan_on_hold_shows_the_call_button_on_today_and_on_the_log_page(portal, plan):
    services.plan_pause(plan=plan, actor=None, reason="Review first.")
    for url in (TODAY_URL, LOG_URL):
        html = _html(portal.get(url))
        assert "Your plan is on hold." in html
        assert CALL in html


@freeze_time(NOW)
def test_the_rest_message_after_a_near_fall_links_the_phone(portal):
    response = portal.post(LOG_URL, _answers(near_fall="on"), follow=True)
    html = _html(response)
    assert "If it happens again, stop and contact your clinic: " in html
    assert f"<strong>Riverside Physiotherapy</strong>, {INLINE}." in html


@freeze_time(NOW)
def test_an_ended_plan_and_no_plan_yet_link_the_phone_too(client, portal, plan):
    services.plan_discontinue(plan=plan, actor=None, reason="Moved away.")
    assert INLINE in _html(portal.get(TODAY_URL))

    patient = PatientFactory(clinic=plan.patient.clinic, user=UserFactory())
    client.force_login(patient.user)
    assert (
        f"Questions? Contact your clinic: <strong>Riverside Physiotherapy</strong>, {INLINE}."
        in (_html(client.get(TODAY_URL)))
    )


@freeze_time(NOW)
def test_the_saved_stop_page_costs_the_same_queries(portal, plan, django_assert_num_queries):
    log = services.session_log(
        plan=plan, actor=None, date=plan.start_date, **good_session(fall=True)
    )
    url = reverse("patients:session_saved", args=[log.pk])
    portal.get(url)
    # session, user, clinician?, patient, the log with its plan and its decision (one join;
    # before the session named its decision, a query of its own: 7), audit event
    with django_assert_num_queries(6):
        assert CALL in _html(portal.get(url))
