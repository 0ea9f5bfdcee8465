"""The shared vocabulary: constraint merging and level capping (CLINICAL.md §3, constraints)."""

import re
from dataclasses import replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rehab.clinical import levels as L
from rehab.clinical.levels import (
    Constraints,
    Interval,
    Level,
    cap_level,
    loggable_settings,
    within,
)
from rehab.clinical.protocols import LIBRARY

FREE = Level("Free", 20, 3, None, 5, L.OVERGROUND, min_days=7, interval=Interval(60, 60))


def test_merge_takes_the_most_restrictive_of_each_field():
    a = Constraints(
        supervised_only=True,
        max_speed_kmh=2.0,
        allowed_settings=frozenset({L.PARALLEL_BARS, L.TREADMILL_BOTH_HANDRAILS}),
    )
    b = Constraints(
        handrails_required=True,
        max_speed_kmh=1.5,
        max_incline_pct=0,
        allowed_settings=frozenset({L.TREADMILL_BOTH_HANDRAILS, L.OVERGROUND}),
    )
    merged = a.merge(b)
    assert merged == Constraints(
        supervised_only=True,
        handrails_required=True,
        max_speed_kmh=1.5,
        max_incline_pct=0,
        allowed_settings=frozenset({L.TREADMILL_BOTH_HANDRAILS}),
    )


def test_comfortable_speed_under_a_cap_becomes_the_cap_and_says_so():
    capped = cap_level(FREE, Constraints(max_speed_kmh=1.5))
    assert capped.level.speed_kmh == 1.5
    assert capped.caps == ("speed capped at 1.5 km/h (was comfortable speed)",)


def test_handrails_move_overground_to_the_treadmill_with_both_rails_and_drop_intervals():
    capped = cap_level(FREE, Constraints(handrails_required=True))
    assert capped.level.setting == L.TREADMILL_BOTH_HANDRAILS
    assert capped.level.interval is None
    assert len(capped.caps) == 2


def test_capping_never_takes_support_away():
    bars = Level("Bars", 5, 3, 0.5, 0, L.PARALLEL_BARS, min_days=7, supervised=True)
    allowed = Constraints(allowed_settings=frozenset({L.PARALLEL_BARS, L.TREADMILL_BOTH_HANDRAILS}))
    assert cap_level(bars, allowed).level.setting == L.PARALLEL_BARS
    assert not cap_level(bars, allowed).is_capped


def test_a_level_within_its_constraints_is_unchanged():
    level = Level("Ok", 10, 3, 1.5, 0, L.TREADMILL_BOTH_HANDRAILS, min_days=7)
    assert cap_level(level, Constraints(max_speed_kmh=2.0, handrails_required=True)).level == level


def test_constraints_round_trip_through_their_dict():
    c = Constraints(
        supervised_only=True, max_incline_pct=0, allowed_settings=frozenset({L.PARALLEL_BARS})
    )
    assert Constraints.from_dict(c.to_dict()) == c
    assert Constraints().to_dict() == {}


@pytest.mark.parametrize("level", [FREE])
def test_level_round_trips_through_its_dict(level):
    assert Level.from_dict(level.to_dict()) == level


settings_sets = st.none() | st.frozensets(st.sampled_from(list(L.SETTINGS)), min_size=1)
constraints = st.builds(
    Constraints,
    supervised_only=st.booleans(),
    handrails_required=st.booleans(),
    allowed_settings=settings_sets,
    max_speed_kmh=st.none() | st.floats(0.5, 5.0),
    max_incline_pct=st.none() | st.floats(0, 10),
)
levels = st.builds(
    Level,
    name=st.just("L"),
    minutes=st.integers(1, 60),
    sessions_per_week=st.integers(1, 7),
    speed_kmh=st.none() | st.floats(0.5, 6.0),
    incline_pct=st.floats(0, 15),
    setting=st.sampled_from(list(L.SETTINGS)),
    min_days=st.integers(1, 14),
    interval=st.none() | st.just(Interval(60, 60)),
    supervised=st.booleans(),
)


@given(levels, constraints)
def test_a_capped_level_never_prescribes_beyond_its_constraints(level, c):
    capped = cap_level(level, c)
    assert within(capped.level, c)
    assert capped.level.minutes == level.minutes  # capping limits intensity, never the dose
    # A capped level is capped again to itself: caps are stable.
    assert cap_level(capped.level, c).level == capped.level


@given(levels, constraints, constraints)
def test_merged_constraints_cap_at_least_as_hard_as_either(level, a, b):
    # Screening never produces disjoint setting lists; for those the cap falls back to the
    # parallel bars, which no list of the two may include.
    both = set(a.effective_settings()) & set(b.effective_settings())
    assume(both)
    merged = cap_level(level, a.merge(b)).level
    assert within(merged, a)
    assert within(merged, b)


def test_loggable_settings_under_fall_risk_leave_out_overground():
    fall_risk = Constraints(
        handrails_required=True,
        allowed_settings=frozenset({L.PARALLEL_BARS, L.TREADMILL_BOTH_HANDRAILS}),
    )
    assert loggable_settings(FREE, fall_risk) == (L.PARALLEL_BARS, L.TREADMILL_BOTH_HANDRAILS)


def test_loggable_settings_without_constraints_are_the_level_and_more_support():
    light = Level("Light", 15, 3, 2.0, 0, L.TREADMILL_LIGHT_TOUCH, min_days=3)
    assert loggable_settings(light, Constraints()) == (
        L.PARALLEL_BARS,
        L.TREADMILL_BOTH_HANDRAILS,
        L.TREADMILL_LIGHT_TOUCH,
    )
    assert loggable_settings(FREE, Constraints()) == tuple(L.SETTINGS)


@given(levels, constraints)
def test_loggable_settings_hold_the_prescription_and_nothing_the_constraints_forbid(level, c):
    allowed = loggable_settings(level, c)
    prescribed = cap_level(level, c).level.setting
    assert prescribed in allowed  # the prefilled answer is always one of the choices
    assert set(allowed) <= set(c.effective_settings())
    assert all(L.support_rank(s) <= L.support_rank(prescribed) for s in allowed)
    assert list(allowed) == sorted(allowed, key=L.support_rank)


# --- a capped level's name says what the capped level prescribes (issue 11, §6) ----------------


def named(**fields) -> Level:
    """A level named as the built-in library names its levels: from its prescription."""
    values = {
        "name": "",
        "minutes": 10,
        "sessions_per_week": 3,
        "speed_kmh": 2.0,
        "incline_pct": 0,
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "min_days": 7,
    }
    values.update(fields)
    level = Level(**values)
    return Level(**{**values, "name": L.level_name("Level 2", level)})


@pytest.mark.parametrize(
    ("level", "constraints", "before", "after"),
    [
        (
            named(speed_kmh=2.0),
            Constraints(max_speed_kmh=1.5),
            "Level 2: 10 min at 2.0 km/h, both rails",
            "Level 2: 10 min at 1.5 km/h, both rails",
        ),
        (
            named(speed_kmh=None),
            Constraints(max_speed_kmh=1.5),
            "Level 2: 10 min at comfortable speed, both rails",
            "Level 2: 10 min at 1.5 km/h, both rails",
        ),
        (
            named(speed_kmh=2.0),
            Constraints(max_speed_kmh=1.25),
            "Level 2: 10 min at 2.0 km/h, both rails",
            "Level 2: 10 min at 1.25 km/h, both rails",
        ),
        (
            named(incline_pct=5),
            Constraints(max_incline_pct=0),
            "Level 2: 10 min at 2.0 km/h, 5 % incline, both rails",
            "Level 2: 10 min at 2.0 km/h, both rails",
        ),
        (
            named(incline_pct=10),
            Constraints(max_incline_pct=4),
            "Level 2: 10 min at 2.0 km/h, 10 % incline, both rails",
            "Level 2: 10 min at 2.0 km/h, 4 % incline, both rails",
        ),
        (
            named(setting=L.TREADMILL_LIGHT_TOUCH),
            Constraints(handrails_required=True),
            "Level 2: 10 min at 2.0 km/h, light rail touch",
            "Level 2: 10 min at 2.0 km/h, both rails",
        ),
        (
            named(setting=L.OVERGROUND, speed_kmh=None, interval=Interval(60, 60)),
            Constraints(allowed_settings=frozenset({L.PARALLEL_BARS})),
            "Level 2: 10 min at comfortable speed, overground, intervals",
            "Level 2: 10 min at comfortable speed, parallel bars",
        ),
        (
            # Fall-risk constraints: several caps at once.
            named(setting=L.OVERGROUND, speed_kmh=None, incline_pct=5),
            Constraints(
                supervised_only=True,
                handrails_required=True,
                max_speed_kmh=1.5,
                max_incline_pct=0,
            ),
            "Level 2: 10 min at comfortable speed, 5 % incline, overground",
            "Level 2: 10 min at 1.5 km/h, both rails",
        ),
    ],
)
def test_a_capped_levels_name_is_built_from_its_capped_prescription(
    level, constraints, before, after
):
    assert level.name == before
    capped = cap_level(level, constraints)
    assert capped.is_capped
    assert capped.level.name == after
    assert capped.level.name == L.level_name("Level 2", capped.level)


def test_supervision_alone_leaves_the_name_as_it_is():
    level = named()
    capped = cap_level(level, Constraints(supervised_only=True))
    assert capped.is_capped
    assert capped.level.name == level.name


def test_a_name_in_a_clinicians_own_words_is_kept_when_capped():
    level = replace(named(), name="Warm-up week")
    assert cap_level(level, Constraints(max_speed_kmh=1.5)).level.name == "Warm-up week"


def test_every_built_in_level_capped_by_fall_risk_is_named_by_what_it_prescribes():
    fall_risk = Constraints(
        supervised_only=True, handrails_required=True, max_speed_kmh=1.5, max_incline_pct=0
    )
    for protocol in LIBRARY:
        for number, level in enumerate(protocol.levels, start=1):
            capped = cap_level(level, fall_risk).level
            assert capped.name == L.level_name(f"Level {number}", capped), capped.name
            speed = float(re.search(r"at ([\d.]+) km/h", capped.name).group(1))
            assert speed <= 1.5, capped.name
            for beyond in ("incline", "overground", "light rail touch", "intervals"):
                assert beyond not in capped.name


@given(levels, constraints)
def test_a_generated_name_always_matches_the_capped_prescription(level, c):
    level = replace(level, name=L.level_name("Level 4", level))
    capped = cap_level(level, c).level
    assert capped.name == L.level_name("Level 4", capped)
