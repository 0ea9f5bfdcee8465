"""The built-in protocol library (docs/clinical.md §1) and the safety instructions (§2)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rehab.clinical import protocols
from rehab.clinical.levels import (
    ACL_RECONSTRUCTION,
    CHRONIC_LOW_BACK_PAIN,
    CONDITIONS,
    KNEE_CONDITIONS,
    KNEE_OA,
    LOW_BACK_CONDITIONS,
    OVERGROUND,
    PARALLEL_BARS,
    PATELLOFEMORAL_PAIN,
    SETTINGS,
    TOTAL_KNEE_ARTHROPLASTY,
    TREADMILL_BOTH_HANDRAILS,
    TREADMILL_LIGHT_TOUCH,
    TREADMILL_SETTINGS,
    Interval,
    Level,
)
from rehab.clinical.outcomes import MEASURES
from rehab.clinical.protocols import (
    LIBRARY,
    SAFETY_INSTRUCTIONS,
    ProtocolDef,
    for_condition,
    get,
    safety_for,
    step_problems,
)

IDS = [p.code for p in LIBRARY]

# §1's table: (first level's speed range, highest set speed, highest incline), km/h and %.
RANGES = {
    KNEE_OA: ((1.5, 2.0), 3.0, 5),
    PATELLOFEMORAL_PAIN: ((2.0, 3.0), 3.0, 10),
    ACL_RECONSTRUCTION: ((1.0, 2.0), 2.0, 10),
    TOTAL_KNEE_ARTHROPLASTY: ((0.5, 1.5), 2.5, 0),
    CHRONIC_LOW_BACK_PAIN: (None, 3.0, 10),  # comfortable speed from the start [S]
}
# Days before the last level is reached: knee OA, patellofemoral and LBP about 5-6 weeks;
# ACL from about week 4-6 to week 12; TKA from about week 6 to week 12.
TIMELINE_DAYS = {
    KNEE_OA: (35, 42),
    PATELLOFEMORAL_PAIN: (35, 42),
    ACL_RECONSTRUCTION: (35, 56),
    TOTAL_KNEE_ARTHROPLASTY: (35, 42),
    CHRONIC_LOW_BACK_PAIN: (35, 42),
}

BASE = Level("base", 10, 3, 2.0, 0, TREADMILL_BOTH_HANDRAILS, min_days=7)


def test_library_has_five_protocols_one_per_condition() -> None:
    assert len(LIBRARY) == 5
    assert sorted(p.condition for p in LIBRARY) == sorted(CONDITIONS)
    assert len({p.code for p in LIBRARY}) == 5


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_every_consecutive_pair_of_levels_is_one_allowed_step(protocol: ProtocolDef) -> None:
    for a, b in zip(protocol.levels, protocol.levels[1:], strict=False):
        assert step_problems(a, b) == [], (a.name, b.name)


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_levels_use_valid_settings_and_one_session_count(protocol: ProtocolDef) -> None:
    assert len(protocol.levels) >= 3
    assert all(level.setting in SETTINGS for level in protocol.levels)
    assert {level.sessions_per_week for level in protocol.levels} == {3}


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_speeds_and_inclines_stay_in_the_table_ranges(protocol: ProtocolDef) -> None:
    first_range, top_speed, top_incline = RANGES[protocol.condition]
    first = protocol.levels[0].speed_kmh
    if first_range is None:
        assert first is None
    else:
        assert first is not None
        assert first_range[0] <= first <= first_range[1]
    set_speeds = [lv.speed_kmh for lv in protocol.levels if lv.speed_kmh is not None]
    assert all(0 < s <= top_speed for s in set_speeds)
    assert max(lv.incline_pct for lv in protocol.levels) <= min(top_incline, 10)
    assert all(lv.incline_pct >= 0 for lv in protocol.levels)


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_overground_levels_are_level_ground(protocol: ProtocolDef) -> None:
    assert all(lv.incline_pct == 0 for lv in protocol.levels if lv.setting == OVERGROUND)


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_minimum_days_add_up_to_the_protocol_timeline(protocol: ProtocolDef) -> None:
    low, high = TIMELINE_DAYS[protocol.condition]
    assert low <= sum(lv.min_days for lv in protocol.levels[:-1]) <= high
    # §1: at most 2 steps in 7 days, so no two consecutive levels can both be passed in a week.
    for a, b in zip(protocol.levels, protocol.levels[1:-1], strict=False):
        assert a.min_days + b.min_days >= 7, (a.name, b.name)


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_level_names_are_short_and_numbered(protocol: ProtocolDef) -> None:
    for number, level in enumerate(protocol.levels, start=1):
        assert level.name.startswith(f"Level {number}: {level.minutes} min at ")
        assert len(level.name) <= 80


def test_level_name_reads_like_the_spec() -> None:
    assert get("knee_oa_retro_6wk").levels[2].name.startswith("Level 3: 15 min at 2.0 km/h")


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_every_protocol_cites_sources_without_invented_links(protocol: ProtocolDef) -> None:
    assert protocol.citations
    keys = [c.key for c in protocol.citations]
    assert len(keys) == len(set(keys))
    for citation in protocol.citations:
        assert citation.text
        assert citation.supports
        assert "doi" not in citation.text.lower()
        assert "http" not in citation.text.lower()


@pytest.mark.parametrize(
    ("condition", "keys"),
    [
        (KNEE_OA, {"alghadir2019", "lin2025", "josr_18_264"}),
        (PATELLOFEMORAL_PAIN, {"roos2012"}),
        (ACL_RECONSTRUCTION, {"delaware_aclr"}),
        (TOTAL_KNEE_ARTHROPLASTY, {"ozden2024", "mcclelland2012"}),
        (
            CHRONIC_LOW_BACK_PAIN,
            {"dufek2011", "ahmad2023", "jchiroprmed2018", "whitley_dufek2011"},
        ),
    ],
)
def test_each_condition_cites_the_sources_section_1_names(condition: str, keys: set[str]) -> None:
    (protocol,) = for_condition(condition)
    cited = {c.key for c in protocol.citations}
    assert keys <= cited
    assert {"heath2001", "delaware_return_to_run"} <= cited


def test_citation_texts_follow_clinical_md() -> None:
    texts = {c.key: c.text for p in LIBRARY for c in p.citations}
    assert texts["alghadir2019"] == "Alghadir AH et al. 2019, BMC Musculoskelet Disord 20:159"
    assert "J Biomech 45:1656" in texts["roos2012"]
    assert "JOSPT 42:135" in texts["mcclelland2012"]
    assert "J Orthop Surg Res 18:264" in texts["josr_18_264"]


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_retest_and_outcome_measures_follow_the_condition(protocol: ProtocolDef) -> None:
    assert all(code in MEASURES for code in protocol.outcome_measures)
    if protocol.condition in KNEE_CONDITIONS:
        assert protocol.outcome_measures == ("koos", "nprs")
    if protocol.condition in LOW_BACK_CONDITIONS:
        assert protocol.outcome_measures == ("rmdq", "nprs")
    if protocol.condition in (KNEE_OA, CHRONIC_LOW_BACK_PAIN):
        assert protocol.retest_weeks == 6
    assert protocol.progression == {}


@pytest.mark.parametrize("protocol", LIBRARY, ids=IDS)
def test_summary_is_two_to_four_sentences(protocol: ProtocolDef) -> None:
    sentences = [s for s in protocol.summary.split(". ") if s.strip()]
    assert 2 <= len(sentences) <= 4


def test_knee_oa_starts_as_the_table_says() -> None:
    first = get("knee_oa_retro_6wk").levels[0]
    assert (first.minutes, first.sessions_per_week, first.speed_kmh, first.incline_pct) == (
        10,
        3,
        1.5,
        0,
    )
    assert first.setting == TREADMILL_BOTH_HANDRAILS


def test_knee_oa_optional_incline_level_can_be_skipped() -> None:
    levels = get("knee_oa_retro_6wk").levels
    (incline_index,) = [i for i, lv in enumerate(levels) if lv.incline_pct]
    assert step_problems(levels[incline_index - 1], levels[incline_index + 1]) == []


def test_patellofemoral_ends_at_twenty_minutes_and_ten_percent_incline() -> None:
    last = for_condition(PATELLOFEMORAL_PAIN)[0].levels[-1]
    assert (last.minutes, last.speed_kmh, last.incline_pct) == (20, None, 10)


def test_acl_reaches_ten_percent_then_overground() -> None:
    levels = for_condition(ACL_RECONSTRUCTION)[0].levels
    assert levels[-2].incline_pct == 10
    assert levels[-1].setting == OVERGROUND


def test_tka_starts_supervised_in_parallel_bars_and_ends_without_a_rail() -> None:
    levels = for_condition(TOTAL_KNEE_ARTHROPLASTY)[0].levels
    assert levels[0].setting == PARALLEL_BARS
    assert levels[0].supervised
    assert levels[0].minutes == 5
    assert levels[-1].setting == OVERGROUND
    assert max(lv.speed_kmh or 0 for lv in levels) == 2.5


def test_low_back_pain_starts_with_forward_backward_intervals_at_comfortable_speed() -> None:
    levels = for_condition(CHRONIC_LOW_BACK_PAIN)[0].levels
    assert levels[0].interval == Interval(60, 60)
    assert levels[0].speed_kmh is None
    assert levels[-1].interval is None
    assert levels[-1].minutes == 30
    # Turning round on a moving belt is unsafe: intervals only away from a treadmill.
    for protocol in LIBRARY:
        assert all(lv.setting not in TREADMILL_SETTINGS for lv in protocol.levels if lv.interval)


def test_get_returns_a_protocol_and_raises_key_error_for_an_unknown_code() -> None:
    assert get("knee_oa_retro_6wk").condition == KNEE_OA
    with pytest.raises(KeyError):
        get("no_such_protocol")


def test_for_condition_rejects_an_unknown_condition() -> None:
    with pytest.raises(KeyError):
        for_condition("tennis_elbow")


def test_protocol_to_dict_round_trips_levels() -> None:
    data = get("tka_retro").to_dict()
    assert [Level.from_dict(d) for d in data["levels"]] == list(get("tka_retro").levels)
    assert data["citations"][0]["key"] == "ozden2024"


# --- step_problems ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"minutes": 11},
        {"minutes": 15},
        {"speed_kmh": 2.1},
        {"speed_kmh": 2.5},
        {"speed_kmh": None},
        {"incline_pct": 2},
        {"incline_pct": 5},
        {"setting": TREADMILL_LIGHT_TOUCH},
        {"setting": OVERGROUND},
        {"interval": Interval(60, 60)},
    ],
)
def test_single_allowed_changes_pass(changes: dict) -> None:
    assert step_problems(BASE, replace(BASE, **changes)) == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"minutes": 16}, "minutes rise by 6"),
        ({"minutes": 5}, "minutes go down"),
        ({"speed_kmh": 2.6}, "speed rises by 0.6"),
        ({"speed_kmh": 2.05}, "only 0.05"),
        ({"speed_kmh": 1.5}, "speed goes down"),
        ({"incline_pct": 1}, "only 1 %"),
        ({"incline_pct": 6}, "incline rises by 6"),
        ({"setting": PARALLEL_BARS}, "more support"),
        ({"sessions_per_week": 4}, "sessions per week"),
        ({"supervised": True}, "supervision is added"),
        ({}, "nothing changes"),
    ],
)
def test_disallowed_steps_are_named(changes: dict, words: str) -> None:
    problems = step_problems(BASE, replace(BASE, **changes))
    assert any(words in p for p in problems), problems


def test_two_things_at_once_is_a_problem() -> None:
    problems = step_problems(BASE, replace(BASE, minutes=15, speed_kmh=2.5))
    assert any("2 things change at once (minutes, speed)" in p for p in problems)


def test_setting_and_incline_together_is_a_problem_on_a_treadmill() -> None:
    problems = step_problems(BASE, replace(BASE, setting=TREADMILL_LIGHT_TOUCH, incline_pct=2))
    assert any("at once" in p for p in problems)


def test_comfortable_speed_may_not_become_a_set_speed() -> None:
    a = replace(BASE, speed_kmh=None)
    assert any("from comfortable" in p for p in step_problems(a, replace(a, speed_kmh=2.0)))


def test_supervision_may_end_only_with_a_less_supportive_setting() -> None:
    a = replace(BASE, supervised=True)
    assert step_problems(a, replace(a, supervised=False, setting=TREADMILL_LIGHT_TOUCH)) == []
    problems = step_problems(a, replace(a, supervised=False, minutes=15))
    assert any("supervision ends" in p for p in problems)


def test_interval_may_be_dropped_alongside_another_change_or_alone() -> None:
    a = replace(BASE, interval=Interval(60, 60))
    assert step_problems(a, replace(a, interval=None)) == []
    assert step_problems(a, replace(a, interval=None, minutes=15)) == []


def test_moving_overground_may_leave_the_incline_behind_but_not_take_it() -> None:
    a = replace(BASE, incline_pct=10, setting=TREADMILL_LIGHT_TOUCH)
    assert step_problems(a, replace(a, setting=OVERGROUND, incline_pct=0)) == []
    carried = step_problems(a, replace(a, setting=OVERGROUND))
    assert any("level space" in p for p in carried)
    # Dropping the incline on the treadmill is not a step up.
    assert any("incline goes down" in p for p in step_problems(a, replace(a, incline_pct=0)))


def test_unknown_setting_is_a_problem_not_a_crash() -> None:
    assert step_problems(BASE, replace(BASE, setting="trampoline")) == [
        "unknown setting 'trampoline'"
    ]


# --- safety instructions ------------------------------------------------------------------------


def test_safety_instructions_cover_every_point_of_section_2() -> None:
    text = " ".join(s.text.lower() for s in SAFETY_INSTRUCTIONS)
    for words in (
        "clear",
        "level",
        "smooth",
        "furniture",
        "pet",
        "potholes",
        "shoes",
        "ankle",
        "handrails",
        "both hands",
        "safety key",
        "1.6 km/h",
        "out of control",
        "straight ahead",
        "shoulders relaxed",
        "start slowly",
        "fall",
        "nearly fall",
        "dizzy",
        "chest pain",
        "log",
    ):
        assert words in text, words


def test_safety_instructions_are_short_single_instructions_with_unique_codes() -> None:
    assert len({s.code for s in SAFETY_INSTRUCTIONS}) == len(SAFETY_INSTRUCTIONS)
    assert all(s.applies_to in protocols.APPLIES_TO for s in SAFETY_INSTRUCTIONS)
    assert all(len(s.text) <= 100 for s in SAFETY_INSTRUCTIONS)


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_safety_for_gives_treadmill_instructions_only_on_a_treadmill(setting: str) -> None:
    kinds = {s.applies_to for s in safety_for(replace(BASE, setting=setting))}
    assert "all" in kinds
    assert ("treadmill" in kinds) == (setting in TREADMILL_SETTINGS)
    assert ("overground" in kinds) == (setting == OVERGROUND)


def test_parallel_bars_get_only_the_general_instructions() -> None:
    general = tuple(s for s in SAFETY_INSTRUCTIONS if s.applies_to == "all")
    assert safety_for(replace(BASE, setting=PARALLEL_BARS)) == general


def test_treadmill_safety_includes_the_key_and_start_speed() -> None:
    codes = {s.code for s in safety_for(replace(BASE, setting=TREADMILL_LIGHT_TOUCH))}
    assert {"safety_key", "start_speed", "hold_handrails", "stop_and_log"} <= codes
    assert "outdoors" not in codes
