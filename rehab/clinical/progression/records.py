"""The progression vocabulary (outcomes, reason codes) and what goes in and out of `evaluate`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rehab.clinical.levels import SETTINGS

OUTCOMES = ("advance", "hold", "regress", "pause")  # least to most severe
SWELLING = ("none", "same", "more")
ADVERSE_EVENTS = ("fall", "near_fall", "dizziness", "chest_pain")

ADVANCE, HOLD, REGRESS, PAUSE = OUTCOMES

# Every reason the engine can give, by the outcome it argues for. Their words, for the clinician
# and for the patient, are in rehab.wording (a test holds the two lists together).
REASON_CODES: tuple[str, ...] = (
    # pause
    "fall",
    "chest_pain",
    "severe_pain",
    # regress
    "worst_pain_high",
    "pain_not_settled",
    "effort_high",
    # hold
    "near_fall",
    "dizziness",
    "setting_not_allowed",
    "beyond_limits",
    "lowest_level",
    "too_few_sessions",
    "low_adherence",
    "swelling_more",
    "hold_progression",
    "min_days",
    "top_level",
    "next_level_capped",
    "step_limit",
    "worst_pain_above_advance",
    "next_morning_unknown",
    "median_effort_high",
    "minutes_short",
    # advance
    "criteria_met",
)


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
    # When the session was recorded, and when its next-morning pain was; None when not known.
    # A safety signal recorded before the plan's last resume was before the clinician who
    # resumed it, and pauses the plan no more (rules.evaluate's `resumed_at`).
    logged_at: datetime | None = None
    next_morning_at: datetime | None = None

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
    # The days of the sessions a reason is about when each is an event of its own (a fall, a
    # near fall, dizziness, chest pain, a session outside the plan): the same code for a new
    # session is a new decision, which alerts for it. Empty for the others, whose words move
    # with the date while what they mean does not.
    days: tuple[date, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "text": self.text, "outcome": self.outcome}
        if self.days:
            data["days"] = [d.isoformat() for d in self.days]
        return data


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
