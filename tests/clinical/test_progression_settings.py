"""The progression thresholds as settings a protocol can change (docs/clinical.md §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rehab.clinical.progression import ProgressionSettings
from tests.clinical.test_progression import TODAY, codes, good_week, run, session

# --- settings ----------------------------------------------------------------------------------


def test_lower_pause_pain_setting_pauses_earlier():
    sessions = [*good_week()[:2], session(1, pain_after=6)]
    assert run(sessions=sessions).outcome == "advance"
    assert run(sessions=sessions, settings=ProgressionSettings(pause_pain=6)).outcome == "pause"


def test_regress_worst_pain_setting_changes_the_threshold():
    settings = ProgressionSettings(regress_worst_pain_above=3, advance_max_worst_pain=3)
    decision = run(sessions=good_week(pain_worst=4), settings=settings)
    assert decision.outcome == "regress"
    assert "regress above 3/10" in decision.reasons[0].text


def test_advance_worst_pain_setting_below_regress_limit_holds():
    settings = ProgressionSettings(advance_max_worst_pain=3)
    assert run(sessions=good_week(pain_worst=3), settings=settings).outcome == "advance"
    decision = run(sessions=good_week(pain_worst=4), settings=settings)
    assert decision.outcome == "hold"
    assert codes(decision) == ["worst_pain_above_advance"]
    assert "4/10" in decision.reasons[0].text
    assert "3/10 or less" in decision.reasons[0].text


def test_advance_worst_pain_limit_is_not_repeated_when_pain_already_regresses():
    sessions = [*good_week()[:2], session(1, pain_worst=6)]
    decision = run(sessions=sessions, settings=ProgressionSettings(advance_max_worst_pain=3))
    assert codes(decision) == ["worst_pain_high"]


def test_regress_effort_setting_changes_the_threshold():
    sessions = [*good_week()[:2], session(1, effort=6)]
    assert run(sessions=sessions, settings=ProgressionSettings(regress_effort=6)).outcome == (
        "regress"
    )


def test_adherence_and_min_sessions_settings():
    settings = ProgressionSettings(hold_adherence_ratio=0.5, hold_min_sessions=3)
    decision = run(sessions=good_week()[:2], settings=settings)
    assert codes(decision) == ["too_few_sessions"]
    relaxed = ProgressionSettings(hold_adherence_ratio=0.5, hold_min_sessions=2)
    assert run(sessions=good_week()[:2], settings=relaxed).outcome == "advance"


def test_advance_effort_and_minutes_settings():
    sessions = good_week(effort=5, minutes_done=12)
    assert codes(run(sessions=sessions)) == ["median_effort_high", "minutes_short"]
    settings = ProgressionSettings(advance_max_median_effort=5, advance_min_minutes_ratio=0.8)
    assert run(sessions=sessions, settings=settings).outcome == "advance"


def test_step_limit_setting():
    advances = [TODAY - timedelta(days=2)]
    assert run(recent_advances=advances).outcome == "advance"
    decision = run(
        recent_advances=advances, settings=ProgressionSettings(max_advances_per_7_days=1)
    )
    assert codes(decision) == ["step_limit"]


def test_settings_from_none_or_empty_are_defaults():
    assert ProgressionSettings.from_dict(None) == ProgressionSettings()
    assert ProgressionSettings.from_dict({}) == ProgressionSettings()


def test_settings_from_dict_overrides_only_given_keys():
    settings = ProgressionSettings.from_dict({"pause_pain": 7, "hold_adherence_ratio": 0.5})
    assert settings.pause_pain == 7
    assert settings.hold_adherence_ratio == 0.5
    assert settings.window_days == 7


def test_settings_round_trip_through_dict():
    settings = ProgressionSettings(pause_pain=9, advance_max_median_effort=3.5, window_days=10)
    data = settings.to_dict()
    assert set(data) == {
        "pause_pain",
        "regress_worst_pain_above",
        "regress_effort",
        "hold_adherence_ratio",
        "hold_min_sessions",
        "advance_max_worst_pain",
        "advance_max_median_effort",
        "advance_min_minutes_ratio",
        "max_advances_per_7_days",
        "window_days",
    }
    assert ProgressionSettings.from_dict(data) == settings


def test_settings_accept_whole_floats_for_whole_number_fields():
    assert ProgressionSettings.from_dict({"window_days": 14.0}).window_days == 14


def test_settings_unknown_key_is_rejected_by_name():
    with pytest.raises(ValueError, match="pause_pian"):
        ProgressionSettings.from_dict({"pause_pian": 8})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pause_pain", 11),
        ("pause_pain", -1),
        ("regress_worst_pain_above", 10.5),
        ("regress_effort", 12),
        ("hold_adherence_ratio", 1.5),
        ("hold_adherence_ratio", -0.1),
        ("hold_min_sessions", 0),
        ("advance_max_worst_pain", 11),
        ("advance_max_median_effort", 10.5),
        ("advance_min_minutes_ratio", 1.1),
        ("max_advances_per_7_days", -1),
        ("window_days", 0),
        ("window_days", "7"),
        ("pause_pain", True),
        ("pause_pain", None),
    ],
)
def test_settings_out_of_range_or_wrong_type_is_rejected(key, value):
    with pytest.raises(ValueError, match=key):
        ProgressionSettings.from_dict({key: value})


def test_settings_built_in_code_are_validated_too():
    with pytest.raises(ValueError, match="window_days"):
        ProgressionSettings(window_days=0)
