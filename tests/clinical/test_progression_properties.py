"""Properties of the §4 rules over simulated plans: whatever the logs, the plan stays safe."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from rehab.clinical.levels import (
    OVERGROUND,
    PARALLEL_BARS,
    SETTINGS,
    TREADMILL_BOTH_HANDRAILS,
    TREADMILL_LIGHT_TOUCH,
    Constraints,
    Level,
    cap_level,
    loggable_settings,
)
from rehab.clinical.progression import (
    OUTCOMES,
    REASON_CODES,
    Decision,
    ProgressionSettings,
    SessionRecord,
    evaluate,
)

START = date(2025, 1, 6)
MAX_DAYS = 42

# Low scores are weighted in so that plans actually advance and the advance rules get exercised.
pain = st.one_of(st.integers(0, 3), st.integers(0, 10))
effort = st.one_of(st.integers(2, 4), st.integers(0, 10))
rare = st.integers(0, 14).map(lambda n: n == 0)


@dataclass(frozen=True)
class DayLog:
    """A session without its day; `minutes_done` None means the level's full target."""

    minutes_done: int | None
    pain_before: int
    pain_worst: int
    pain_after: int
    pain_next_morning: int | None
    effort: int
    swelling: str
    fall: bool
    near_fall: bool
    dizziness: bool
    chest_pain: bool
    setting: str | None = None  # None: the level's own setting (what the portal prefills)
    speed_kmh: float | None = None  # None: not told

    def record(self, day: date, level: Level) -> SessionRecord:
        minutes = level.minutes if self.minutes_done is None else self.minutes_done
        return SessionRecord(
            day=day,
            minutes_done=minutes,
            pain_before=self.pain_before,
            pain_worst=self.pain_worst,
            pain_after=self.pain_after,
            pain_next_morning=self.pain_next_morning,
            effort=self.effort,
            swelling=self.swelling,
            fall=self.fall,
            near_fall=self.near_fall,
            dizziness=self.dizziness,
            chest_pain=self.chest_pain,
            setting=level.setting if self.setting is None else self.setting,
            speed_kmh=self.speed_kmh,
        )


any_logs = st.builds(
    DayLog,
    minutes_done=st.one_of(st.none(), st.integers(0, 40)),
    pain_before=pain,
    pain_worst=pain,
    pain_after=pain,
    pain_next_morning=st.one_of(st.none(), pain),
    effort=effort,
    swelling=st.sampled_from(("none", "none", "none", "same", "more")),
    fall=rare,
    near_fall=rare,
    dizziness=rare,
    chest_pain=rare,
    # Mostly the level's own setting; now and then any setting, as a clinic system may record.
    setting=st.one_of(st.none(), st.none(), st.none(), st.sampled_from(list(SETTINGS))),
    # Mostly not told; now and then any speed, at times beyond a constraint's cap.
    speed_kmh=st.one_of(st.none(), st.none(), st.none(), st.sampled_from((1.0, 1.5, 2.0, 3.5))),
)


@st.composite
def good_logs(draw) -> DayLog:
    """A session that meets the advance criteria, so simulated plans do climb the ladder."""
    before = draw(st.integers(0, 3))
    return DayLog(
        minutes_done=None,
        pain_before=before,
        pain_worst=draw(st.integers(before, 5)),
        pain_after=draw(st.integers(0, 5)),
        pain_next_morning=draw(st.integers(0, before)),
        effort=draw(st.integers(1, 4)),
        swelling=draw(st.sampled_from(("none", "same"))),
        fall=False,
        near_fall=False,
        dizziness=False,
        chest_pain=False,
    )


day_logs = st.one_of(good_logs(), good_logs(), good_logs(), good_logs(), any_logs)


@st.composite
def ladders(draw) -> tuple[Level, ...]:
    specs = (
        (10, 1.5, 0.0, TREADMILL_BOTH_HANDRAILS),
        (15, 2.0, 0.0, TREADMILL_BOTH_HANDRAILS),
        (20, 2.5, 0.0, TREADMILL_LIGHT_TOUCH),
        (20, None, 5.0, OVERGROUND),
    )
    count = draw(st.one_of(st.just(4), st.integers(1, 4)))
    return tuple(
        Level(
            name=f"Level {i + 1}",
            minutes=minutes,
            sessions_per_week=draw(st.integers(1, 7)),
            speed_kmh=speed,
            incline_pct=incline,
            setting=setting,
            min_days=draw(st.one_of(st.just(0), st.integers(0, 7))),
        )
        for i, (minutes, speed, incline, setting) in enumerate(specs[:count])
    )


progression_settings = st.builds(
    ProgressionSettings,
    hold_adherence_ratio=st.sampled_from((0.0, 0.5, 0.8, 1.0)),
    hold_min_sessions=st.integers(1, 3),
    max_advances_per_7_days=st.integers(0, 3),
    window_days=st.integers(1, 10),
)

constraint_sets = st.sampled_from(
    (
        Constraints(),
        Constraints(),
        Constraints(max_speed_kmh=2.0),
        Constraints(max_incline_pct=0.0),
        Constraints(hold_progression=True),
        Constraints(
            supervised_only=True,
            handrails_required=True,
            allowed_settings=frozenset({PARALLEL_BARS, TREADMILL_BOTH_HANDRAILS}),
            max_speed_kmh=1.5,
            max_incline_pct=0.0,
        ),
    )
)


def prescribed(level: Level, constraints: Constraints) -> tuple:
    """What the patient is asked to do at a level under the constraints (its name aside)."""
    capped = cap_level(level, constraints).level
    return (
        capped.minutes,
        capped.sessions_per_week,
        capped.speed_kmh,
        capped.incline_pct,
        capped.setting,
        capped.interval,
        capped.supervised,
    )


def check_decision(
    decision: Decision, current: int, ladder: tuple[Level, ...], constraints: Constraints
) -> None:
    assert decision.outcome in OUTCOMES
    assert decision.reasons
    ranks = [OUTCOMES.index(r.outcome) for r in decision.reasons]
    assert ranks == sorted(ranks, reverse=True)
    assert decision.outcome == decision.reasons[0].outcome  # the most severe tier wins
    assert all(r.code in REASON_CODES and r.text for r in decision.reasons)
    assert decision.from_level == current
    assert 0 <= decision.to_level < len(ladder)
    step = {"advance": 1, "regress": -1}.get(decision.outcome, 0)
    if not step:
        assert decision.to_level == current
    else:
        # One real step (CLINICAL.md §4.3): the levels passed over cap to the current
        # prescription, and the level reached asks something else of the patient.
        assert (decision.to_level - current) * step >= 1
        here = prescribed(ladder[current], constraints)
        passed = range(current + step, decision.to_level, step)
        assert all(prescribed(ladder[i], constraints) == here for i in passed)
        assert prescribed(ladder[decision.to_level], constraints) != here
    if decision.outcome == "pause":
        assert decision.alert
    if decision.outcome == "advance":
        assert [r.code for r in decision.reasons] == ["criteria_met"]


def simulate(
    ladder: tuple[Level, ...],
    current: int,
    plan: list[DayLog | None],
    rules: ProgressionSettings,
    constraints: Constraints,
) -> list[date]:
    """Run a plan day by day the way the plan service would; returns the days it advanced."""
    level_started_on = window_start = START
    stint = 0  # a new stint at every level change: sessions belong to the level they were done at
    logs: list[tuple[int, SessionRecord]] = []
    advances: list[date] = []

    for offset, log in enumerate(plan):
        today = START + timedelta(days=offset)
        if log is not None:
            logs.append((stint, log.record(today, ladder[current])))
        sessions = [s for at, s in logs if at == stint]
        decision = evaluate(
            levels=ladder,
            current=current,
            constraints=constraints,
            sessions=sessions,
            today=today,
            window_start=window_start,
            level_started_on=level_started_on,
            recent_advances=tuple(advances),
            settings=rules,
        )
        check_decision(decision, current, ladder, constraints)
        event(f"outcome: {decision.outcome}")  # shown by --hypothesis-show-statistics

        first_day = max(window_start, today - timedelta(days=rules.window_days - 1))
        window = [s for s in sessions if first_day <= s.day <= today]
        if any(s.fall or s.chest_pain for s in window):
            assert decision.outcome == "pause"
        allowed = loggable_settings(ladder[current], constraints)
        if any(s.setting not in allowed for s in window):
            # A session outside the plan's settings never advances and always alerts.
            assert decision.outcome != "advance"
            assert decision.alert
            assert "setting_not_allowed" in [r.code for r in decision.reasons]
        cap = constraints.max_speed_kmh
        if cap is not None and any(s.speed_kmh is not None and s.speed_kmh > cap for s in window):
            # A session faster than the screening allows never advances and always alerts.
            assert decision.outcome != "advance"
            assert decision.alert
            assert "beyond_limits" in [r.code for r in decision.reasons]
        if decision.outcome == "advance":
            assert len(window) >= rules.hold_min_sessions
            assert (today - level_started_on).days >= ladder[current].min_days
            assert not constraints.hold_progression
            for s in window:
                assert s.pain_worst <= 5
                assert s.pain_next_morning is not None
                assert s.pain_next_morning <= s.pain_before
                assert not s.near_fall
                assert not s.dizziness
                assert s.swelling != "more"

        if decision.outcome in ("advance", "regress"):
            current = decision.to_level
            stint += 1
            level_started_on = window_start = today
            if decision.outcome == "advance":
                advances.append(today)
        elif decision.outcome == "pause":
            # The clinician reviews and resumes the plan the next day.
            window_start = today + timedelta(days=1)
        assert 0 <= current < len(ladder)

    for end in advances:
        in_span = [a for a in advances if end - timedelta(days=6) <= a <= end]
        assert len(in_span) <= rules.max_advances_per_7_days
    return advances


@settings(max_examples=150, deadline=None)
@given(
    ladder=ladders(),
    start_level=st.one_of(st.just(0), st.integers(0, 3)),
    plan=st.lists(st.one_of(day_logs, day_logs, st.none()), min_size=7, max_size=MAX_DAYS),
    rules=progression_settings,
    constraints=constraint_sets,
)
def test_simulated_plan_stays_safe(ladder, start_level, plan, rules, constraints):
    simulate(ladder, min(start_level, len(ladder) - 1), plan, rules, constraints)


@settings(max_examples=150, deadline=None)
@given(
    plan=st.lists(good_logs(), min_size=7, max_size=MAX_DAYS),
    max_advances=st.integers(0, 3),
)
def test_step_limit_binds_when_nothing_else_holds(plan, max_advances):
    # Daily good sessions, no minimum days, a one-day window: only the step limit can brake.
    ladder = tuple(
        Level(f"Level {i + 1}", 10 + 5 * i, 3, None, 0.0, TREADMILL_BOTH_HANDRAILS, min_days=0)
        for i in range(10)
    )
    rules = ProgressionSettings(
        hold_adherence_ratio=0.0,
        hold_min_sessions=1,
        max_advances_per_7_days=max_advances,
        window_days=1,
    )
    advances = simulate(ladder, 0, plan, rules, Constraints())
    first_week = [a for a in advances if a < START + timedelta(days=7)]
    assert len(first_week) == max_advances


@settings(max_examples=150, deadline=None)
@given(
    ladder=ladders(),
    current_pick=st.integers(0, 3),
    logs=st.lists(st.tuples(st.integers(-20, 5), day_logs), max_size=12),
    window_start_offset=st.integers(-30, 3),
    level_started_offset=st.integers(-60, 3),
    advance_offsets=st.lists(st.integers(-20, 3), max_size=4),
    rules=progression_settings,
    constraints=constraint_sets,
)
def test_evaluate_never_raises_and_is_consistent(
    ladder,
    current_pick,
    logs,
    window_start_offset,
    level_started_offset,
    advance_offsets,
    rules,
    constraints,
):
    today = START + timedelta(days=30)
    current = min(current_pick, len(ladder) - 1)
    sessions = [log.record(today + timedelta(days=d), ladder[current]) for d, log in logs]
    args = {
        "levels": ladder,
        "current": current,
        "constraints": constraints,
        "today": today,
        "window_start": today + timedelta(days=window_start_offset),
        "level_started_on": today + timedelta(days=level_started_offset),
        "recent_advances": [today + timedelta(days=d) for d in advance_offsets],
        "settings": rules,
    }
    decision = evaluate(sessions=sessions, **args)
    check_decision(decision, current, ladder, constraints)
    # The order the logs arrive in never changes the decision.
    assert evaluate(sessions=list(reversed(sessions)), **args) == decision
    assert decision.to_dict()["reasons"] == [
        {
            "code": r.code,
            "text": r.text,
            "outcome": r.outcome,
            **({"days": [d.isoformat() for d in r.days]} if r.days else {}),
        }
        for r in decision.reasons
    ]


@st.composite
def safety_reports(
    draw, today: date, first: date, level: Level, pause_pain: int
) -> tuple[str, SessionRecord]:
    """A session reporting a fall, chest pain or pain at the pause threshold (during it, or the
    next morning, told later), on any day of the plan: what it says, and the session."""
    signal = draw(st.sampled_from(("fall", "chest_pain", "pain", "next_morning")))
    last = today - timedelta(days=1) if signal == "next_morning" else today
    day = first + timedelta(days=draw(st.integers(0, (last - first).days)))
    log = draw(day_logs)
    record = log.record(day, level)
    severe = draw(st.integers(pause_pain, 10))
    moment = draw(st.sampled_from(("pain_before", "pain_worst", "pain_after")))
    changes = {
        "fall": {"fall": True},
        "chest_pain": {"chest_pain": True},
        "pain": {moment: severe},
        "next_morning": {"pain_next_morning": severe},
    }[signal]
    return signal, replace(record, **changes)


@settings(max_examples=200, deadline=None)
@given(
    ladder=ladders(),
    current_pick=st.integers(0, 3),
    logs=st.lists(st.tuples(st.integers(-30, 0), day_logs), max_size=12),
    window_start_offset=st.integers(-30, 0),
    rules=progression_settings,
    constraints=constraint_sets,
    data=st.data(),
)
def test_a_reported_safety_signal_pauses_whatever_its_day(
    ladder, current_pick, logs, window_start_offset, rules, constraints, data
):
    """Any session reporting a fall, chest pain or pain at the pause threshold, whatever day of
    the plan the patient gives it (before the window's first day too: logged late, or after a
    level change), pauses the plan and alerts (CLINICAL.md §4.1)."""
    today = START + timedelta(days=30)
    first = today - timedelta(days=30)  # the plan's first day
    current = min(current_pick, len(ladder) - 1)
    signal, report = data.draw(safety_reports(today, first, ladder[current], rules.pause_pain))
    # One session a day: the reported one is that day's.
    sessions = [
        log.record(today + timedelta(days=d), ladder[current])
        for d, log in logs
        if today + timedelta(days=d) != report.day
    ]
    window_start = today + timedelta(days=window_start_offset)
    in_window = window_start <= report.day and (today - report.day).days < rules.window_days
    if in_window:
        sessions.append(report)  # the plan service's window holds it
    told = {"reported_next_morning" if signal == "next_morning" else "reported": [report]}
    decision = evaluate(
        levels=ladder,
        current=current,
        constraints=constraints,
        sessions=sessions,
        today=today,
        window_start=window_start,
        level_started_on=window_start,
        recent_advances=(),
        settings=rules,
        **told,
    )
    event(f"reported in the window: {in_window}")
    check_decision(decision, current, ladder, constraints)
    assert decision.outcome == "pause"
    assert decision.alert
    code = {"fall": "fall", "chest_pain": "chest_pain"}.get(signal, "severe_pain")
    reason = next(r for r in decision.reasons if r.code == code)
    if code != "severe_pain":
        assert report.day in reason.days


@settings(max_examples=200, deadline=None)
@given(
    ladder=ladders(),
    current_pick=st.integers(0, 3),
    logs=st.lists(
        st.tuples(st.integers(-6, 0), day_logs, st.booleans(), st.booleans()),
        max_size=7,
        unique_by=lambda t: t[0],  # one session a day
    ),
    resume_offset=st.integers(-6, 0),
    prompt=st.one_of(st.none(), st.integers(0, 6)),
    rules=progression_settings,
    constraints=constraint_sets,
)
def test_only_a_signal_recorded_after_the_resume_pauses(
    ladder, current_pick, logs, resume_offset, prompt, rules, constraints
):
    """The clinician reviewed what paused the plan and resumed it at noon on the day the window
    starts from, which may hold the session that paused it. Whatever the sessions say, the plan
    pauses exactly when a fall, chest pain or pain at the pause threshold in the window was
    recorded after the resume (the session logged then, or its next-morning pain added then),
    or is the report prompting the evaluation; and a pause names no fall or chest pain the
    clinician had already seen (CLINICAL.md §4.1)."""
    today = START + timedelta(days=30)
    current = min(current_pick, len(ladder) - 1)
    resume_day = today + timedelta(days=resume_offset)
    resumed_at = datetime.combine(resume_day, time(12), tzinfo=UTC)
    hour = timedelta(hours=1)
    sessions = []
    for offset, log, logged_before, morning_before in logs:
        record = log.record(today + timedelta(days=offset), ladder[current])
        # A session of a later day than the resume's was logged after it; a next-morning pain
        # was added no earlier than its session.
        before = logged_before and record.day <= resume_day
        morning = None
        if record.pain_next_morning is not None:
            morning = resumed_at + (-hour / 2 if before and morning_before else 2 * hour)
        sessions.append(
            replace(
                record,
                logged_at=resumed_at + (-hour if before else hour),
                next_morning_at=morning,
            )
        )
    reported = [] if prompt is None or prompt >= len(sessions) else [sessions[prompt]]
    decision = evaluate(
        levels=ladder,
        current=current,
        constraints=constraints,
        sessions=sessions,
        today=today,
        window_start=resume_day,
        level_started_on=resume_day,
        recent_advances=(),
        settings=rules,
        reported=reported,
        resumed_at=resumed_at,
    )
    check_decision(decision, current, ladder, constraints)

    first_day = max(resume_day, today - timedelta(days=rules.window_days - 1))
    window = [s for s in sessions if first_day <= s.day <= today]

    def pause_signal(s: SessionRecord) -> bool:
        pains = (s.pain_before, s.pain_worst, s.pain_after, s.pain_next_morning)
        return s.fall or s.chest_pain or any(p is not None and p >= rules.pause_pain for p in pains)

    def new(s: SessionRecord) -> bool:
        return s in reported or s.logged_at > resumed_at

    def pauses(s: SessionRecord) -> bool:
        """Whether what the clinician had not seen when resuming says pause."""
        if new(s):
            return pause_signal(s)
        return (
            s.next_morning_at is not None
            and s.next_morning_at > resumed_at
            and s.pain_next_morning >= rules.pause_pain
        )

    told = [*window, *(s for s in reported if s not in window)]
    event(f"reviewed signals in the window: {any(s.fall or s.chest_pain for s in window)}")
    assert (decision.outcome == "pause") == any(pauses(s) for s in told)
    for reason in decision.reasons:
        if reason.code in ("fall", "chest_pain"):
            assert all(new(s) for s in sessions if s.day in reason.days)
