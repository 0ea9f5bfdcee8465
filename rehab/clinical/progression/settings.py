"""The §4 thresholds of one protocol, each checked against its range."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# field -> (kind, lowest, highest, what a valid value is in words); None means unbounded.
_SETTING_RULES: dict[str, tuple[type, float | None, float | None, str]] = {
    "pause_pain": (int, 0, 10, "a pain score from 0 to 10"),
    "regress_worst_pain_above": (int, 0, 10, "a pain score from 0 to 10"),
    "regress_effort": (int, 0, 10, "an effort score (Borg CR10) from 0 to 10"),
    "hold_adherence_ratio": (float, 0, 1, "a ratio from 0 to 1"),
    "hold_min_sessions": (int, 1, None, "a whole number of sessions, at least 1"),
    "advance_max_worst_pain": (int, 0, 10, "a pain score from 0 to 10"),
    "advance_max_median_effort": (float, 0, 10, "an effort score (Borg CR10) from 0 to 10"),
    "advance_min_minutes_ratio": (float, 0, 1, "a ratio from 0 to 1"),
    "max_advances_per_7_days": (int, 0, None, "a whole number of advances, 0 or more"),
    "window_days": (int, 1, None, "a whole number of days, at least 1"),
}


def _coerce_setting(name: str, value: Any) -> int | float:
    kind, low, high, meaning = _SETTING_RULES[name]
    # bool is an int in Python, but `true` for a threshold is always a mistake in the input.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"Progression setting '{name}' must be {meaning}; got {value!r}.")
    if kind is int:
        # JSON clients may send 8.0 for 8; a fractional count or score is a real error.
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"Progression setting '{name}' must be {meaning}; got {value!r}.")
        value = int(value)
    else:
        value = float(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"Progression setting '{name}' must be {meaning}; got {value!r}.")
    return value


@dataclass(frozen=True)
class ProgressionSettings:
    """The §4 thresholds for one protocol; every default is an [I] figure a clinic can change."""

    pause_pain: int = 8
    regress_worst_pain_above: int = 5
    regress_effort: int = 7
    hold_adherence_ratio: float = 0.8
    hold_min_sessions: int = 2
    advance_max_worst_pain: int = 5
    advance_max_median_effort: float = 4.0
    advance_min_minutes_ratio: float = 0.9
    max_advances_per_7_days: int = 2
    window_days: int = 7

    def __post_init__(self) -> None:
        # Validating here as well as in from_dict keeps settings built in code just as safe.
        for f in fields(self):
            object.__setattr__(self, f.name, _coerce_setting(f.name, getattr(self, f.name)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ProgressionSettings:
        """Defaults overridden by `data`; an unknown key or a value out of range is a ValueError."""
        data = data or {}
        if not isinstance(data, dict):
            raise ValueError(f"Progression settings must be a mapping; got {type(data).__name__}.")
        unknown = sorted(set(data) - set(_SETTING_RULES))
        if unknown:
            known = ", ".join(_SETTING_RULES)
            raise ValueError(
                f"Unknown progression setting(s): {', '.join(map(str, unknown))}. "
                f"Known settings: {known}."
            )
        return cls(**{name: _coerce_setting(name, value) for name, value in data.items()})
