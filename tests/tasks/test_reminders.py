"""Reminders: one per patient, due day and kind, at the patient's local time (daylight saving
included), outside quiet hours, through the patient's channel, with each result recorded."""

import datetime as dt
import urllib.error

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from rehab import notify, scheduling, services, tasks
from rehab.models import AuditEvent, Reminder
from tests.factories import active_plan, good_session

pytestmark = pytest.mark.django_db
UTC = dt.UTC
MONDAY = dt.date(2026, 3, 2)  # plans from tests.factories start here, Mon/Wed/Fri sessions


def plan_for(tz="Europe/London", at=dt.time(9, 0), **patient):
    plan = active_plan()
    p = plan.patient
    p.timezone, p.reminder_time = tz, at
    for key, value in patient.items():
        setattr(p, key, value)
    p.save()
    return plan


def run_plan(moment):
    with freeze_time(moment):
        return services.reminders_plan()


# --- when


@pytest.mark.parametrize(
    ("tz", "day", "expected_utc"),
    [
        ("Europe/London", dt.date(2026, 3, 27), dt.datetime(2026, 3, 27, 9, 0, tzinfo=UTC)),
        # The clocks go forward on Sunday 29 March: 09:00 BST is 08:00 UTC from then on.
        ("Europe/London", dt.date(2026, 3, 30), dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
        ("America/New_York", dt.date(2026, 3, 6), dt.datetime(2026, 3, 6, 14, 0, tzinfo=UTC)),
        # US daylight saving starts 8 March: 09:00 EDT is 13:00 UTC.
        ("America/New_York", dt.date(2026, 3, 9), dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC)),
        ("Asia/Tokyo", dt.date(2026, 3, 30), dt.datetime(2026, 3, 30, 0, 0, tzinfo=UTC)),
    ],
)
def test_a_reminder_is_due_at_the_patients_local_time_across_dst(tz, day, expected_utc):
    moment = scheduling.reminder_moment(
        day=day, at=dt.time(9, 0), timezone=tz, quiet_start=dt.time(21), quiet_end=dt.time(8)
    )
    assert moment == expected_utc


def test_a_wall_time_skipped_by_the_clock_change_still_gets_a_reminder():
    moment = scheduling.reminder_moment(
        day=dt.date(2026, 3, 29),
        at=dt.time(1, 30),
        timezone="Europe/London",
        quiet_start=dt.time(23),
        quiet_end=dt.time(1),
    )
    assert moment == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("chosen", "sent_local"),
    [
        (dt.time(6, 30), dt.time(8, 0)),
        (dt.time(22, 0), dt.time(20, 30)),
        (dt.time(8, 0), dt.time(8, 0)),
        (dt.time(20, 59), dt.time(20, 59)),
    ],
)
def test_quiet_hours_move_a_reminder_out_of_them(chosen, sent_local):
    moment = scheduling.reminder_moment(
        day=dt.date(2026, 1, 5),
        at=chosen,
        timezone="UTC",
        quiet_start=dt.time(21),
        quiet_end=dt.time(8),
    )
    assert moment.time() == sent_local


@pytest.mark.parametrize(
    ("start", "end", "moment", "quiet"),
    [
        (dt.time(21), dt.time(8), dt.time(23), True),
        (dt.time(21), dt.time(8), dt.time(7, 59), True),
        (dt.time(21), dt.time(8), dt.time(8), False),
        (dt.time(13), dt.time(14), dt.time(13, 30), True),
        (dt.time(13), dt.time(14), dt.time(15), False),
        (dt.time(9), dt.time(9), dt.time(9), False),
    ],
)
def test_quiet_hours_may_wrap_midnight(start, end, moment, quiet):
    assert scheduling.in_quiet_hours(moment, start, end) is quiet


# --- planning


def test_a_session_day_gets_one_reminder_at_the_local_time_however_often_planned():
    plan = plan_for("America/New_York")
    wednesday_morning = dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # 01:00 in New York
    assert run_plan(wednesday_morning) == 1
    assert run_plan(wednesday_morning + dt.timedelta(hours=3)) == 0
    reminder = Reminder.objects.get()
    assert (reminder.patient, reminder.plan, reminder.kind) == (plan.patient, plan, "session")
    assert reminder.due_date == dt.date(2026, 3, 4)
    assert reminder.scheduled_for == dt.datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


def test_the_due_day_is_the_patients_own_day():
    plan_for("Asia/Tokyo")
    # Tuesday 20:00 UTC is already Wednesday in Tokyo: a session day there.
    assert run_plan(dt.datetime(2026, 3, 3, 20, 0, tzinfo=UTC)) == 1
    assert Reminder.objects.get().due_date == dt.date(2026, 3, 4)


@pytest.mark.parametrize(
    "change",
    [{"reminders_enabled": False}, {"reminder_channel": "none"}],
)
def test_no_reminder_when_the_patient_turned_them_off(change):
    plan_for(**change)
    assert run_plan(dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)) == 0


@pytest.mark.parametrize("end", ["plan_pause", "plan_complete"])
def test_no_reminder_for_paused_or_finished_plans(end):
    plan = plan_for()
    getattr(services, end)(plan=plan, actor=None, reason="x")
    assert run_plan(dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)) == 0


def test_no_reminder_on_a_day_without_a_session():
    plan_for()
    # Sunday, after a Saturday without a session either: nothing due, nothing missed.
    assert run_plan(dt.datetime(2026, 3, 8, 6, 0, tzinfo=UTC)) == 0


def test_a_missed_session_gets_one_gentle_nudge_the_next_day():
    plan_for()
    thursday = dt.datetime(2026, 3, 5, 6, 0, tzinfo=UTC)  # Wednesday had a session, not logged
    assert run_plan(thursday) == 1
    assert run_plan(thursday + dt.timedelta(hours=5)) == 0
    assert Reminder.objects.get().kind == "nudge"


def test_no_nudge_when_yesterdays_session_was_logged():
    plan = plan_for()
    services.session_log(
        plan=plan, actor=None, date=dt.date(2026, 3, 4), today=dt.date(2026, 3, 4), **good_session()
    )
    assert run_plan(dt.datetime(2026, 3, 5, 6, 0, tzinfo=UTC)) == 0


def test_no_nudge_for_a_day_the_plan_was_paused_but_one_after_a_level_change():
    # Wednesday paused, resumed Thursday: Wednesday was not missed (the one adherence rule).
    plan = plan_for()
    services.plan_pause(plan=plan, actor=None, today=dt.date(2026, 3, 4))
    services.plan_resume(plan=plan, actor=None, today=dt.date(2026, 3, 5))
    assert run_plan(dt.datetime(2026, 3, 5, 6, 0, tzinfo=UTC)) == 0
    # A level set by hand on Thursday does not excuse Wednesday's walk: before the one rule the
    # nudge was skipped, as the progression window starts again with the level.
    other = plan_for()
    services.plan_set_level(
        plan=other, level=1, actor=None, reason="Ready.", today=dt.date(2026, 3, 5)
    )
    assert run_plan(dt.datetime(2026, 3, 5, 6, 0, tzinfo=UTC)) == 1
    assert Reminder.objects.get().plan == other


def test_planning_costs_the_same_queries_per_batch_for_any_number_of_plans():
    def cost(n):
        Reminder.objects.all().delete()
        for _ in range(n):
            plan_for()
        with (
            freeze_time(dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC)),
            CaptureQueriesContext(connection) as ctx,
        ):
            services.reminders_plan(batch_size=100)
        return len(ctx.captured_queries)

    # The patients' time zones and the span of plan ids, then one INSERT ... SELECT.
    assert cost(1) == cost(12) == 2


# --- sending


def due_reminder(channel="email", **patient):
    plan = plan_for(reminder_channel=channel, **patient)
    run_plan(dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC))
    return Reminder.objects.get(plan=plan)


def send(reminder, at=dt.datetime(2026, 3, 4, 9, 5, tzinfo=UTC), **kwargs):
    with freeze_time(at):
        return services.reminder_send(reminder_id=reminder.pk, **kwargs)


def test_an_email_reminder_carries_the_days_level_and_a_safety_line():
    reminder = due_reminder()
    assert send(reminder) == "sent"
    (message,) = mail.outbox
    assert message.to == [reminder.patient.email]
    assert "10 min backward walking at 1.5 km/h" in message.body
    assert "Safety:" in message.body
    html = message.alternatives[0][0]
    assert "Today&#x27;s session" in html or "Today's session" in html
    reminder.refresh_from_db()
    assert (reminder.status, reminder.sent_at) == (
        "sent",
        dt.datetime(2026, 3, 4, 9, 5, tzinfo=UTC),
    )
    assert AuditEvent.objects.filter(action="reminder.sent", patient=reminder.patient).exists()


def test_a_second_send_of_the_same_reminder_does_nothing():
    reminder = due_reminder()
    assert send(reminder) == "sent"
    assert send(reminder) == "not_claimed"
    assert len(mail.outbox) == 1


def test_a_reminder_for_a_session_already_logged_is_skipped_with_the_reason():
    reminder = due_reminder()
    services.session_log(
        plan=reminder.plan,
        actor=None,
        date=dt.date(2026, 3, 4),
        today=dt.date(2026, 3, 4),
        **good_session(),
    )
    assert send(reminder) == "skipped"
    reminder.refresh_from_db()
    assert reminder.detail == "Today's session is already logged."
    assert mail.outbox == []


def test_a_reminder_for_a_plan_paused_since_it_was_planned_is_skipped():
    reminder = due_reminder()
    services.plan_pause(plan=reminder.plan, actor=None, reason="fall")
    assert send(reminder) == "skipped"


def test_a_reminder_whose_day_has_passed_is_skipped_not_sent_late():
    reminder = due_reminder()
    assert send(reminder, at=dt.datetime(2026, 3, 5, 9, 0, tzinfo=UTC)) == "skipped"


def test_sms_without_a_gateway_fails_with_the_reason(settings):
    settings.SMS_WEBHOOK_URL = ""
    reminder = due_reminder("sms", phone="+441234")
    assert send(reminder) == "failed"
    reminder.refresh_from_db()
    assert "SMS_WEBHOOK_URL" in reminder.detail


def test_sms_goes_to_the_gateway_without_health_details(settings, monkeypatch):
    settings.SMS_WEBHOOK_URL = "http://127.0.0.1:9/sms"
    sent = []

    class Ok:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self):
            return b"{}"

    def urlopen(request, timeout):
        sent.append(request.data.decode())
        return Ok()

    monkeypatch.setattr(notify.urllib.request, "urlopen", urlopen)
    reminder = due_reminder("sms", phone="+441234")
    assert send(reminder) == "sent"
    assert "+441234" in sent[0]
    assert "km/h" not in sent[0]


def test_a_transient_gateway_error_is_retried_then_recorded_as_failed(settings, monkeypatch):
    settings.SMS_WEBHOOK_URL = "http://127.0.0.1:9/sms"

    def unavailable(request, timeout):
        raise urllib.error.HTTPError(request.full_url, 503, "busy", {}, None)

    monkeypatch.setattr(notify.urllib.request, "urlopen", unavailable)
    reminder = due_reminder("sms", phone="+441234")
    with pytest.raises(notify.TransientSendError):
        send(reminder, final_attempt=False)
    reminder.refresh_from_db()
    assert reminder.status == "pending"  # back in line for the retry
    assert send(reminder, final_attempt=True) == "failed"
    reminder.refresh_from_db()
    assert "503" in reminder.detail


def test_a_refused_sms_is_not_retried(settings, monkeypatch):
    settings.SMS_WEBHOOK_URL = "http://127.0.0.1:9/sms"

    def refused(request, timeout):
        raise urllib.error.HTTPError(request.full_url, 400, "bad number", {}, None)

    monkeypatch.setattr(notify.urllib.request, "urlopen", refused)
    reminder = due_reminder("sms", phone="+441234")
    assert send(reminder, final_attempt=False) == "failed"


def test_the_dispatch_job_plans_and_sends_what_is_due_exactly_once():
    plan_for()
    plan_for("America/New_York")
    with freeze_time(dt.datetime(2026, 3, 4, 9, 1, tzinfo=UTC)):
        assert tasks.reminders_dispatch.delay().get() == 1  # London's 09:00 has come
        assert tasks.reminders_dispatch.delay().get() == 0
    with freeze_time(dt.datetime(2026, 3, 4, 14, 1, tzinfo=UTC)):
        assert tasks.reminders_dispatch.delay().get() == 1  # and New York's
    assert len(mail.outbox) == 2
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}


def test_a_reminder_left_sending_by_a_dead_worker_is_failed_not_sent_twice():
    reminder = due_reminder()
    Reminder.objects.filter(pk=reminder.pk).update(status="sending")
    Reminder.objects.filter(pk=reminder.pk).update(
        updated_at=dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    )
    assert services.reminders_fail_stale(now=dt.datetime(2026, 3, 4, 9, 5, tzinfo=UTC)) == 0
    assert services.reminders_fail_stale(now=dt.datetime(2026, 3, 4, 9, 11, tzinfo=UTC)) == 1
    reminder.refresh_from_db()
    assert reminder.status == "failed"
    assert "not retried" in reminder.detail
    assert send(reminder) == "not_claimed"
    assert mail.outbox == []
