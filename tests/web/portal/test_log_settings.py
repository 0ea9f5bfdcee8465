"""The portal's log form offers only the settings the plan allows (its screening's constraints
and its level), and a forged choice is a form error (docs/clinical.md §3)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from rehab.clinical import levels as L
from rehab.models import SessionLog
from tests.factories import UserFactory, active_plan

LOG_URL = reverse("patients:session_log")
NOW = "2026-03-02 10:00"


def _portal(client, plan):
    plan.patient.user = UserFactory()
    plan.patient.save()
    client.force_login(plan.patient.user)
    return client


@pytest.fixture
def fall_risk_plan(db):
    return active_plan(falls_past_12_months=1)


def _options(response) -> list[str]:
    """The places to walk the form offers: its radio buttons named "setting", in order."""
    html = response.content.decode()
    inputs = re.findall(r'<input[^>]*name="setting"[^>]*>', html)
    assert inputs
    return [re.search(r'value="([^"]+)"', tag).group(1) for tag in inputs]


def _answers(**overrides) -> dict:
    return {
        "date": "2026-03-02",
        "minutes_done": "10",
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "speed_kmh": "1.5",
        "pain_before": "2",
        "pain_worst": "3",
        "pain_after": "2",
        "effort": "3",
        "swelling": "none",
        "notes": "Walked in the park",
        **overrides,
    }


@freeze_time(NOW)
def test_under_fall_risk_constraints_overground_is_not_offered(client, fall_risk_plan):
    portal = _portal(client, fall_risk_plan)
    response = portal.get(LOG_URL)
    assert response.status_code == 200
    assert _options(response) == [L.PARALLEL_BARS, L.TREADMILL_BOTH_HANDRAILS]
    assert "Overground" not in response.content.decode()


@freeze_time(NOW)
def test_a_forged_overground_choice_is_a_form_error_and_everything_typed_is_kept(
    client, fall_risk_plan
):
    portal = _portal(client, fall_risk_plan)
    response = portal.post(LOG_URL, _answers(setting=L.OVERGROUND))

    assert response.status_code == 400
    assert not SessionLog.objects.exists()
    form = response.context["form"]
    assert form.errors["setting"] == [
        "Choose where you walked from the list: it shows the places your plan allows."
    ]
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert "Walked in the park" in html  # the note typed is kept
    assert form["minutes_done"].value() == "10"


@freeze_time(NOW)
def test_an_allowed_setting_is_saved(client, fall_risk_plan):
    portal = _portal(client, fall_risk_plan)
    response = portal.post(LOG_URL, _answers(setting=L.PARALLEL_BARS))
    assert response.status_code == 302
    assert SessionLog.objects.get().setting == L.PARALLEL_BARS


@freeze_time(NOW)
def test_without_constraints_the_level_and_more_support_are_offered(client, db):
    # Knee OA level 1 holds both rails: a light touch or overground would skip its steps.
    portal = _portal(client, active_plan())
    assert _options(portal.get(LOG_URL)) == [L.PARALLEL_BARS, L.TREADMILL_BOTH_HANDRAILS]
    response = portal.post(LOG_URL, _answers(setting=L.TREADMILL_LIGHT_TOUCH))
    assert response.status_code == 400
    assert not SessionLog.objects.exists()


@freeze_time(NOW)
def test_the_constrained_log_page_costs_the_same_queries(
    client, fall_risk_plan, django_assert_num_queries
):
    portal = _portal(client, fall_risk_plan)
    portal.get(LOG_URL)  # the first request refreshes the session; count a steady one
    # session, user, clinician?, patient, the plan, the audit event of that read
    with django_assert_num_queries(6):
        assert portal.get(LOG_URL).status_code == 200
