"""The private calendar link: made on the Reminders page and shown once, fetched by calendar
apps without signing in, stopped or replaced, and saying nothing sensitive."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import icalendar
import pytest
from django.urls import reverse
from freezegun import freeze_time

from rehab import calendar, services
from rehab.models import AuditEvent, CalendarFeed, Patient
from tests.factories import TODAY, UserFactory, active_plan

REMINDERS = reverse("patients:reminders")
CREATE = reverse("patients:calendar_create")
REVOKE = reverse("patients:calendar_revoke")
LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-03-02 06:00:00"):
        yield


@pytest.fixture
def plan(db):
    plan = active_plan()
    plan.schedule_days = [0, 2, 4]
    plan.save(update_fields=["schedule_days"])
    plan.patient.user = UserFactory()
    plan.patient.save()
    return plan


@pytest.fixture
def patient(plan):
    return plan.patient


@pytest.fixture
def portal(client, patient):
    client.force_login(patient.user)
    return client


def _feed_url(token: str) -> str:
    return reverse("patients:calendar_feed", args=[token])


def _events(response) -> list:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    parsed = icalendar.Calendar.from_ical(response.content)
    return list(parsed.walk("VEVENT"))


def _link_on_page(response) -> str:
    match = re.search(r'id="calendar-url"[^>]*value="([^"]+)"', response.content.decode())
    assert match, "the new link is shown"
    return match.group(1)


# --- Making, showing and stopping the link ------------------------------------------------------


def test_page_offers_to_make_a_link(portal):
    content = portal.get(REMINDERS).content.decode()
    assert "Add your walking days to your phone" in content
    assert "Make my calendar link" in content
    assert "Stop this link" not in content


def test_making_a_link_shows_it_once_with_a_webcal_link(portal, patient):
    response = portal.post(CREATE)
    assert response.status_code == 200
    link = _link_on_page(response)
    assert link.startswith("http://testserver/portal/calendar/")
    assert link.endswith(".ics")
    assert f'href="webcal://{link.split("://", 1)[1]}"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    token = link.rsplit("/", 1)[1].removesuffix(".ics")
    feed = CalendarFeed.objects.get(patient=patient)
    assert token not in feed.token_hash  # only a hash is kept
    later = portal.get(REMINDERS).content.decode()
    assert token not in later
    assert "we cannot show the link again" in later
    assert "Stop this link" in later
    assert AuditEvent.objects.filter(action="calendar.create", patient=patient).count() == 1


def test_the_link_works_without_signing_in(portal, client, patient):
    link = _link_on_page(portal.post(CREATE))
    client.logout()
    assert len(_events(client.get(link))) > 0


def test_stopping_the_link_makes_it_not_found(portal, patient):
    link = _link_on_page(portal.post(CREATE))
    response = portal.post(REVOKE)
    assert response.status_code == 302
    assert portal.get(link).status_code == 404
    page = portal.get(REMINDERS).content.decode()
    assert "Your calendar link has stopped working." in page
    assert "no longer works" in page
    assert "Make my calendar link" in page
    assert AuditEvent.objects.filter(action="calendar.revoke", patient=patient).count() == 1


def test_a_new_link_stops_the_old_one(portal, patient):
    old = _link_on_page(portal.post(CREATE))
    new = _link_on_page(portal.post(CREATE))
    assert old != new
    assert portal.get(old).status_code == 404
    assert portal.get(new).status_code == 200
    assert CalendarFeed.objects.filter(patient=patient).count() == 1
    replaced = AuditEvent.objects.filter(action="calendar.create").order_by("id")
    assert [e.detail["replaced"] for e in replaced] == [False, True]


def test_a_stopped_link_can_be_replaced(portal):
    portal.post(CREATE)
    portal.post(REVOKE)
    new = _link_on_page(portal.post(CREATE))
    assert portal.get(new).status_code == 200


def test_unknown_tokens_are_not_found(client, db):
    assert client.get(_feed_url("not-a-real-token")).status_code == 404
    assert client.get(_feed_url("x" * 500)).status_code == 404


def test_making_and_stopping_need_a_signed_in_patient(client, patient):
    for url in (CREATE, REVOKE):
        response = client.post(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("patients:login"))
    assert not CalendarFeed.objects.exists()


def test_making_a_link_needs_a_post(portal):
    assert portal.get(CREATE).status_code == 405
    assert not CalendarFeed.objects.exists()


def test_each_patient_has_their_own_link(portal, patient):
    other_plan = active_plan()
    other_token = services.calendar_feed_create(patient=other_plan.patient, actor=None)
    portal.post(REVOKE)  # the signed-in patient has none: nothing happens to the other's
    assert portal.get(_feed_url(other_token)).status_code == 200
    mine = _link_on_page(portal.post(CREATE))
    assert (
        _events(portal.get(mine))[0]["uid"] != _events(portal.get(_feed_url(other_token)))[0]["uid"]
    )


# --- What the feed says ---------------------------------------------------------------------------


def test_feed_lists_eight_weeks_of_walking_days_at_the_reminder_time(client, plan, patient):
    token = services.calendar_feed_create(patient=patient, actor=None)
    events = _events(client.get(_feed_url(token)))
    assert len(events) == 8 * 3
    minutes = plan.current_prescription().level.minutes
    starts = [event.decoded("dtstart") for event in events]
    assert starts[0] == dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)
    assert {start.weekday() for start in starts} == {0, 2, 4}
    assert all(start.time() == dt.time(9, 0) for start in starts)  # also after 29 March (BST)
    assert starts[-1].date() < TODAY + dt.timedelta(weeks=8)
    event = events[0]
    assert str(event["summary"]) == f"Backward walking: {minutes} minutes"
    assert event.decoded("duration") == dt.timedelta(minutes=minutes)
    assert f"Walk backward for {minutes} minutes" in str(event["description"])
    assert str(event["url"]) == "http://testserver/portal/"


def test_feed_is_valid_icalendar_text(client, patient):
    token = services.calendar_feed_create(patient=patient, actor=None)
    body = client.get(_feed_url(token)).content
    lines = body.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert lines[-2:] == [b"END:VCALENDAR", b""]
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines)
    assert b"BEGIN:VTIMEZONE" in body
    assert b"TZID:Europe/London" in body


def test_feed_says_nothing_sensitive(client, plan, patient):
    token = services.calendar_feed_create(patient=patient, actor=None)
    body = client.get(_feed_url(token)).content.decode().replace("\r\n ", "").lower()
    for private in (
        patient.first_name,
        patient.last_name,
        patient.email,
        patient.clinic.name,
        patient.get_condition_display(),
        "knee",
        "osteoarthritis",
        plan.protocol_name,
    ):
        assert private.lower() not in body


def test_event_uids_are_stable_across_fetches_and_changes(client, patient):
    token = services.calendar_feed_create(patient=patient, actor=None)
    first = _events(client.get(_feed_url(token)))
    again = client.get(_feed_url(token))
    assert [e["uid"] for e in _events(again)] == [e["uid"] for e in first]
    assert len({str(e["uid"]) for e in first}) == len(first)
    services.patient_set_reminders(
        patient=patient,
        actor=None,
        channel=Patient.Channel.EMAIL,
        time=dt.time(17, 15),
        timezone_name="Europe/London",
        enabled=True,
    )
    moved = _events(client.get(_feed_url(token)))
    assert [e["uid"] for e in moved] == [e["uid"] for e in first]
    assert moved[0].decoded("dtstart") == dt.datetime(2026, 3, 2, 17, 15, tzinfo=LONDON)


def test_a_new_link_keeps_the_event_uids(client, patient):
    first = _events(
        client.get(_feed_url(services.calendar_feed_create(patient=patient, actor=None)))
    )
    second = _events(
        client.get(_feed_url(services.calendar_feed_create(patient=patient, actor=None)))
    )
    assert [e["uid"] for e in first] == [e["uid"] for e in second]


def test_paused_plan_gives_an_empty_calendar(client, plan, patient):
    token = services.calendar_feed_create(patient=patient, actor=None)
    services.plan_pause(plan=plan, actor=None, reason="Sore knee")
    response = client.get(_feed_url(token))
    assert _events(response) == []
    assert b"BEGIN:VCALENDAR" in response.content


def test_ended_plan_gives_an_empty_calendar(client, plan, patient):
    token = services.calendar_feed_create(patient=patient, actor=None)
    services.plan_complete(plan=plan, actor=None, reason="Goals met")
    assert _events(client.get(_feed_url(token))) == []


def test_archived_patient_gives_an_empty_calendar(client, patient):
    token = services.calendar_feed_create(patient=patient, actor=None)
    services.patient_archive(patient=patient, actor=None)
    assert _events(client.get(_feed_url(token))) == []


def test_plan_starting_later_starts_the_calendar_then(client, plan, patient):
    plan.start_date = TODAY + dt.timedelta(days=7)
    plan.save(update_fields=["start_date"])
    token = services.calendar_feed_create(patient=patient, actor=None)
    starts = [e.decoded("dtstart").date() for e in _events(client.get(_feed_url(token)))]
    assert starts[0] == TODAY + dt.timedelta(days=7)
    assert len(starts) == 7 * 3


def test_patient_in_utc_gets_utc_times(client, patient):
    patient.timezone = "UTC"
    patient.save()
    token = services.calendar_feed_create(patient=patient, actor=None)
    response = client.get(_feed_url(token))
    assert b"DTSTART:20260302T090000Z" in response.content
    assert b"VTIMEZONE" not in response.content


def test_every_fetch_is_audited(client, patient):
    token = services.calendar_feed_create(patient=patient, actor=None)
    client.get(_feed_url(token))
    client.get(_feed_url(token))
    events = AuditEvent.objects.filter(action="calendar.fetch", patient=patient)
    assert events.count() == 2
    assert all(e.actor_id is None and e.detail == {"via": "calendar_feed"} for e in events)


# --- Cost -----------------------------------------------------------------------------------------

# The link with its patient and clinic, the open plan, the audit event.
FEED_QUERIES = 3


def test_feed_costs_three_queries_however_many_days(
    client, plan, patient, django_assert_num_queries
):
    token = services.calendar_feed_create(patient=patient, actor=None)
    with django_assert_num_queries(FEED_QUERIES):
        assert len(_events(client.get(_feed_url(token)))) == 24
    plan.schedule_days = [0, 1, 2, 3, 4, 5, 6]
    plan.save(update_fields=["schedule_days"])
    with django_assert_num_queries(FEED_QUERIES):
        assert len(_events(client.get(_feed_url(token)))) == 56


def test_unknown_token_costs_one_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get(_feed_url("a" * 43)).status_code == 404


# session, user, clinician (none), patient, open plan, last reminders, calendar link, audit,
# and for the new link: the lock on the old one, its update or insert, the create's audit event
# (inside a savepoint pair), then the page.
def test_page_with_a_link_costs_the_same_queries(portal, django_assert_num_queries):
    portal.get(REMINDERS)
    portal.post(CREATE)
    with django_assert_num_queries(8):
        assert portal.get(REMINDERS).status_code == 200


# --- The builder on its own ---------------------------------------------------------------------


def test_builder_needs_no_database():
    patient = Patient(pk=7, timezone="Europe/London", reminder_time=dt.time(8, 30))
    assert calendar.walking_days(patient=patient, plan=None, today=TODAY) == []
    body = calendar.feed_ics(patient=patient, plan=None, today=TODAY)
    parsed = icalendar.Calendar.from_ical(body)
    assert parsed.walk("VEVENT") == []
    assert str(parsed["x-wr-calname"]) == "Walking days"


def test_uid_depends_on_patient_and_day_only():
    uid = calendar.event_uid(patient_id=7, day=TODAY)
    assert uid == calendar.event_uid(patient_id=7, day=TODAY)
    assert uid != calendar.event_uid(patient_id=8, day=TODAY)
    assert uid != calendar.event_uid(patient_id=7, day=TODAY + dt.timedelta(days=1))
