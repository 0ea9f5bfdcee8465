"""The shared vocabulary of the clinical rules: conditions, settings, levels and constraints.

Pure Python, no Django: screening produces `Constraints`, protocols are lists of `Level`,
progression and plans cap levels with `cap_level`. Figures come from ../shared/CLINICAL.md
(copied into docs/clinical.md); the default values here are [I] defaults a clinic can change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

# Condition codes (CLINICAL.md §1).
KNEE_OA = "knee_oa"
PATELLOFEMORAL_PAIN = "patellofemoral_pain"
ACL_RECONSTRUCTION = "acl_reconstruction"
TOTAL_KNEE_ARTHROPLASTY = "total_knee_arthroplasty"
CHRONIC_LOW_BACK_PAIN = "chronic_low_back_pain"

CONDITIONS: dict[str, str] = {
    KNEE_OA: "Knee osteoarthritis",
    PATELLOFEMORAL_PAIN: "Patellofemoral pain",
    ACL_RECONSTRUCTION: "After ACL reconstruction",
    TOTAL_KNEE_ARTHROPLASTY: "After total knee arthroplasty",
    CHRONIC_LOW_BACK_PAIN: "Chronic low-back pain",
}
KNEE_CONDITIONS = frozenset(
    {KNEE_OA, PATELLOFEMORAL_PAIN, ACL_RECONSTRUCTION, TOTAL_KNEE_ARTHROPLASTY}
)
POST_OP_CONDITIONS = frozenset({ACL_RECONSTRUCTION, TOTAL_KNEE_ARTHROPLASTY})
LOW_BACK_CONDITIONS = frozenset({CHRONIC_LOW_BACK_PAIN})

# Settings, from the most support to the least (CLINICAL.md §1). The order matters: capping a
# level to the allowed settings moves it towards more support, never less.
PARALLEL_BARS = "parallel_bars"
TREADMILL_BOTH_HANDRAILS = "treadmill_both_handrails"
TREADMILL_LIGHT_TOUCH = "treadmill_light_touch"
OVERGROUND = "overground"

SETTINGS: dict[str, str] = {
    PARALLEL_BARS: "Parallel bars",
    TREADMILL_BOTH_HANDRAILS: "Treadmill, holding both handrails",
    TREADMILL_LIGHT_TOUCH: "Treadmill, one hand or light touch on the rail",
    OVERGROUND: "Overground, in a clear level space",
}
SETTINGS_BY_SUPPORT: tuple[str, ...] = tuple(SETTINGS)  # most support first
HANDRAIL_SETTINGS = frozenset({PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS})
TREADMILL_SETTINGS = frozenset({TREADMILL_BOTH_HANDRAILS, TREADMILL_LIGHT_TOUCH})


def support_rank(setting: str) -> int:
    """0 for the most supportive setting; larger numbers mean less support."""
    return SETTINGS_BY_SUPPORT.index(setting)


@dataclass(frozen=True)
class Interval:
    """A repeating backward/forward pattern within a session, in seconds."""

    backward_seconds: int
    forward_seconds: int

    def describe(self) -> str:
        return (
            f"alternate {_seconds_words(self.backward_seconds)} backward "
            f"with {_seconds_words(self.forward_seconds)} forward"
        )


def _seconds_words(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds} seconds"


@dataclass(frozen=True)
class Level:
    """One step of a protocol: what a session at this level prescribes.

    `speed_kmh` None means the patient's self-selected comfortable speed.
    `min_days` is the minimum number of days at this level before advancing.
    """

    name: str
    minutes: int
    sessions_per_week: int
    speed_kmh: float | None
    incline_pct: float
    setting: str
    min_days: int
    interval: Interval | None = None
    supervised: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "minutes": self.minutes,
            "sessions_per_week": self.sessions_per_week,
            "speed_kmh": self.speed_kmh,
            "incline_pct": self.incline_pct,
            "setting": self.setting,
            "min_days": self.min_days,
            "interval": (
                None
                if self.interval is None
                else {
                    "backward_seconds": self.interval.backward_seconds,
                    "forward_seconds": self.interval.forward_seconds,
                }
            ),
            "supervised": self.supervised,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Level:
        interval = data.get("interval")
        speed = data.get("speed_kmh")
        return cls(
            name=data["name"],
            minutes=int(data["minutes"]),
            sessions_per_week=int(data["sessions_per_week"]),
            speed_kmh=None if speed is None else float(speed),
            incline_pct=float(data.get("incline_pct") or 0),
            setting=data["setting"],
            min_days=int(data["min_days"]),
            interval=None if not interval else Interval(**interval),
            supervised=bool(data.get("supervised", False)),
            note=data.get("note", ""),
        )

    def describe(self) -> str:
        speed = (
            "at a comfortable speed" if self.speed_kmh is None else f"at {self.speed_kmh:g} km/h"
        )
        incline = "" if not self.incline_pct else f", {self.incline_pct:g} % incline"
        parts = [
            f"{self.minutes} min backward walking {speed}{incline}",
            SETTINGS[self.setting].lower(),
            f"{self.sessions_per_week} sessions a week",
        ]
        if self.interval:
            parts.append(self.interval.describe())
        if self.supervised:
            parts.append("supervised")
        return "; ".join(parts)


# A level's name says what it asks for ("Level 2: 10 min at 2.0 km/h, both rails"), so these are
# short: the full setting names are in SETTINGS.
_NAME_SETTING_WORDS = {
    PARALLEL_BARS: "parallel bars",
    TREADMILL_BOTH_HANDRAILS: "both rails",
    TREADMILL_LIGHT_TOUCH: "light rail touch",
    OVERGROUND: "overground",
}


def _name_speed(speed_kmh: float) -> str:
    # One decimal as the built-in names have always shown it ("2.0"), more only when a cap
    # needs it ("1.25"), so a name never rounds its own figure.
    return f"{speed_kmh:.1f}" if round(speed_kmh, 1) == speed_kmh else f"{speed_kmh:g}"


def prescription_words(level: Any) -> str:
    """What a level asks for, as its name says it after "Level N: ": minutes, speed, incline,
    setting and intervals. Takes a Level or anything with those attributes."""
    speed = (
        "comfortable speed" if level.speed_kmh is None else f"{_name_speed(level.speed_kmh)} km/h"
    )
    parts = [f"{level.minutes} min at {speed}"]
    if level.incline_pct:
        parts.append(f"{level.incline_pct:g} % incline")
    parts.append(_NAME_SETTING_WORDS.get(level.setting, SETTINGS.get(level.setting, "").lower()))
    if level.interval:
        parts.append("intervals")
    return ", ".join(part for part in parts if part)


def level_name(label: str, level: Any) -> str:
    """A level's name built from its prescription: "Level 2: 10 min at 2.0 km/h, both rails"."""
    return f"{label}: {prescription_words(level)}"


def _capped_name(level: Level, capped: Level) -> str:
    """The capped level's name. A name built from the prescription (every built-in level's) is
    built again from the capped one, so "Level 2: 10 min at 2.0 km/h" capped at 1.5 km/h never
    reads 2.0; a name a clinician wrote in their own words is theirs and stays."""
    label, separator, words = level.name.partition(": ")
    if separator and words == prescription_words(level):
        return level_name(label, capped)
    return level.name


@dataclass(frozen=True)
class Constraints:
    """What a screening allows (CLINICAL.md §3, "Constraint fields").

    None on a cap means "no cap"; `allowed_settings` None means every setting.
    Merging takes the most restrictive of each field: booleans OR, caps MIN, settings intersect.
    """

    supervised_only: bool = False
    handrails_required: bool = False
    allowed_settings: frozenset[str] | None = None
    max_speed_kmh: float | None = None
    max_incline_pct: float | None = None
    hold_progression: bool = False
    bp_check_each_session: bool = False
    intensity_by_rpe: bool = False

    def merge(self, other: Constraints) -> Constraints:
        return Constraints(
            supervised_only=self.supervised_only or other.supervised_only,
            handrails_required=self.handrails_required or other.handrails_required,
            allowed_settings=_intersect(self.allowed_settings, other.allowed_settings),
            max_speed_kmh=_min(self.max_speed_kmh, other.max_speed_kmh),
            max_incline_pct=_min(self.max_incline_pct, other.max_incline_pct),
            hold_progression=self.hold_progression or other.hold_progression,
            bp_check_each_session=self.bp_check_each_session or other.bp_check_each_session,
            intensity_by_rpe=self.intensity_by_rpe or other.intensity_by_rpe,
        )

    def effective_settings(self) -> tuple[str, ...]:
        """The settings a level may use, most support first (never empty)."""
        allowed = set(
            SETTINGS_BY_SUPPORT if self.allowed_settings is None else self.allowed_settings
        )
        if self.handrails_required:
            allowed &= HANDRAIL_SETTINGS
        # An empty intersection cannot happen with the built-in rules; fall back to the most
        # supportive setting rather than to none at all.
        return tuple(s for s in SETTINGS_BY_SUPPORT if s in allowed) or (PARALLEL_BARS,)

    def describe(self) -> tuple[str, ...]:
        """Each constraint in words, for reports and pages."""
        words = []
        if self.supervised_only:
            words.append("Supervised sessions only")
        if self.handrails_required:
            words.append("Hold the handrails (parallel bars or treadmill with both rails)")
        if self.allowed_settings is not None:
            names = [SETTINGS[s].lower() for s in SETTINGS_BY_SUPPORT if s in self.allowed_settings]
            words.append("Settings allowed: " + ", ".join(names))
        if self.max_speed_kmh is not None:
            words.append(f"At most {self.max_speed_kmh:g} km/h")
        if self.max_incline_pct is not None:
            words.append(f"Incline at most {self.max_incline_pct:g} %")
        if self.hold_progression:
            words.append("Hold progression until the clinician lifts it")
        if self.bp_check_each_session:
            words.append("Blood pressure check before each session")
        if self.intensity_by_rpe:
            words.append("Effort guided by perceived exertion (RPE), not heart rate")
        return tuple(words)

    def is_empty(self) -> bool:
        return self == Constraints()

    def to_dict(self) -> dict[str, Any]:
        """Only the fields that restrict anything, in CLINICAL.md's names."""
        out: dict[str, Any] = {}
        for name in (
            "supervised_only",
            "handrails_required",
            "hold_progression",
            "bp_check_each_session",
            "intensity_by_rpe",
        ):
            if getattr(self, name):
                out[name] = True
        if self.allowed_settings is not None:
            out["allowed_settings"] = [s for s in SETTINGS_BY_SUPPORT if s in self.allowed_settings]
        if self.max_speed_kmh is not None:
            out["max_speed_kmh"] = self.max_speed_kmh
        if self.max_incline_pct is not None:
            out["max_incline_pct"] = self.max_incline_pct
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Constraints:
        data = data or {}
        allowed = data.get("allowed_settings")
        speed = data.get("max_speed_kmh")
        incline = data.get("max_incline_pct")
        return cls(
            supervised_only=bool(data.get("supervised_only", False)),
            handrails_required=bool(data.get("handrails_required", False)),
            allowed_settings=None if allowed is None else frozenset(allowed),
            max_speed_kmh=None if speed is None else float(speed),
            max_incline_pct=None if incline is None else float(incline),
            hold_progression=bool(data.get("hold_progression", False)),
            bp_check_each_session=bool(data.get("bp_check_each_session", False)),
            intensity_by_rpe=bool(data.get("intensity_by_rpe", False)),
        )


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _intersect(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


@dataclass(frozen=True)
class CappedLevel:
    """A level as prescribed under constraints, with each cap said in words."""

    level: Level
    caps: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_capped(self) -> bool:
        return bool(self.caps)


def cap_level(level: Level, constraints: Constraints) -> CappedLevel:
    """Bring a level within the constraints; every change is named in `caps`.

    Speed: a comfortable (unspecified) speed under a speed cap becomes the cap itself, so the
    prescription always states a number the patient must not exceed.
    Setting: a setting that is not allowed moves to the least supportive allowed setting that
    still gives at least as much support; if none gives as much, the least supportive allowed.
    """
    caps: list[str] = []
    changes: dict[str, Any] = {}

    if constraints.max_speed_kmh is not None:
        cap = constraints.max_speed_kmh
        if level.speed_kmh is None:
            changes["speed_kmh"] = cap
            caps.append(f"speed capped at {cap:g} km/h (was comfortable speed)")
        elif level.speed_kmh > cap:
            changes["speed_kmh"] = cap
            caps.append(f"speed capped at {cap:g} km/h (was {level.speed_kmh:g} km/h)")

    if constraints.max_incline_pct is not None and level.incline_pct > constraints.max_incline_pct:
        changes["incline_pct"] = constraints.max_incline_pct
        caps.append(
            f"incline capped at {constraints.max_incline_pct:g} % (was {level.incline_pct:g} %)"
        )

    allowed = constraints.effective_settings()
    if level.setting not in allowed:
        rank = support_rank(level.setting)
        at_least_as_supportive = [s for s in allowed if support_rank(s) <= rank]
        new_setting = at_least_as_supportive[-1] if at_least_as_supportive else allowed[-1]
        changes["setting"] = new_setting
        caps.append(
            f"setting changed to {SETTINGS[new_setting].lower()} "
            f"(was {SETTINGS[level.setting].lower()})"
        )
        if level.interval is not None and new_setting != OVERGROUND:
            # Turning round to walk forward is safe on open floor, not on a moving belt or
            # between bars: the pattern goes, the minutes stay.
            changes["interval"] = None
            caps.append("forward/backward intervals dropped in this setting")

    if constraints.supervised_only and not level.supervised:
        changes["supervised"] = True
        caps.append("supervised sessions only")

    capped = replace(level, **changes)
    return CappedLevel(level=replace(capped, name=_capped_name(level, capped)), caps=tuple(caps))


def prescribed_name(level: dict[str, Any], constraints: dict[str, Any] | None) -> str:
    """The name a stored level (a plan's snapshot) goes by under stored constraints: capped,
    like every figure a page shows. A row that does not parse keeps its stored name."""
    try:
        parsed = Level.from_dict(level)
    except (KeyError, TypeError, ValueError):
        return str(level.get("name") or "")
    return cap_level(parsed, Constraints.from_dict(constraints)).level.name


def loggable_settings(level: Level, constraints: Constraints) -> tuple[str, ...]:
    """The settings a session at this level may be done in, most support first (never empty).

    Those the constraints allow that give at least as much support as the level prescribes once
    capped: holding on more than the plan asks is safe, holding on less skips the step that
    takes support away (§1: a step changes one thing, the setting one notch less support), and
    a setting the screening forbids (overground under fall-risk constraints) is never offered.
    """
    prescribed = support_rank(cap_level(level, constraints).level.setting)
    return tuple(s for s in constraints.effective_settings() if support_rank(s) <= prescribed)


def exceeds(level: Level, constraints: Constraints) -> bool:
    """True when the level as written asks for more than the constraints allow."""
    return cap_level(level, constraints).is_capped


def within(level: Level, constraints: Constraints) -> bool:
    """True when a (capped) level prescribes nothing beyond the constraints."""
    if constraints.max_speed_kmh is not None and (
        level.speed_kmh is None or level.speed_kmh > constraints.max_speed_kmh
    ):
        return False
    if constraints.max_incline_pct is not None and level.incline_pct > constraints.max_incline_pct:
        return False
    if level.setting not in constraints.effective_settings():
        return False
    return not (constraints.supervised_only and not level.supervised)
