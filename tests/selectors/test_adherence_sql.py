"""The Today list's SQL twin of the adherence rule (selectors.planned_sessions_sql, the
low-adherence flag in the stored need) agrees with the rule itself (rehab.clinical.adherence)
for any plan start, weekdays, pauses and sessions: the list sorts and filters by the one rule."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehab import selectors, services
from rehab.clinical import adherence
from rehab.models import Patient, Plan, SessionLog
from tests.factories import TODAY, active_plan, good_session

pytestmark = pytest.mark.django_db
NON_ADHERENT = selectors.DASHBOARD_FLAGS_BY_CODE["non_adherent"].weight


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def planned_in_sql(plan: Plan, today: dt.date) -> tuple[int, int]:
    """(done, due) as the Today list's SQL counts them for the plan's patient."""
    value = (
        selectors.with_open_plan(Patient.objects.filter(pk=plan.patient_id))
        .annotate(planned=selectors.planned_sessions_sql(today))
        .values_list("planned", flat=True)
        .get()
    )
    return selectors.planned_sessions_of(value)


@st.composite
def pauses(draw):
    """Disjoint spans, oldest first, each at least a day long; the last may still be open."""
    spans, cursor = [], draw(st.integers(-12, 8))
    for _ in range(draw(st.integers(0, 4))):
        first = cursor + draw(st.integers(0, 4))
        length = draw(st.one_of(st.none(), st.integers(1, 4)))
        if length is None:
            spans.append([day(first).isoformat(), None])
            break
        spans.append([day(first).isoformat(), day(first + length).isoformat()])
        cursor = first + length + 1
    return spans


@st.composite
def cases(draw):
    """A plan and its walks, some of them on paused days (the day a pause began and later ones:
    logged afterwards, they are done but only the first day's is a planned session)."""
    case = draw(
        st.fixed_dictionaries(
            {
                "today": st.integers(0, 13),
                "start": st.integers(-10, 12),
                "schedule": st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True),
                "pauses": pauses(),
                "walked": st.sets(st.integers(-12, 14), max_size=14),
                "paused_now": st.booleans(),
            }
        )
    )
    for first, until in case["pauses"]:
        first_n = (dt.date.fromisoformat(first) - TODAY).days
        last_n = (dt.date.fromisoformat(until) - TODAY).days - 1 if until else first_n + 6
        case["walked"] |= draw(st.sets(st.integers(first_n, last_n), max_size=3))
    return case


@pytest.fixture
def subject():
    plan = active_plan()
    template = services.session_log(
        plan=plan, actor=None, date=TODAY, today=TODAY, **good_session()
    )
    return plan, template


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases())
def test_the_flags_sql_counts_agree_with_the_rule(subject, case):
    plan, template = subject
    today = day(case["today"])
    status = Plan.Status.PAUSED if case["paused_now"] else Plan.Status.ACTIVE
    Plan.objects.filter(pk=plan.pk).update(
        start_date=day(case["start"]),
        schedule_days=case["schedule"],
        pauses=case["pauses"],
        status=status,
    )
    SessionLog.objects.filter(plan=plan).delete()
    sessions = []
    for n in case["walked"]:
        session = copy.copy(template)
        session.pk, session.date = None, day(n)
        sessions.append(session)
    SessionLog.objects.bulk_create(sessions)
    plan.refresh_from_db()

    expected = adherence.adherence(
        plan.adherence_days(),
        first=adherence.review_window(today),
        last=today,
        walked={day(n) for n in case["walked"]},
        today=today,
    )
    assert planned_in_sql(plan, today) == (expected.done, expected.due), case
    ((need,),) = (
        selectors.dashboard_needs_live(clinic=plan.clinic, today=today)
        .filter(pk=plan.patient_id)
        .values_list("need")
    )
    flagged = status == Plan.Status.ACTIVE and adherence.needs_review(expected)
    assert bool(need & NON_ADHERENT) == flagged, case


def test_a_walk_on_a_rest_day_and_an_unlogged_today_in_sql(subject):
    """The two figures that changed, spelled out: Monday 9 March, Wednesday missed, Saturday
    walked (a rest day), Friday walked, today not walked yet."""
    plan, template = subject
    SessionLog.objects.filter(plan=plan).delete()
    for n in (4, 5):
        session = copy.copy(template)
        session.pk, session.date = None, day(n)
        session.save()
    assert planned_in_sql(plan, day(7)) == (1, 2)  # before the one rule: 2 logged of 3 plan days


def test_walks_logged_for_paused_days_are_not_planned_sessions_in_sql(subject):
    """Paused from Tuesday to Saturday, walks logged afterwards for the paused Wednesday and
    Friday, and the Monday after walked: one planned session, done (it was three of three)."""
    plan, template = subject
    Plan.objects.filter(pk=plan.pk).update(
        schedule_days=[0, 2, 4], pauses=[[day(1).isoformat(), day(5).isoformat()]]
    )
    SessionLog.objects.filter(plan=plan).delete()
    for n in (2, 4, 7):
        session = copy.copy(template)
        session.pk, session.date = None, day(n)
        session.save()
    plan.refresh_from_db()
    assert planned_in_sql(plan, day(7)) == (1, 1)
    expected = adherence.adherence(
        plan.adherence_days(),
        first=adherence.review_window(day(7)),
        last=day(7),
        walked={day(2), day(4), day(7)},
        today=day(7),
    )
    assert (expected.done, expected.due, expected.extra) == (1, 1, 2)
