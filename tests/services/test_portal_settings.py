"""What a patient sets in the portal (rehab.services.portal_settings): reminder choices checked
all at once and saved through patient_update, and the private calendar link made, replaced and
stopped, each audited. The pages: tests/web/portal/test_reminders.py and test_calendar.py."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.errors import RehabError
from rehab.models import AuditEvent, CalendarFeed, Patient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(patient):
    """The patient, with their portal account."""
    patient.user = UserFactory()
    patient.save()
    return patient


def set_reminders(patient, **overrides):
    values = {
        "channel": Patient.Channel.EMAIL,
        "time": dt.time(9, 0),
        "timezone_name": "Europe/London",
        "enabled": True,
        **overrides,
    }
    return services.patient_set_reminders(patient=patient, actor=patient.user, **values)


# --- Reminder choices -----------------------------------------------------------------------------


def test_choices_are_saved_and_audited_by_field_name(member):
    set_reminders(member, time=dt.time(18, 30, 45), timezone_name="Europe/Paris", enabled=False)
    member.refresh_from_db()
    # Seconds are not a choice the page offers: a reminder goes on the minute.
    assert (member.reminder_time, member.timezone, member.reminders_enabled) == (
        dt.time(18, 30),
        "Europe/Paris",
        False,
    )
    event = AuditEvent.objects.get(action="patient.update")
    assert (event.actor, event.patient) == (member.user, member)
    assert event.detail == {"fields": ["reminder_time", "reminders_enabled", "timezone"]}


def test_every_bad_choice_is_named_at_once_and_nothing_changes(member):
    with pytest.raises(RehabError) as refused:
        set_reminders(member, channel="pigeon", time="9 o'clock", timezone_name="Mars/Olympus")
    assert (refused.value.code, refused.value.status) == ("validation_error", 400)
    assert set(refused.value.fields) == {"reminder_channel", "reminder_time", "timezone"}
    member.refresh_from_db()
    assert (member.reminder_channel, member.timezone) == ("email", "Europe/London")
    assert not AuditEvent.objects.filter(action="patient.update").exists()


def test_email_reminders_need_an_address_on_the_record(member):
    Patient.objects.filter(pk=member.pk).update(email="")
    member.refresh_from_db()
    with pytest.raises(RehabError) as refused:
        set_reminders(member, channel=Patient.Channel.EMAIL)
    assert refused.value.fields["reminder_channel"][0].startswith("There is no e-mail address")
    # "No reminders" needs nothing.
    set_reminders(member, channel=Patient.Channel.NONE)
    member.refresh_from_db()
    assert member.reminder_channel == Patient.Channel.NONE


# --- The calendar link ----------------------------------------------------------------------------


def test_a_link_is_made_with_only_its_hash_kept_and_audited(member):
    token = services.calendar_feed_create(patient=member, actor=member.user)
    feed = CalendarFeed.objects.get(patient=member)
    assert token not in feed.token_hash
    assert selectors.calendar_feed_for_token(token=token) == feed
    event = AuditEvent.objects.get(action="calendar.create")
    assert (event.actor, event.patient, event.detail) == (member.user, member, {"replaced": False})


def test_a_new_link_replaces_the_old_one_in_the_same_row(member):
    old = services.calendar_feed_create(patient=member, actor=member.user)
    new = services.calendar_feed_create(patient=member, actor=member.user)
    assert CalendarFeed.objects.filter(patient=member).count() == 1
    assert selectors.calendar_feed_for_token(token=old) is None
    assert selectors.calendar_feed_for_token(token=new) is not None
    latest = AuditEvent.objects.filter(action="calendar.create").latest("id")
    assert latest.detail == {"replaced": True}


def test_a_link_made_after_one_was_stopped_replaces_nothing_that_worked(member):
    services.calendar_feed_create(patient=member, actor=member.user)
    services.calendar_feed_revoke(patient=member, actor=member.user)
    services.calendar_feed_create(patient=member, actor=member.user)
    latest = AuditEvent.objects.filter(action="calendar.create").latest("id")
    assert latest.detail == {"replaced": False}


def test_stopping_a_link_once_is_audited_once(member):
    assert services.calendar_feed_revoke(patient=member, actor=member.user) is None
    token = services.calendar_feed_create(patient=member, actor=member.user)
    stopped = services.calendar_feed_revoke(patient=member, actor=member.user)
    assert stopped.revoked_at is not None
    assert selectors.calendar_feed_for_token(token=token) is None
    assert services.calendar_feed_revoke(patient=member, actor=member.user) is None
    assert AuditEvent.objects.filter(action="calendar.revoke").count() == 1


def test_an_archived_patient_gets_no_link(member, actor):
    services.patient_archive(patient=member, actor=actor)
    with pytest.raises(RehabError) as refused:
        services.calendar_feed_create(patient=member, actor=member.user)
    assert (refused.value.code, refused.value.status) == ("patient_archived", 409)
    assert not CalendarFeed.objects.exists()
