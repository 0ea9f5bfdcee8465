"""The adherence rule: every day state, pauses, the plan's edges, today, the ratio and its bands."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehab.clinical.adherence import (
    AdherenceSettings,
    Band,
    DayState,
    PlanDays,
    adherence,
    adherences,
    band_of,
    day_state,
    days,
    flag_low,
    needs_review,
    review_window,
)

MON = date(2025, 3, 3)  # a Monday
MWF = frozenset({0, 2, 4})


def d(n: int) -> date:
    """The nth day from Monday MON."""
    return MON + timedelta(days=n)


def state(plan: PlanDays, n: int, *, today: int, walked: bool = False) -> DayState:
    return day_state(plan, d(n), walked=walked, today=d(today))


# --- day states ------------------------------------------------------------------------------


def test_planned_day_gone_by_without_a_session_is_missed():
    assert state(PlanDays(MON, schedule_days=MWF), 0, today=1) is DayState.MISSED


def test_today_not_walked_yet_is_planned_not_missed():
    assert state(PlanDays(MON, schedule_days=MWF), 2, today=2) is DayState.PLANNED


def test_future_planned_day_is_planned():
    assert state(PlanDays(MON, schedule_days=MWF), 4, today=2) is DayState.PLANNED


def test_day_not_in_the_schedule_is_rest():
    plan = PlanDays(MON, schedule_days=MWF)
    assert state(plan, 1, today=5) is DayState.REST
    assert state(plan, 3, today=2) is DayState.REST  # in the future too


def test_walk_is_done_on_a_planned_day_and_on_a_rest_day():
    plan = PlanDays(MON, schedule_days=MWF)
    assert state(plan, 0, today=3, walked=True) is DayState.DONE
    assert state(plan, 1, today=3, walked=True) is DayState.DONE
    assert state(plan, 3, today=3, walked=True) is DayState.DONE  # today, walked


def test_a_session_dated_after_today_is_not_done_yet():
    assert state(PlanDays(MON, schedule_days=MWF), 4, today=2, walked=True) is DayState.PLANNED


def test_days_before_the_plan_and_after_it_ended():
    plan = PlanDays(d(2), end=d(9), schedule_days=MWF)
    assert state(plan, 0, today=20) is DayState.BEFORE
    assert state(plan, 1, today=20, walked=True) is DayState.BEFORE  # not part of the plan
    assert state(plan, 2, today=20) is DayState.MISSED  # the first day counts
    assert state(plan, 9, today=20) is DayState.MISSED  # so does the day it ended
    assert state(plan, 8, today=20) is DayState.REST
    assert state(plan, 10, today=20) is DayState.AFTER
    assert state(plan, 11, today=20) is DayState.AFTER
    assert state(plan, 11, today=20, walked=True) is DayState.AFTER


def test_paused_span_covers_its_first_day_up_to_the_resume_day():
    plan = PlanDays(MON, schedule_days=MWF, pauses=((d(2), d(7)),))
    assert state(plan, 0, today=14) is DayState.MISSED
    assert state(plan, 2, today=14) is DayState.PAUSED
    assert state(plan, 3, today=14) is DayState.PAUSED  # rest days too
    assert state(plan, 4, today=14) is DayState.PAUSED
    assert state(plan, 7, today=14) is DayState.MISSED  # resumed that day: a plan day again


def test_open_pause_runs_into_the_future():
    plan = PlanDays(MON, schedule_days=MWF, pauses=((d(2), None),))
    assert state(plan, 2, today=3) is DayState.PAUSED
    assert state(plan, 30, today=3) is DayState.PAUSED


def test_walk_on_the_day_a_pause_began_is_done():
    # A fall pauses the plan from the day of the session that reported it.
    plan = PlanDays(MON, schedule_days=MWF, pauses=((d(2), None),))
    assert state(plan, 2, today=3, walked=True) is DayState.DONE


def test_bands_have_words():
    assert Band.REVIEW.label == "Flagged for review"


# --- the ratio -------------------------------------------------------------------------------


def test_ratio_counts_done_planned_sessions_over_planned_sessions_due():
    plan = PlanDays(MON, schedule_days=MWF)
    # Week 1: Mon walked, Wed missed, Fri walked; today is next Monday, not walked yet.
    result = adherence(plan, first=d(0), last=d(7), walked={d(0), d(4)}, today=d(7))
    assert (result.done, result.due, result.missed) == (2, 3, 1)
    assert result.ratio == pytest.approx(2 / 3)
    assert result.percent == 67
    assert result.states[DayState.PLANNED] == 1


def test_walk_on_a_rest_day_is_done_but_not_a_planned_session():
    plan = PlanDays(MON, schedule_days=MWF)
    result = adherence(plan, first=d(0), last=d(6), walked={d(0), d(1), d(2), d(4)}, today=d(6))
    assert (result.done, result.due, result.extra, result.walks) == (3, 3, 1, 4)
    assert result.ratio == 1
    # and it makes up for nothing: a missed Wednesday stays missed
    result = adherence(plan, first=d(0), last=d(6), walked={d(0), d(1), d(4)}, today=d(6))
    assert (result.done, result.due, result.extra) == (2, 3, 1)


def test_today_counts_once_walked():
    plan = PlanDays(MON, schedule_days=MWF)
    assert adherence(plan, first=d(0), last=d(2), walked={d(0)}, today=d(2)).due == 1
    assert adherence(plan, first=d(0), last=d(2), walked={d(0), d(2)}, today=d(2)).due == 2
    # the day after, the unwalked Wednesday is missed
    assert adherence(plan, first=d(0), last=d(3), walked={d(0)}, today=d(3)).due == 2


def test_paused_days_are_not_due():
    plan = PlanDays(MON, schedule_days=MWF, pauses=((d(2), d(7)),))
    result = adherence(plan, first=d(0), last=d(9), walked={d(0), d(7)}, today=d(9))
    # Mon walked; Wed, Fri paused; next Mon walked, Wed (today) not yet
    assert (result.done, result.due) == (2, 2)
    assert result.states[DayState.PAUSED] == 5


def test_a_walk_logged_for_a_paused_day_is_done_but_not_a_planned_session():
    # Paused from Wednesday to next Monday; a walk logged afterwards for the paused Friday.
    plan = PlanDays(MON, schedule_days=MWF, pauses=((d(2), d(7)),))
    result = adherence(plan, first=d(0), last=d(9), walked={d(0), d(4), d(7)}, today=d(9))
    assert state(plan, 4, today=9, walked=True) is DayState.DONE  # the calendar shows it
    assert (result.done, result.due, result.extra, result.walks) == (2, 2, 1, 3)


def test_the_walk_on_the_day_a_pause_began_stays_a_planned_session():
    # The fall on Wednesday paused the plan from that day: that walk was a planned one.
    plan = PlanDays(MON, schedule_days=MWF, pauses=((d(2), None),))
    result = adherence(plan, first=d(0), last=d(6), walked={d(0), d(2)}, today=d(6))
    assert (result.done, result.due, result.extra) == (2, 2, 0)


def test_nothing_due_has_no_ratio_and_no_band():
    plan = PlanDays(d(3), schedule_days=MWF)
    result = adherence(plan, first=d(0), last=d(3), walked=set(), today=d(3))
    assert (result.due, result.ratio, result.percent, result.band()) == (0, None, None, None)


def test_days_after_today_add_nothing():
    plan = PlanDays(MON, schedule_days=MWF)
    before = adherence(plan, first=d(0), last=d(2), walked={d(0)}, today=d(2))
    longer = adherence(plan, first=d(0), last=d(27), walked={d(0), d(20)}, today=d(2))
    assert (before.done, before.due, before.extra) == (longer.done, longer.due, longer.extra)


def test_every_day_of_the_week_planned():
    plan = PlanDays(MON, schedule_days=frozenset(range(7)))
    result = adherence(plan, first=d(0), last=d(6), walked={d(1)}, today=d(6))
    assert (result.done, result.due, result.extra) == (1, 6, 0)  # Sunday is today


# --- bands and the flag ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "due", "band"),
    [
        (4, 5, Band.ADHERENT),  # 80 %
        (8, 10, Band.ADHERENT),
        (3, 4, Band.PARTIAL),  # 75 %
        (1, 2, Band.PARTIAL),  # 50 %
        (4, 9, Band.REVIEW),  # 44 %
        (0, 1, Band.REVIEW),
        (0, 0, None),
    ],
)
def test_bands_of_clinical_reference(done, due, band):
    assert band_of(done, due) is band


def test_bands_are_settings():
    lenient = AdherenceSettings(adherent_from=0.7, partial_from=0.3)
    assert band_of(3, 4, lenient) is Band.ADHERENT
    assert band_of(1, 3, lenient) is Band.PARTIAL
    with pytest.raises(ValueError, match="partial_from <= adherent_from"):
        AdherenceSettings(adherent_from=0.4, partial_from=0.5)


def test_flag_needs_two_planned_sessions_due_and_under_half_done():
    assert flag_low(0, 2)
    assert flag_low(1, 3)
    assert not flag_low(1, 2)  # 50 % is partial, not flagged
    assert not flag_low(0, 1)  # one missed day is too little to judge
    assert not flag_low(0, 0)
    assert flag_low(0, 1, AdherenceSettings(review_min_due=1))


def test_review_window_is_the_last_seven_days():
    assert review_window(d(10)) == d(4)
    assert review_window(d(10), AdherenceSettings(review_window_days=14)) == d(-3)


def test_needs_review_of_a_week():
    plan = PlanDays(MON, schedule_days=MWF)
    week = {"first": review_window(d(7)), "last": d(7), "today": d(7)}
    assert needs_review(adherence(plan, walked=set(), **week))  # 0 of 3
    assert needs_review(adherence(plan, walked={d(1), d(3), d(5)}, **week))  # rest days only
    assert not needs_review(adherence(plan, walked={d(2), d(4)}, **week))  # 2 of 3


# --- properties ------------------------------------------------------------------------------

weekdays = st.frozensets(st.integers(0, 6), min_size=1)
offsets = st.integers(0, 40)


@st.composite
def plans(draw):
    start = d(draw(st.integers(0, 20)))
    end = draw(st.one_of(st.none(), st.integers(0, 30).map(lambda n: start + timedelta(days=n))))
    pauses = []
    cursor = start
    for _ in range(draw(st.integers(0, 3))):
        first = cursor + timedelta(days=draw(st.integers(0, 10)))
        length = draw(st.one_of(st.none(), st.integers(1, 10)))
        pauses.append((first, None if length is None else first + timedelta(days=length)))
        if length is None:
            break
        cursor = pauses[-1][1]
    return PlanDays(start, end=end, schedule_days=draw(weekdays), pauses=tuple(pauses))


@st.composite
def cases(draw):
    plan = draw(plans())
    first = d(draw(offsets))
    last = first + timedelta(days=draw(st.integers(0, 40)))
    today = d(draw(st.integers(0, 70)))
    walked = {d(n) for n in draw(st.sets(st.integers(0, 80), max_size=40))}
    return plan, first, last, walked, today


@given(cases())
def test_ratio_between_0_and_1_and_done_never_above_due(case):
    plan, first, last, walked, today = case
    result = adherence(plan, first=first, last=last, walked=walked, today=today)
    assert 0 <= result.done <= result.due
    assert result.ratio is None or 0 <= result.ratio <= 1
    assert result.missed == result.states.get(DayState.MISSED, 0)


@given(cases())
def test_states_partition_the_days(case):
    plan, first, last, walked, today = case
    result = adherence(plan, first=first, last=last, walked=walked, today=today)
    assert sum(result.states.values()) == (last - first).days + 1
    assert result.walks == result.states.get(DayState.DONE, 0)


@given(cases())
def test_nothing_before_the_plan_after_it_or_after_today_is_counted(case):
    plan, first, last, walked, today = case
    for day, s in days(plan, first=first, last=last, walked=walked, today=today):
        if s in (DayState.DONE, DayState.MISSED):
            assert plan.in_plan(day)
            assert day <= today
        if s is DayState.MISSED:
            assert plan.scheduled(day)
            assert not plan.paused(day)
            assert day not in walked
        if s is DayState.PLANNED:
            assert day >= today
        if s is DayState.PAUSED:
            assert plan.paused(day)


@given(cases(), st.integers(0, 80))
def test_one_more_walk_never_lowers_adherence(case, extra_day):
    plan, first, last, walked, today = case
    before = adherence(plan, first=first, last=last, walked=walked, today=today)
    after = adherence(plan, first=first, last=last, walked=walked | {d(extra_day)}, today=today)
    assert after.done >= before.done
    assert after.missed <= before.missed
    assert before.ratio is None or after.ratio is None or after.ratio >= before.ratio


@given(cases())
def test_the_tally_of_split_periods_adds_up(case):
    plan, first, last, walked, today = case
    middle = first + (last - first) // 2
    whole = adherence(plan, first=first, last=last, walked=walked, today=today)
    left = adherence(plan, first=first, last=middle, walked=walked, today=today)
    right = adherence(plan, first=middle + timedelta(days=1), last=last, walked=walked, today=today)
    assert (whole.done, whole.due, whole.extra) == (
        left.done + right.done,
        left.due + right.due,
        left.extra + right.extra,
    )


@given(st.integers(1, 60), st.data())
def test_more_done_of_the_same_due_never_lowers_the_band(due, data):
    done = data.draw(st.integers(0, due - 1))
    order = [Band.REVIEW, Band.PARTIAL, Band.ADHERENT]
    assert order.index(band_of(done, due)) <= order.index(band_of(done + 1, due))


@given(cases(), st.lists(offsets, min_size=1, max_size=4))
def test_several_periods_ending_on_one_day_tally_as_each_alone(case, starts):
    # adherences() (the Today list's last 7 and 28 days) works each day out once.
    plan, _, last, walked, today = case
    firsts = [d(n) for n in starts]
    together = adherences(plan, firsts=firsts, last=last, walked=walked, today=today)
    for first, result in zip(firsts, together, strict=True):
        alone = adherence(plan, first=first, last=last, walked=walked, today=today)
        assert (result.done, result.due, result.extra, result.states) == (
            alone.done,
            alone.due,
            alone.extra,
            alone.states,
        )
