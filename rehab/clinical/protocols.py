"""The built-in protocol library as data (docs/clinical.md §1) and the patient safety
instructions shown with every level (§2).

Pure Python, no Django: a loader copies `LIBRARY` into the database, where a clinic may copy and
edit a protocol. Every figure tagged [I] in clinical.md is a default here, not a rule: the levels
are plain data a clinician can change. The one rule that lives here is `step_problems`, the
"one step changes one thing" check of §1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rehab.clinical.levels import (
    ACL_RECONSTRUCTION,
    CHRONIC_LOW_BACK_PAIN,
    CONDITIONS,
    KNEE_OA,
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
    level_name,
    support_rank,
)

# --- citations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    key: str
    text: str
    supports: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


# Reference texts are exactly as clinical.md gives them: nothing is added that the document does
# not state (no DOIs, URLs or guessed author initials).
ALGHADIR_2019 = Citation(
    "alghadir2019",
    "Alghadir AH et al. 2019, BMC Musculoskelet Disord 20:159",
    "In knee osteoarthritis, 10 min of supervised backward walking added to usual care 3 times a "
    "week for 6 weeks lowered pain (NRS -1.8 vs -1.0) and WOMAC (-4.8 vs -2.2) more than usual "
    "care alone.",
)
LIN_2025 = Citation(
    "lin2025",
    "Lin 2025, meta-analysis, Physiother Theory Pract",
    "Across trials the dose is 10-30 min a session, about 3 sessions a week for 3-6 weeks at a "
    "comfortable speed; in knee osteoarthritis effects were larger at comfortable speed and on a "
    "treadmill.",
)
JOSR_TRIAL_PROTOCOL = Citation(
    "josr_18_264",
    "Trial protocol, J Orthop Surg Res 18:264",
    "In knee osteoarthritis, backward walking is dosed up to 30 min, 3 times a week for 6 weeks.",
)
PARK_2022 = Citation(
    "park2022",
    "Park 2022",
    "Healthy-adult speed anchors for backward walking: 2.0-2.5 km/h in week 1, then +0.5 km/h a "
    "week.",
)
CHA_2016 = Citation(
    "cha2016",
    "Cha 2016, J Phys Ther Sci 28:1901",
    "Backward walking at 3 km/h on a 10 % slope is an established healthy-adult dose.",
)
HEATH_2001 = Citation(
    "heath2001",
    "Heath 2001, Phys Ther Sport 2:171",
    "Backward walking costs more effort than forward walking at the same speed, and practice "
    "lowers heart rate and effort, so levels start slower than forward speed and progress as "
    "effort falls.",
)
DELAWARE_RETURN_TO_RUN = Citation(
    "delaware_return_to_run",
    "University of Delaware return-to-run rules",
    "Progression by single steps, at most 2 steps in 7 days, with sessions not on back-to-back "
    "days beyond 4 a week.",
)
ROOS_2012 = Citation(
    "roos2012",
    "Roos 2012, J Biomech 45:1656",
    "Backward running loads the patellofemoral joint less than forward running at the same "
    "speed (3.4 vs 4.5 x body weight), and at slow speed the difference vanishes.",
)
DELAWARE_ACLR = Citation(
    "delaware_aclr",
    "University of Delaware ACL reconstruction rehabilitation guideline",
    "Entry milestones: full weight bearing without crutches, full knee extension, no extensor lag "
    "on straight-leg raise, normal forward gait and effusion trace or 1+.",
)
OZDEN_2024 = Citation(
    "ozden2024",
    "Ozden 2024, J Orthop 54:86",
    "The 3-m backward walk test tracks balance after total knee arthroplasty.",
)
MCCLELLAND_2012 = Citation(
    "mcclelland2012",
    "McClelland 2012, JOSPT 42:135",
    "Forward treadmill walking speed after total knee arthroplasty rises from about 3.5 to "
    "4.4 km/h, a benchmark for readiness and for keeping backward speed below forward speed.",
)
DUFEK_2011 = Citation(
    "dufek2011",
    "Dufek 2011, JEPonline 14(2):17",
    "In chronic low-back pain, backward walking 10-15 min 3 times a week for 3 weeks.",
)
AHMAD_2023 = Citation(
    "ahmad2023",
    "Ahmad 2023, Physiother Q 31(3):86",
    "Randomised trial (n=31) in chronic low-back pain: 15 min at comfortable speed 3 times a week "
    "for 3 weeks.",
)
J_CHIROPR_MED_2018 = Citation(
    "jchiroprmed2018",
    "J Chiropr Med 2018;17:217",
    "Backward treadmill walking raises multifidus and erector spinae activity.",
)
WHITLEY_DUFEK_2011 = Citation(
    "whitley_dufek2011",
    "Whitley & Dufek 2011, Int J Exerc Sci 4(3)",
    "Backward walking improves hamstring flexibility.",
)
PATIENT_ARTICLES = Citation(
    "patient_articles",
    "Patient-facing articles on backward walking (docs/clinical.md §1-2)",
    "Start very slowly, about 15 min a day for back pain, and mix forward and backward intervals.",
)

# --- safety instructions (§2) --------------------------------------------------------------------

_ALL = "all"
_TREADMILL = "treadmill"
_OVERGROUND_KIND = "overground"
APPLIES_TO = (_ALL, _TREADMILL, _OVERGROUND_KIND)


@dataclass(frozen=True)
class SafetyInstruction:
    code: str
    text: str
    applies_to: str  # "all" | "treadmill" | "overground"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


SAFETY_INSTRUCTIONS: tuple[SafetyInstruction, ...] = (
    SafetyInstruction(
        "clear_space", "Walk backward only in a clear, level space with a smooth floor.", _ALL
    ),
    SafetyInstruction(
        "nothing_behind", "Check that there is no furniture, mat, toy or pet behind you.", _ALL
    ),
    SafetyInstruction("shoes", "Wear supportive shoes that hold your ankle.", _ALL),
    SafetyInstruction("start_slowly", "Start slowly and build up a little at a time.", _ALL),
    SafetyInstruction("look_ahead", "Look straight ahead.", _ALL),
    SafetyInstruction("relax_shoulders", "Keep your shoulders relaxed.", _ALL),
    SafetyInstruction(
        "stop_and_log",
        "Stop and log it if you fall, nearly fall, feel dizzy or have chest pain.",
        _ALL,
    ),
    SafetyInstruction(
        "outdoors", "Outdoors, watch for people, animals and potholes.", _OVERGROUND_KIND
    ),
    SafetyInstruction(
        "hold_handrails",
        "Hold the handrails: both hands at first, one hand or a light touch only when your plan "
        "says so.",
        _TREADMILL,
    ),
    SafetyInstruction(
        "safety_key", "Clip on the treadmill's safety key before you start.", _TREADMILL
    ),
    SafetyInstruction(
        "start_speed", "Start the belt at about 1.6 km/h (1 mph) and speed up slowly.", _TREADMILL
    ),
    SafetyInstruction(
        "slow_down", "Slow the belt down the moment you feel out of control.", _TREADMILL
    ),
)


def safety_for(level: Level) -> tuple[SafetyInstruction, ...]:
    """The instructions to show with a level: the general ones plus those of its setting kind.

    Parallel bars get only the general ones: they are neither a belt nor open ground.
    """
    kind = _setting_kind(level.setting)
    return tuple(s for s in SAFETY_INSTRUCTIONS if s.applies_to in (_ALL, kind))


def _setting_kind(setting: str) -> str:
    if setting in TREADMILL_SETTINGS:
        return _TREADMILL
    if setting == OVERGROUND:
        return _OVERGROUND_KIND
    return _ALL


# The one line a reminder has room for: what matters most where the session is done. On a
# belt, holding on; on open ground, a clear space; between the bars (a clinic's, usually with a
# therapist), starting slowly.
_HEADLINE_SAFETY = {
    _TREADMILL: "hold_handrails",
    _OVERGROUND_KIND: "clear_space",
    _ALL: "start_slowly",
}


def headline_safety(level: Level) -> SafetyInstruction:
    """The safety instruction to carry alone (a reminder): the first that matters in the
    level's setting, one of `safety_for(level)`."""
    code = _HEADLINE_SAFETY[_setting_kind(level.setting)]
    return next(s for s in SAFETY_INSTRUCTIONS if s.code == code)


# --- protocols -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolDef:
    code: str
    condition: str
    name: str
    summary: str
    levels: tuple[Level, ...]
    citations: tuple[Citation, ...]
    retest_weeks: int | None
    outcome_measures: tuple[str, ...]
    # Keys are rehab.clinical.progression.ProgressionSettings fields. Excluded from hashing so
    # the frozen dataclass stays hashable.
    progression: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "condition": self.condition,
            "name": self.name,
            "summary": self.summary,
            "levels": [level.to_dict() for level in self.levels],
            "citations": [c.to_dict() for c in self.citations],
            "retest_weeks": self.retest_weeks,
            "outcome_measures": list(self.outcome_measures),
            "progression": dict(self.progression),
        }


@dataclass(frozen=True)
class _Row:
    minutes: int
    speed_kmh: float | None
    setting: str
    min_days: int
    incline_pct: float = 0
    interval: Interval | None = None
    supervised: bool = False
    note: str = ""


def _levels(sessions_per_week: int, *rows: _Row) -> tuple[Level, ...]:
    return tuple(
        Level(
            name=level_name(f"Level {number}", row),
            minutes=row.minutes,
            sessions_per_week=sessions_per_week,
            speed_kmh=row.speed_kmh,
            incline_pct=row.incline_pct,
            setting=row.setting,
            min_days=row.min_days,
            interval=row.interval,
            supervised=row.supervised,
            note=row.note,
        )
        for number, row in enumerate(rows, start=1)
    )


_BOTH = TREADMILL_BOTH_HANDRAILS
_LIGHT = TREADMILL_LIGHT_TOUCH
_COMFORTABLE = None

_COMFORTABLE_NOTE = (
    "Comfortable speed: a steady pace you can keep up, slower than your forward walking."
)
_INCLINE_RESET_NOTE = (
    "Overground is a level space, so the treadmill incline is left behind at this step."
)

KNEE_OA_PROTOCOL = ProtocolDef(
    code="knee_oa_retro_6wk",
    condition=KNEE_OA,
    name="Knee osteoarthritis: backward walking, 6 weeks",
    summary=(
        "Backward walking 3 times a week on top of usual physiotherapy, from 10 min at 1.5 km/h "
        "holding both treadmill rails to 25-30 min at a comfortable speed, over about 6 weeks. "
        "In a randomised trial, 10 min of supervised backward walking added to usual care for "
        "6 weeks lowered knee pain and WOMAC more than usual care alone; a meta-analysis found "
        "larger effects at comfortable speed and on a treadmill. Outcomes are retested at "
        "week 6."
    ),
    levels=_levels(
        3,
        _Row(10, 1.5, _BOTH, 7, note="Getting used to walking backward, both hands on the rails."),
        _Row(10, 2.0, _BOTH, 7),
        _Row(15, 2.0, _BOTH, 4),
        _Row(15, 2.0, _LIGHT, 3, note="One hand or a light touch on the rail."),
        _Row(15, 2.5, _LIGHT, 4),
        _Row(20, 2.5, _LIGHT, 3),
        _Row(20, _COMFORTABLE, _LIGHT, 4, note=_COMFORTABLE_NOTE),
        _Row(25, _COMFORTABLE, _LIGHT, 3),
        _Row(
            25,
            _COMFORTABLE,
            _LIGHT,
            4,
            incline_pct=5,
            note="Optional: a clinician may skip this level; the next level follows either way.",
        ),
        _Row(
            25,
            _COMFORTABLE,
            OVERGROUND,
            3,
            note="No rail: a clear corridor. " + _INCLINE_RESET_NOTE,
        ),
        _Row(
            30, _COMFORTABLE, OVERGROUND, 7, note="Keep this level up; retest outcomes at week 6."
        ),
    ),
    citations=(
        ALGHADIR_2019,
        LIN_2025,
        JOSR_TRIAL_PROTOCOL,
        PARK_2022,
        HEATH_2001,
        DELAWARE_RETURN_TO_RUN,
    ),
    retest_weeks=6,
    outcome_measures=("koos", "nprs"),
)

PATELLOFEMORAL_PROTOCOL = ProtocolDef(
    code="patellofemoral_retro_6wk",
    condition=PATELLOFEMORAL_PAIN,
    name="Patellofemoral pain: inclined backward treadmill walking, 6 weeks",
    summary=(
        "Backward treadmill walking 3 times a week: 10-15 min at a slow 2.0-2.5 km/h in weeks "
        "1-2, then 20 min at a comfortable speed with the incline rising from 0 to 10 % over "
        "weeks 3-6. Backward running loads the kneecap joint less than forward running at the "
        "same speed, and slow speed protects it; inclined backward treadmill walking 20 min "
        "3 times a week for 6 weeks is a published dose."
    ),
    levels=_levels(
        3,
        _Row(10, 2.0, _BOTH, 4, note="Slow speed keeps the load on the kneecap joint low."),
        _Row(10, 2.0, _LIGHT, 3, note="One hand or a light touch on the rail."),
        _Row(15, 2.0, _LIGHT, 4),
        _Row(15, 2.5, _LIGHT, 3),
        _Row(20, 2.5, _LIGHT, 4),
        _Row(20, _COMFORTABLE, _LIGHT, 3, note=_COMFORTABLE_NOTE),
        _Row(20, _COMFORTABLE, _LIGHT, 7, incline_pct=3),
        _Row(20, _COMFORTABLE, _LIGHT, 7, incline_pct=6),
        _Row(
            20, _COMFORTABLE, _LIGHT, 7, incline_pct=10, note="The full dose: keep this level up."
        ),
    ),
    citations=(ROOS_2012, CHA_2016, LIN_2025, PARK_2022, HEATH_2001, DELAWARE_RETURN_TO_RUN),
    # §1 gives no retest week for this condition; §5's schedule (every 2 weeks, discharge) applies.
    retest_weeks=None,
    outcome_measures=("koos", "nprs"),
)

ACL_PROTOCOL = ProtocolDef(
    code="acl_reconstruction_retro",
    condition=ACL_RECONSTRUCTION,
    name="After ACL reconstruction: backward walking, weeks 4-12",
    summary=(
        "Level A (about week 4-6 after surgery, once the entry milestones are met): 5-10 min at "
        "1.0-2.0 km/h holding both treadmill rails, 3 times a week. Level B (weeks 6-12): "
        "10-20 min at a comfortable speed, the incline rising to 10 %, then overground. There is "
        "no backward-walking trial after ACL reconstruction: the entry milestones follow the "
        "University of Delaware guideline and the doses are defaults for the clinician to adjust."
    ),
    levels=_levels(
        3,
        _Row(
            5,
            1.0,
            _BOTH,
            4,
            note="Level A: start only once the screening's post-operative milestones are met.",
        ),
        _Row(5, 1.5, _BOTH, 3),
        _Row(10, 1.5, _BOTH, 4),
        _Row(10, 2.0, _BOTH, 3),
        _Row(10, _COMFORTABLE, _BOTH, 4, note="Level B. " + _COMFORTABLE_NOTE),
        _Row(15, _COMFORTABLE, _BOTH, 3),
        _Row(20, _COMFORTABLE, _BOTH, 4),
        _Row(20, _COMFORTABLE, _LIGHT, 3, note="One hand or a light touch on the rail."),
        _Row(20, _COMFORTABLE, _LIGHT, 7, incline_pct=5),
        _Row(20, _COMFORTABLE, _LIGHT, 7, incline_pct=10),
        _Row(20, _COMFORTABLE, OVERGROUND, 7, note="No rail. " + _INCLINE_RESET_NOTE),
    ),
    citations=(DELAWARE_ACLR, CHA_2016, PARK_2022, HEATH_2001, DELAWARE_RETURN_TO_RUN),
    retest_weeks=None,
    outcome_measures=("koos", "nprs"),
)

_TKA_PACE_NOTE = "2.5 km/h is about 7 metres in 10 seconds."

TKA_PROTOCOL = ProtocolDef(
    code="tka_retro",
    condition=TOTAL_KNEE_ARTHROPLASTY,
    name="After total knee arthroplasty: backward walking, weeks 6-12",
    summary=(
        "Level A (about week 6, once walking forward at about 3.5 km/h): 5 min at 0.5-1.5 km/h "
        "in the parallel bars, then on a treadmill holding both rails, supervised, 3 times a "
        "week. Level B (weeks 8-12): 10-15 min up to 2.5 km/h, one hand on the rail, then no "
        "rail. There is no backward-walking trial after knee replacement; the 3-m backward walk "
        "test tracks balance and forward treadmill speed (3.5 to 4.4 km/h) is the benchmark."
    ),
    levels=_levels(
        3,
        _Row(5, 0.5, PARALLEL_BARS, 7, supervised=True, note="Level A, with a therapist."),
        _Row(5, 1.0, PARALLEL_BARS, 7, supervised=True),
        _Row(5, 1.0, _BOTH, 4, supervised=True),
        _Row(5, 1.5, _BOTH, 3, supervised=True),
        _Row(10, 1.5, _BOTH, 4, supervised=True, note="Level B."),
        _Row(
            10,
            1.5,
            _LIGHT,
            3,
            note="One hand on the rail; supervision ends here, while a rail is still in reach.",
        ),
        _Row(10, 2.0, _LIGHT, 4),
        _Row(15, 2.0, _LIGHT, 3),
        _Row(15, 2.5, _LIGHT, 4),
        _Row(15, 2.5, OVERGROUND, 7, note="No rail: a clear corridor. " + _TKA_PACE_NOTE),
    ),
    citations=(OZDEN_2024, MCCLELLAND_2012, HEATH_2001, DELAWARE_RETURN_TO_RUN),
    retest_weeks=None,
    outcome_measures=("koos", "nprs"),
)

_LBP_SPEED_NOTE = (
    "Your comfortable speed may creep up as it gets easier, by no more than about 0.5 km/h a week."
)

LOW_BACK_PROTOCOL = ProtocolDef(
    code="low_back_retro_6wk",
    condition=CHRONIC_LOW_BACK_PAIN,
    name="Chronic low-back pain: backward walking, 6 weeks",
    summary=(
        "Backward walking on a flat floor at a comfortable speed 3 times a week, from 10-15 min "
        "of 1 min backward / 1 min forward intervals to 30 min of continuous backward walking "
        "over about 6 weeks. Trials used 10-15 min 3 times a week for 3 weeks, and 10 rising to "
        "30 min over 6 weeks on a flat surface; backward walking activates the back extensors "
        "and improves hamstring flexibility. Outcomes are retested at week 6."
    ),
    levels=_levels(
        3,
        # Intervals only overground: turning round on a moving belt is not safe.
        _Row(
            10,
            _COMFORTABLE,
            OVERGROUND,
            4,
            interval=Interval(60, 60),
            note="A flat floor; forward minutes between backward ones make the start easier.",
        ),
        _Row(15, _COMFORTABLE, OVERGROUND, 3, interval=Interval(60, 60)),
        _Row(15, _COMFORTABLE, OVERGROUND, 7, note="All backward now, no forward breaks."),
        _Row(20, _COMFORTABLE, OVERGROUND, 14, note=_LBP_SPEED_NOTE),
        _Row(25, _COMFORTABLE, OVERGROUND, 7, note=_LBP_SPEED_NOTE),
        _Row(
            30, _COMFORTABLE, OVERGROUND, 7, note="Keep this level up; retest outcomes at week 6."
        ),
    ),
    citations=(
        DUFEK_2011,
        AHMAD_2023,
        J_CHIROPR_MED_2018,
        WHITLEY_DUFEK_2011,
        LIN_2025,
        PATIENT_ARTICLES,
        HEATH_2001,
        DELAWARE_RETURN_TO_RUN,
    ),
    retest_weeks=6,
    outcome_measures=("rmdq", "nprs"),
)

LIBRARY: tuple[ProtocolDef, ...] = (
    KNEE_OA_PROTOCOL,
    PATELLOFEMORAL_PROTOCOL,
    ACL_PROTOCOL,
    TKA_PROTOCOL,
    LOW_BACK_PROTOCOL,
)
_BY_CODE = {p.code: p for p in LIBRARY}


def get(code: str) -> ProtocolDef:
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"Unknown protocol code: {code!r}") from None


def for_condition(condition: str) -> tuple[ProtocolDef, ...]:
    """The built-in protocols for a condition; a KeyError for a code that is not a condition."""
    if condition not in CONDITIONS:
        raise KeyError(f"Unknown condition code: {condition!r}")
    return tuple(p for p in LIBRARY if p.condition == condition)


# --- the step rule (§1) --------------------------------------------------------------------------

# [I] step sizes of §1 ("+5 min, or +0.5 km/h, or +2-5 % incline"), as bounds of one step.
MAX_MINUTES_STEP = 5
MIN_SPEED_STEP_KMH = 0.1
MAX_SPEED_STEP_KMH = 0.5
MIN_INCLINE_STEP_PCT = 2.0
MAX_INCLINE_STEP_PCT = 5.0

# Levels are written to one decimal; rounding keeps 2.0 -> 2.5 from reading as 0.50000001.
_EPS = 1e-9


def step_problems(a: Level, b: Level) -> list[str]:
    """Why `b` is not a single allowed step up from `a`, in plain words ([] if it is).

    One step changes exactly one of minutes, speed, incline and setting. Alongside it:
    - supervision may end, but only with a move to a less supportive setting;
    - the forward/backward interval may be added, changed or removed freely, and a step that
      changes only the interval is allowed (dropping the forward breaks is a real step up);
    - a move to overground may also bring the incline back to 0, because overground is a level
      space by definition (levels.SETTINGS) and the incline cannot come with it.
    """
    problems: list[str] = []
    changed: list[str] = []

    for level in (a, b):
        if level.setting not in SETTINGS:
            problems.append(f"unknown setting {level.setting!r}")
    if problems:
        return problems

    if b.sessions_per_week != a.sessions_per_week:
        problems.append(
            f"sessions per week change ({a.sessions_per_week} -> {b.sessions_per_week}); "
            "they stay the same within a protocol"
        )

    minutes = b.minutes - a.minutes
    if minutes < 0:
        problems.append(f"minutes go down ({a.minutes} -> {b.minutes})")
    elif minutes > MAX_MINUTES_STEP:
        problems.append(f"minutes rise by {minutes} (at most {MAX_MINUTES_STEP} in one step)")
    if minutes:
        changed.append("minutes")

    if a.speed_kmh is None and b.speed_kmh is not None:
        problems.append(
            f"speed goes from comfortable to a set {b.speed_kmh:g} km/h; "
            "a step may only go from a set speed to comfortable"
        )
        changed.append("speed")
    elif a.speed_kmh is not None and b.speed_kmh is None:
        changed.append("speed")
    elif a.speed_kmh is not None and b.speed_kmh is not None:
        speed = round(b.speed_kmh - a.speed_kmh, 3)
        if speed < 0:
            problems.append(f"speed goes down ({a.speed_kmh:g} -> {b.speed_kmh:g} km/h)")
        elif 0 < speed < MIN_SPEED_STEP_KMH - _EPS:
            problems.append(
                f"speed rises by only {speed:g} km/h (at least {MIN_SPEED_STEP_KMH:g} km/h)"
            )
        elif speed > MAX_SPEED_STEP_KMH + _EPS:
            problems.append(
                f"speed rises by {speed:g} km/h (at most {MAX_SPEED_STEP_KMH:g} km/h in one step)"
            )
        if speed:
            changed.append("speed")

    moves_overground = b.setting == OVERGROUND and a.setting != OVERGROUND
    if b.setting == OVERGROUND and b.incline_pct:
        problems.append(f"{b.incline_pct:g} % incline overground, which is a level space")
    incline = round(b.incline_pct - a.incline_pct, 3)
    incline_reset = moves_overground and incline < 0 and not b.incline_pct
    if incline < 0 and not incline_reset:
        problems.append(f"incline goes down ({a.incline_pct:g} -> {b.incline_pct:g} %)")
    elif 0 < incline < MIN_INCLINE_STEP_PCT - _EPS:
        problems.append(
            f"incline rises by only {incline:g} % (at least {MIN_INCLINE_STEP_PCT:g} %)"
        )
    elif incline > MAX_INCLINE_STEP_PCT + _EPS:
        problems.append(
            f"incline rises by {incline:g} % (at most {MAX_INCLINE_STEP_PCT:g} % in one step)"
        )
    if incline and not incline_reset:
        changed.append("incline")

    setting = support_rank(b.setting) - support_rank(a.setting)
    if setting < 0:
        problems.append(
            f"setting moves to more support ({SETTINGS[a.setting].lower()} -> "
            f"{SETTINGS[b.setting].lower()})"
        )
    if setting:
        changed.append("setting")

    if a.supervised and not b.supervised and setting <= 0:
        problems.append("supervision ends without a move to a less supportive setting")
    elif b.supervised and not a.supervised:
        problems.append("supervision is added; a step up never adds support")

    if len(changed) > 1:
        problems.append(
            f"{len(changed)} things change at once ({', '.join(changed)}); one step changes one"
        )
    elif not changed and a.interval == b.interval and not problems:
        problems.append("nothing changes")
    return problems
