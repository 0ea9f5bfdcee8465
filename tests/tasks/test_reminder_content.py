"""What a reminder says: the portal only for a patient who can sign in to it, and the safety
line of the session's own setting (docs/clinical.md §2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from freezegun import freeze_time

from rehab import services
from rehab.clinical import levels as L
from rehab.clinical import protocols
from rehab.models import Reminder
from tests.factories import UserFactory, active_plan

pytestmark = pytest.mark.django_db
UTC = dt.UTC
WEDNESDAY_6AM = dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
SEND_AT = dt.datetime(2026, 3, 4, 9, 5, tzinfo=UTC)
TREADMILL_LINE = (
    "Hold the handrails: both hands at first, one hand or a light touch only when your plan "
    "says so."
)


def _reminder(*, portal: bool, channel: str = "email", phone: str = "", **plan_changes):
    plan = active_plan()
    patient = plan.patient
    patient.first_name = "Siobhán O'Brien"
    patient.reminder_channel = channel
    patient.phone = phone
    if portal:
        patient.user = UserFactory()
    patient.save()
    clinic = patient.clinic
    clinic.phone = "0161 496 0000"
    clinic.save()
    for name, value in plan_changes.items():
        setattr(plan, name, value)
    plan.save()
    with freeze_time(WEDNESDAY_6AM):
        services.reminders_plan()
    return Reminder.objects.get(plan=plan)


def _send(reminder):
    with freeze_time(SEND_AT):
        assert services.reminder_send(reminder_id=reminder.pk) == "sent"
    (message,) = mail.outbox
    return message.body, message.alternatives[0][0]


def test_a_patient_with_portal_access_gets_links_to_the_portal(settings):
    settings.SITE_URL = "https://rehab.example.org/"
    text, html = _send(_reminder(portal=True))
    assert (
        "Your portal has today's plan and is where you log the session: "
        "https://rehab.example.org/portal/\n"
    ) in text
    assert (
        "You can change or pause these reminders there: https://rehab.example.org/portal/reminders/"
    ) in text
    assert '<a href="https://rehab.example.org/portal/">Open your portal</a>' in html
    assert '<a href="https://rehab.example.org/portal/reminders/">' in html


def test_a_patient_without_portal_access_is_never_sent_to_the_portal():
    text, html = _send(_reminder(portal=False))
    assert "portal" not in text.lower()
    assert "portal" not in html.lower()
    assert "To change or stop these reminders, contact " in text
    assert "on 0161 496 0000." in text
    assert 'href="tel:01614960000"' in html


def test_a_deactivated_portal_account_counts_as_no_access():
    reminder = _reminder(portal=True)
    reminder.patient.user.is_active = False
    reminder.patient.user.save()
    text, _ = _send(reminder)
    assert "portal" not in text.lower()


def test_the_text_part_shows_names_as_typed_not_escaped():
    text, html = _send(_reminder(portal=False))
    assert "Hello Siobhán O'Brien," in text
    assert "O&#x27;Brien" in html  # the HTML part escapes, as it must


def test_a_treadmill_session_gets_the_treadmill_safety_line():
    # Knee OA level 1: treadmill, both rails.
    text, html = _send(_reminder(portal=True))
    assert f"Safety: {TREADMILL_LINE}" in text
    assert "clear, level space" not in text
    assert "Hold the handrails" in html


def test_an_overground_session_gets_the_clear_space_line():
    plan_levels = active_plan().levels  # a throwaway plan, for the protocol's level list
    last = len(plan_levels) - 1
    assert plan_levels[last]["setting"] == L.OVERGROUND
    text, _ = _send(
        _reminder(portal=True, current_level=last, level_started_on=dt.date(2026, 3, 2))
    )
    assert "Safety: Walk backward only in a clear, level space with a smooth floor." in text
    assert "handrails" not in text.lower()


@pytest.mark.parametrize(
    ("setting", "code"),
    [
        (L.TREADMILL_BOTH_HANDRAILS, "hold_handrails"),
        (L.TREADMILL_LIGHT_TOUCH, "hold_handrails"),
        (L.OVERGROUND, "clear_space"),
        (L.PARALLEL_BARS, "start_slowly"),
    ],
)
def test_the_headline_safety_line_is_one_of_the_settings_own(setting, code):
    level = L.Level("L", 10, 3, 1.5, 0, setting, min_days=7)
    line = protocols.headline_safety(level)
    assert line.code == code
    assert line in protocols.safety_for(level)


def test_an_sms_reminder_mentions_the_portal_only_with_portal_access(monkeypatch):
    sent = []
    monkeypatch.setattr(
        "rehab.notify.send_sms", lambda *, to, text: sent.append(text), raising=True
    )
    for portal in (True, False):
        reminder = _reminder(portal=portal, channel="sms", phone="+44 7700 900123")
        with freeze_time(SEND_AT):
            services.reminder_send(reminder_id=reminder.pk)
    with_portal, without = sent
    assert with_portal.endswith("Your portal has today's plan.")
    assert "portal" not in without.lower()
