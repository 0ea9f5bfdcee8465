"""The progression vocabulary (outcomes, reason codes) and what goes in and out of `evaluate`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rehab.clinical.levels import SETTINGS

OUTCOMES = ("advance", "hold", "regress", "pause")  # least to most severe
SWELLING = ("none", "same", "more")
ADVERSE_EVENTS = ("fall", "near_fall", "dizziness", "chest_pain")

ADVANCE, HOLD, REGRESS, PAUSE = OUTCOMES

REASON_CODES: dict[str, str] = {
    # pause
    "fall": "A fall was reported: pause and alert the clinician.",
    "chest_pain": "Chest pain was reported: pause and alert the clinician.",
    "severe_pain": "A pain score reached the pause threshold: pause and alert the clinician.",
    # regress
    "worst_pain_high": "Worst pain during exercise was above the regress threshold.",
    "pain_not_settled": "Next-morning pain was above the pain before that session.",
    "effort_high": "Effort (Borg CR10) reached the regress threshold.",
    # hold
    "near_fall": "A near fall was reported: hold and alert the clinician.",
    "dizziness": "Dizziness was reported: hold and alert the clinician.",
    "setting_not_allowed": "A session was logged on a setting the plan does not allow: hold and "
    "alert the clinician.",
    "beyond_limits": "A session was logged faster or steeper than the screening's limits: hold "
    "and alert the clinician.",
    "lowest_level": "Regression was indicated at the first level: hold, the clinician reviews.",
    "too_few_sessions": "Fewer sessions in the window than the minimum needed to judge progress.",
    "low_adherence": "Fewer than the required share of prescribed sessions were logged.",
    "swelling_more": "Knee swelling was more than usual.",
    "hold_progression": "The screening constraints hold progression.",
    "min_days": "The minimum number of days at this level has not been reached.",
    "top_level": "This is the last level: the protocol is finished.",
    "next_level_capped": "The next level would go beyond the screening constraints.",
    "step_limit": "The maximum number of advances in 7 days has been reached.",
    "worst_pain_above_advance": "Worst pain was above the advance limit (not the regress one).",
    "next_morning_unknown": "Next-morning pain was not recorded, so settling cannot be confirmed.",
    "median_effort_high": "Median effort was above the advance threshold.",
    "minutes_short": "A session's minutes fell short of the share of the target needed to advance.",
    # advance
    "criteria_met": "Every advance criterion was met.",
}


# A session outside what the plan allows (§3's constraints): kept as recorded, held, alerted.
OUTSIDE_PLAN_CODES = ("setting_not_allowed", "beyond_limits")
# The adverse events that hold and alert (CLINICAL.md §4.1): a session reporting one tells the
# clinician at once, as a pause does.
HOLD_ALERT_EVENTS = ("near_fall", "dizziness")


# --- inputs and outputs ----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRecord:
    """One logged session, as far as the rules need it (pain NRS 0-10, effort Borg CR10 0-10)."""

    day: date
    minutes_done: int
    pain_before: int
    pain_worst: int
    pain_after: int
    pain_next_morning: int | None
    effort: int
    swelling: str = "none"
    fall: bool = False
    near_fall: bool = False
    dizziness: bool = False
    chest_pain: bool = False
    # Where the session was done (a code of levels.SETTINGS); None when not known, which no
    # rule then judges.
    setting: str | None = None
    # How fast and how steep it was done; None when not known, which no rule then judges.
    speed_kmh: float | None = None
    incline_pct: float | None = None

    def __post_init__(self) -> None:
        if self.setting is not None and self.setting not in SETTINGS:
            raise ValueError(
                f"Session setting must be one of {', '.join(SETTINGS)}; got {self.setting!r}."
            )
        # Out-of-range scores would silently dodge or trip a threshold; better to fail loudly.
        for name in ("pain_before", "pain_worst", "pain_after", "pain_next_morning", "effort"):
            value = getattr(self, name)
            if value is None and name == "pain_next_morning":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
                raise ValueError(
                    f"Session {name} must be a whole number from 0 to 10; got {value!r}."
                )
        if isinstance(self.minutes_done, bool) or not isinstance(self.minutes_done, int):
            raise ValueError(
                f"Session minutes_done must be a whole number; got {self.minutes_done!r}."
            )
        if self.minutes_done < 0:
            raise ValueError(f"Session minutes_done cannot be negative; got {self.minutes_done}.")
        if self.swelling not in SWELLING:
            raise ValueError(
                f"Session swelling must be one of {', '.join(SWELLING)}; got {self.swelling!r}."
            )


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    outcome: str  # the outcome tier this reason argues for

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text, "outcome": self.outcome}


@dataclass(frozen=True)
class Decision:
    outcome: str
    from_level: int
    to_level: int
    reasons: tuple[Reason, ...]
    alert: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "from_level": self.from_level,
            "to_level": self.to_level,
            "alert": self.alert,
            "reasons": [r.to_dict() for r in self.reasons],
        }
