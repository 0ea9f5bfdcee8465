"""Reminder planning as SQL (rehab.services.reminder_planning): the same rows as the rules read
in Python (rehab.scheduling, rehab.clinical.adherence), daylight-saving days included, in a
fixed number of statements, and nothing written by a later run of the day."""

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rehab import scheduling, services
from rehab.clinical import adherence
from rehab.models import Clinic, Patient, Plan, Reminder, SessionLog
from rehab.services.reminder_planning import ZoneDay
from tests.factories import active_plan, good_session

pytestmark = pytest.mark.django_db
UTC = dt.UTC

# Clock changes of 2026 (and a zone whose change is half an hour, one south of the equator).
CHANGE_DAYS = [
    ("Europe/London", dt.date(2026, 3, 29)),
    ("Europe/London", dt.date(2026, 10, 25)),
    ("America/New_York", dt.date(2026, 3, 8)),
    ("America/New_York", dt.date(2026, 11, 1)),
    ("Australia/Sydney", dt.date(2026, 4, 5)),
    ("Australia/Sydney", dt.date(2026, 10, 4)),
    ("Australia/Lord_Howe", dt.date(2026, 4, 5)),
    ("America/Havana", dt.date(2026, 3, 8)),
    ("Asia/Tokyo", dt.date(2026, 3, 29)),
]


def _sql_moment(zone: ZoneDay, wall: dt.time) -> dt.datetime:
    """What the statement computes for a wall time: the day's date and time less the offset."""
    early = zone.change is None or wall < zone.change
    seconds = zone.early if early else zone.late
    naive = dt.datetime.combine(zone.today, wall) - dt.timedelta(seconds=seconds)
    return naive.replace(tzinfo=UTC)


@pytest.mark.parametrize(("name", "day"), CHANGE_DAYS)
def test_a_zones_offsets_give_every_wall_time_of_a_clock_change_day_as_zoneinfo_does(name, day):
    zone = ZoneDay.at(name, dt.datetime.combine(day, dt.time(12), tzinfo=UTC))
    assert zone.today == day
    for minute in range(0, 24 * 60, 5):
        wall = dt.time(minute // 60, minute % 60)
        expected = scheduling.reminder_moment(
            day=zone.today, at=wall, timezone=name, quiet_start=wall, quiet_end=wall
        )
        assert _sql_moment(zone, wall) == expected, wall


def test_a_zone_without_a_clock_change_that_day_has_one_offset():
    zone = ZoneDay.at("America/New_York", dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC))
    assert (zone.today, zone.yesterday) == (dt.date(2026, 3, 4), dt.date(2026, 3, 3))
    assert (zone.early, zone.late, zone.change) == (-5 * 3600, -5 * 3600, None)
    assert zone.yesterday_from == dt.datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


def _expected(now: dt.datetime) -> set[tuple]:
    """The rows the rules give, read in Python plan by plan (what reminders_plan did before it
    was one statement)."""
    rows = set()
    plans = Plan.objects.filter(
        status=Plan.Status.ACTIVE,
        patient__reminders_enabled=True,
        patient__archived_at__isnull=True,
    ).exclude(patient__reminder_channel=Patient.Channel.NONE)
    for plan in plans.select_related("patient__clinic"):
        patient, clinic = plan.patient, plan.patient.clinic
        today = scheduling.local_day(now, patient.timezone)
        yesterday = today - dt.timedelta(days=1)
        moment = scheduling.reminder_moment(
            day=today,
            at=patient.reminder_time,
            timezone=patient.timezone,
            quiet_start=clinic.quiet_hours_start,
            quiet_end=clinic.quiet_hours_end,
        )
        row = (patient.pk, plan.pk, today, patient.reminder_channel, moment)
        if today.weekday() in plan.schedule_days and today >= plan.start_date:
            rows.add((*row, "session"))
        walked = SessionLog.objects.filter(plan=plan, date=yesterday).exists()
        state = adherence.day_state(plan.adherence_days(), yesterday, walked=walked, today=today)
        if state is adherence.DayState.MISSED:
            rows.add((*row, "nudge"))
    return rows


def _made() -> set[tuple]:
    return set(
        Reminder.objects.values_list(
            "patient_id", "plan_id", "due_date", "channel", "scheduled_for", "kind"
        )
    )


def _world() -> list[Plan]:
    """Plans that differ in every way a rule looks at."""
    zones = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "UTC"]
    times = [dt.time(1, 30), dt.time(2, 30), dt.time(6, 30), dt.time(9), dt.time(22), dt.time(0)]
    quiet = [(dt.time(21), dt.time(8)), (dt.time(13), dt.time(14)), (dt.time(9), dt.time(9))]
    schedules = [[0, 2, 4], list(range(7)), [6], [1, 3, 5, 6]]
    plans = []
    for n in range(14):
        plan = active_plan(today=dt.date(2026, 3, 2))
        patient = plan.patient
        patient.timezone = zones[n % len(zones)]
        patient.reminder_time = times[n % len(times)]
        patient.reminder_channel = "sms" if n % 3 == 0 else "email"
        patient.save()
        start, end = quiet[n % len(quiet)]
        Clinic.objects.filter(pk=patient.clinic_id).update(
            quiet_hours_start=start, quiet_hours_end=end
        )
        Plan.objects.filter(pk=plan.pk).update(
            schedule_days=schedules[n % len(schedules)],
            start_date=dt.date(2026, 3, 2) + dt.timedelta(days=n % 9),
        )
        plans.append(plan)
    return plans


MOMENTS = [
    dt.datetime(2026, 3, 4, 6, 0, tzinfo=UTC),  # Wednesday morning in Europe
    dt.datetime(2026, 3, 7, 23, 30, tzinfo=UTC),  # Sunday already in Tokyo, Saturday in New York
    dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York changes its clocks this night
    dt.datetime(2026, 3, 9, 6, 0, tzinfo=UTC),  # the day a pause ended is a plan day again
    dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # London's clocks change at 01:00 UTC
    dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    dt.datetime(2026, 4, 4, 16, 0, tzinfo=UTC),  # Lord Howe's half hour goes back
]


def test_the_statement_makes_exactly_the_rows_the_rules_give():
    plans = _world()
    # The other rules: a missed yesterday excused by a session, a pause, an end or an archive.
    walked, paused, archived, ended, off = plans[1], plans[5], plans[9], plans[13], plans[3]
    for day in (dt.date(2026, 3, 3), dt.date(2026, 3, 7), dt.date(2026, 3, 28)):
        services.session_log(plan=walked, actor=None, date=day, today=day, **good_session())
    Plan.objects.filter(pk=paused.pk).update(
        pauses=[["2026-03-03", "2026-03-04"], ["2026-03-06", "2026-03-08"], ["2026-03-28", None]]
    )
    Patient.objects.filter(pk=archived.patient_id).update(archived_at=MOMENTS[0])
    Plan.objects.filter(pk=ended.pk).update(ended_at=dt.datetime(2026, 3, 7, 12, tzinfo=UTC))
    Patient.objects.filter(pk=off.patient_id).update(reminders_enabled=False)
    for now in MOMENTS:
        Reminder.objects.all().delete()
        expected = _expected(now)
        assert services.reminders_plan(now=now, batch_size=4) == len(expected)
        assert _made() == expected, now
    assert {kind for *_, kind in expected} == {"session", "nudge"}


def test_a_clock_change_day_is_planned_at_the_wall_time_zoneinfo_gives():
    plan = active_plan(today=dt.date(2026, 3, 2))
    Plan.objects.filter(pk=plan.pk).update(schedule_days=list(range(7)))
    patient = plan.patient
    Clinic.objects.filter(pk=patient.clinic_id).update(
        quiet_hours_start=dt.time(12), quiet_hours_end=dt.time(12)
    )
    cases = [
        # 01:30 does not exist in London on 29 March: read as GMT, the clock shows 02:30.
        ("Europe/London", dt.time(1, 30), dt.date(2026, 3, 29), dt.datetime(2026, 3, 29, 1, 30)),
        ("Europe/London", dt.time(2, 30), dt.date(2026, 3, 29), dt.datetime(2026, 3, 29, 1, 30)),
        # 01:30 happens twice on 25 October: the first, in summer time.
        ("Europe/London", dt.time(1, 30), dt.date(2026, 10, 25), dt.datetime(2026, 10, 25, 0, 30)),
        ("America/New_York", dt.time(2, 30), dt.date(2026, 3, 8), dt.datetime(2026, 3, 8, 7, 30)),
        ("America/New_York", dt.time(9), dt.date(2026, 11, 1), dt.datetime(2026, 11, 1, 14, 0)),
    ]
    for zone, at, day, expected in cases:
        Reminder.objects.all().delete()
        Patient.objects.filter(pk=patient.pk).update(timezone=zone, reminder_time=at)
        services.reminders_plan(now=dt.datetime.combine(day, dt.time(12), tzinfo=UTC))
        reminder = Reminder.objects.get(kind="session")
        assert (reminder.due_date, reminder.scheduled_for) == (day, expected.replace(tzinfo=UTC))


def _queries(**kwargs) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        made = services.reminders_plan(now=MOMENTS[0], **kwargs)
    return made, len(ctx.captured_queries)


def test_a_run_is_one_query_then_one_statement_per_batch_of_plans():
    plans = [active_plan(today=dt.date(2026, 3, 2)) for _ in range(5)]
    ids = sorted(plan.pk for plan in plans)
    assert ids == list(range(ids[0], ids[0] + 5))  # made one after the other
    # Five plans by twos: the zones and the span of ids, then three statements.
    assert _queries(batch_size=2) == (5, 4)
    # A later run of the day costs the same statements and writes nothing.
    assert _queries(batch_size=2) == (0, 4)
    assert _queries() == (0, 2)
    assert Reminder.objects.count() == 5


def test_nothing_to_plan_is_one_query():
    active_plan(today=dt.date(2026, 3, 2))
    Patient.objects.update(reminders_enabled=False)
    assert _queries() == (0, 1)


def test_a_row_made_meanwhile_by_another_run_is_not_made_twice():
    plan = active_plan(today=dt.date(2026, 3, 2))
    services.reminders_plan(now=MOMENTS[0])
    Reminder.objects.filter(plan=plan).update(scheduled_for=MOMENTS[0])
    assert services.reminders_plan(now=MOMENTS[0] + dt.timedelta(minutes=5)) == 0
    assert Reminder.objects.get(plan=plan).scheduled_for == MOMENTS[0]  # left as it was


@pytest.mark.parametrize(("name", "day"), CHANGE_DAYS[:4])
def test_every_quarter_hour_of_a_clock_change_day_is_planned_as_zoneinfo_gives(name, day):
    plan = active_plan(today=dt.date(2026, 3, 2))
    Plan.objects.filter(pk=plan.pk).update(schedule_days=list(range(7)))
    patient = plan.patient
    Clinic.objects.filter(pk=patient.clinic_id).update(
        quiet_hours_start=dt.time(12), quiet_hours_end=dt.time(12)
    )
    now = dt.datetime.combine(day, dt.time(12), tzinfo=UTC)
    for hour, minute in itertools.product(range(24), (0, 15, 30, 45)):
        at = dt.time(hour, minute)
        Reminder.objects.all().delete()
        Patient.objects.filter(pk=patient.pk).update(timezone=name, reminder_time=at)
        services.reminders_plan(now=now)
        expected = scheduling.reminder_moment(
            day=day, at=at, timezone=name, quiet_start=at, quiet_end=at
        )
        assert Reminder.objects.get(kind="session").scheduled_for == expected, at


def _settings() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_nestloop'), current_setting('work_mem')")
        return cursor.fetchone()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner settings")
def test_the_planner_settings_are_back_for_the_callers_next_statement():
    # The planning statement runs with nested loops off and more work_mem (its anti-join must
    # be a hash join even with stale statistics); inside the caller's transaction neither may
    # outlive it.
    active_plan(today=dt.date(2026, 3, 2))
    before = _settings()
    assert services.reminders_plan(now=MOMENTS[0]) == 1
    assert _settings() == before == ("on", before[1])
