"""The portal's reminder selectors (rehab.selectors.portal_reminders): what the patient's
choices add up to, their own last reminders, and a calendar link found by its token. The page
that puts them in words: tests/web/portal/test_reminders.py."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.models import Patient, Plan, Reminder

pytestmark = pytest.mark.django_db

MORNING = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)  # London is on UTC in March


def settings_of(clinics, **patient_fields):
    patient = clinics.ours.patient
    Patient.objects.filter(pk=patient.pk).update(**patient_fields)
    principal = principal_for_user(patient.user)
    return selectors.reminder_settings_for(principal, now=MORNING)


@pytest.mark.parametrize(
    ("fields", "plan_status", "state"),
    [
        ({}, "active", "on"),
        ({}, "paused", "plan_paused"),
        ({}, "completed", "no_plan"),
        ({"email": ""}, "paused", "unreachable"),
        ({"email": "", "reminder_channel": "none"}, "paused", "off"),
        ({"email": "", "reminder_channel": "none", "reminders_enabled": False}, "paused", "paused"),
    ],
)
def test_the_first_reason_reminders_do_or_do_not_go_out_is_the_one_said(
    clinics, fields, plan_status, state
):
    Plan.objects.filter(pk=clinics.ours.pk).update(status=plan_status)
    assert settings_of(clinics, **fields).state == state


def test_a_time_in_the_quiet_hours_is_sent_when_they_end(clinics, django_assert_num_queries):
    patient = clinics.ours.patient
    Patient.objects.filter(pk=patient.pk).update(reminder_time=dt.time(6, 30))
    principal = principal_for_user(patient.user)
    with django_assert_num_queries(1):  # the open plan
        settings = selectors.reminder_settings_for(principal, now=MORNING)
    assert (settings.time, settings.sends_at) == (dt.time(6, 30), dt.time(8, 0))
    assert settings.schedule_days == tuple(sorted(clinics.ours.schedule_days))


def test_the_history_is_the_patients_own_newest_first_in_one_query(
    clinics, django_assert_num_queries
):
    patient = clinics.ours.patient
    Reminder.objects.create(
        patient=patient,
        plan=clinics.ours,
        due_date=patient.local_today() - dt.timedelta(days=1),
        channel=Patient.Channel.EMAIL,
        scheduled_for=MORNING,
        status=Reminder.Status.SKIPPED,
        detail="Already logged that day.",
    )
    with django_assert_num_queries(1):
        lines = selectors.reminder_history_for(clinics.patient)
    assert [line.due_date for line in lines] == sorted(
        Reminder.objects.filter(patient=patient).values_list("due_date", flat=True), reverse=True
    )
    assert lines[-1].outcome == "Skipped: you had already walked"
    assert selectors.reminder_history_for(clinics.patient, limit=1) == lines[:1]
    # A clinician has no reminders of their own to read here.
    assert selectors.reminder_history_for(clinics.clinician) == []


def test_a_calendar_link_is_found_by_its_token_while_it_works(clinics, django_assert_num_queries):
    patient = clinics.ours.patient
    token = services.calendar_feed_create(patient=patient, actor=patient.user)
    with django_assert_num_queries(1):
        feed = selectors.calendar_feed_for_token(token=token)
        assert feed.patient.clinic == patient.clinic  # joined, not fetched again
    assert selectors.calendar_feed_for(clinics.patient) == feed
    assert selectors.calendar_feed_for(clinics.clinician) is None
    services.calendar_feed_revoke(patient=patient, actor=patient.user)
    assert selectors.calendar_feed_for_token(token=token) is None
    # Stopped, the link is still the patient's to see (and to make anew).
    assert selectors.calendar_feed_for(clinics.patient).revoked_at is not None
    for junk in ("", "x" * 101, token[:-1]):
        assert selectors.calendar_feed_for_token(token=junk) is None
