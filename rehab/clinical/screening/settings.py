"""The clinic-changeable thresholds of the screening rules, each checked against its range."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from rehab.clinical.screening.answers import type_name


@dataclass(frozen=True)
class ScreeningSettings:
    """The clinic-changeable figures of the screening rules.

    Comparisons: "block"/"modify"/"fall_risk" thresholds trigger at or above the figure, the
    `*_below` Berg figures and the minimum weeks trigger strictly below it.
    """

    validity_days: int = 90
    bp_block_systolic: int = 180
    bp_block_diastolic: int = 110
    bp_modify_systolic: int = 160
    bp_modify_diastolic: int = 100
    tug_fall_risk_seconds: float = 12.0
    berg_block_below: int = 40
    berg_fall_risk_below: int = 46
    backward_walk_3m_fall_risk_seconds: float = 5.5
    fall_risk_max_speed_kmh: float = 1.5
    fall_risk_max_incline_pct: float = 0.0
    acl_min_weeks_since_surgery: int = 4
    tka_min_weeks_since_surgery: int = 6

    def __post_init__(self) -> None:
        errors = _settings_errors(self)
        if errors:
            raise ValueError(_settings_message(errors))
        # Normalise float fields so a settings object built from JSON ints (12) and one built
        # from floats (12.0) serialise identically.
        for name, spec in _SETTING_SPECS.items():
            if spec.kind is float:
                object.__setattr__(self, name, float(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ScreeningSettings:
        """Partial overrides on the defaults; an unknown key or a bad value is a ValueError."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(
                f"screening settings must be a mapping of name to value, not {type_name(data)}"
            )
        unknown = [str(key) for key in data if key not in _SETTING_SPECS]
        if unknown:
            known = ", ".join(_SETTING_SPECS)
            raise ValueError(
                f"unknown screening setting(s): {', '.join(sorted(unknown))} (known: {known})"
            )
        return cls(**dict(data))


@dataclass(frozen=True)
class _SettingSpec:
    kind: type
    minimum: float
    maximum: float
    # Zero is a meaningful "never" for some figures (e.g. no minimum weeks) but a speed cap of
    # zero would forbid walking altogether, so those ranges exclude their minimum.
    exclusive_minimum: bool = False


_SETTING_SPECS: dict[str, _SettingSpec] = {
    "validity_days": _SettingSpec(int, 1, 3650),
    "bp_block_systolic": _SettingSpec(int, 50, 300),
    "bp_block_diastolic": _SettingSpec(int, 20, 200),
    "bp_modify_systolic": _SettingSpec(int, 50, 300),
    "bp_modify_diastolic": _SettingSpec(int, 20, 200),
    "tug_fall_risk_seconds": _SettingSpec(float, 0, 300, exclusive_minimum=True),
    "berg_block_below": _SettingSpec(int, 0, 57),
    "berg_fall_risk_below": _SettingSpec(int, 0, 57),
    "backward_walk_3m_fall_risk_seconds": _SettingSpec(float, 0, 300, exclusive_minimum=True),
    "fall_risk_max_speed_kmh": _SettingSpec(float, 0, 20, exclusive_minimum=True),
    "fall_risk_max_incline_pct": _SettingSpec(float, 0, 40),
    "acl_min_weeks_since_surgery": _SettingSpec(int, 0, 520),
    "tka_min_weeks_since_surgery": _SettingSpec(int, 0, 520),
}


def _settings_errors(settings: ScreeningSettings) -> dict[str, str]:
    errors: dict[str, str] = {}
    for f in fields(settings):
        spec = _SETTING_SPECS[f.name]
        value = getattr(settings, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            wanted = "a whole number" if spec.kind is int else "a number"
            errors[f.name] = f"must be {wanted}, not {type_name(value)}"
            continue
        if spec.kind is int and not isinstance(value, int):
            errors[f.name] = f"must be a whole number, not {value!r}"
            continue
        if not math.isfinite(value):
            errors[f.name] = f"must be a finite number, not {value!r}"
            continue
        low_ok = value > spec.minimum if spec.exclusive_minimum else value >= spec.minimum
        if not low_ok or value > spec.maximum:
            low = "above" if spec.exclusive_minimum else "from"
            errors[f.name] = f"must be {low} {spec.minimum:g} to {spec.maximum:g}, not {value!r}"
    # A modify band above its block threshold, or a Berg block line above the fall-risk line, is
    # almost certainly a typo and would make the rules read backwards.
    pairs = (
        ("bp_modify_systolic", "bp_block_systolic"),
        ("bp_modify_diastolic", "bp_block_diastolic"),
        ("berg_block_below", "berg_fall_risk_below"),
    )
    for lower, upper in pairs:
        if lower in errors or upper in errors:
            continue
        if getattr(settings, lower) > getattr(settings, upper):
            errors[lower] = f"must not be greater than {upper} ({getattr(settings, upper)!r})"
    return errors


def _settings_message(errors: Mapping[str, str]) -> str:
    details = "; ".join(f"{name} {message}" for name, message in errors.items())
    return f"invalid screening settings: {details}"
