"""`evaluate`: the progression and regression rules, each reason in plain words."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from rehab.clinical.levels import (
    SETTINGS,
    SETTINGS_BY_SUPPORT,
    Constraints,
    Level,
    cap_level,
    loggable_settings,
)
from rehab.clinical.progression.phrases import also as _also
from rehab.clinical.progression.phrases import day as _day
from rehab.clinical.progression.phrases import days_list as _days_list
from rehab.clinical.progression.phrases import num as _num
from rehab.clinical.progression.phrases import plural as _plural
from rehab.clinical.progression.records import (
    ADVANCE,
    HOLD,
    OUTCOMES,
    PAUSE,
    REGRESS,
    Decision,
    Reason,
    SessionRecord,
)
from rehab.clinical.progression.settings import ProgressionSettings

# These hold or regress but still need a clinician's eyes; pause always alerts.
_ALERT_CODES = frozenset(
    {"near_fall", "dizziness", "lowest_level", "setting_not_allowed", "beyond_limits"}
)


# Thresholds multiply floats (0.8 x 5 sessions, 0.9 x 100 min); without a tolerance a session at
# exactly the threshold could land a hair below it and hold for no clinical reason.
_EPSILON = 1e-9


def _severity(outcome: str) -> int:
    return OUTCOMES.index(outcome)


def _days(sessions: Sequence[SessionRecord]) -> tuple[date, ...]:
    return tuple(sorted({s.day for s in sessions}))


def _below(value: float, threshold: float) -> bool:
    return value < threshold - _EPSILON


def _pain_scores(
    session: SessionRecord, *, next_morning_only: bool = False
) -> list[tuple[int, int, str]]:
    """Every pain score of a session (or its next morning's alone), each with its moment (0
    before the session to 3 the next morning) and how to say when it was felt."""
    day = _day(session.day)
    morning = (
        []
        if session.pain_next_morning is None
        else [(3, session.pain_next_morning, f"the morning after the session on {day}")]
    )
    if next_morning_only:
        return morning
    return [
        (0, session.pain_before, f"before the session on {day}"),
        (1, session.pain_worst, f"during exercise on {day}"),
        (2, session.pain_after, f"after the session on {day}"),
        *morning,
    ]


# --- the rules ---------------------------------------------------------------------------------


def _reviewed(recorded_at: datetime | None, resumed_at: datetime | None) -> bool:
    """Whether what was recorded at `recorded_at` was before the clinician who resumed the plan
    at `resumed_at`. An unknown moment is news: a pause too many is noise, one too few harm."""
    return recorded_at is not None and resumed_at is not None and recorded_at < resumed_at


def _pause_and_alert_reasons(
    window: Sequence[SessionRecord],
    settings: ProgressionSettings,
    *,
    pausing: Sequence[SessionRecord],
    next_morning: Sequence[SessionRecord],
) -> list[Reason]:
    """`window`: the sessions judged for a near fall or dizziness, by day; `pausing`: those
    judged in full for the pause signals; `next_morning`: sessions whose next morning's pain
    alone is judged for them."""
    reasons: list[Reason] = []
    falls = [s for s in pausing if s.fall]
    if falls:
        reasons.append(
            Reason(
                "fall",
                f"A fall was reported on {_days_list(falls)}. The plan is paused until the "
                "clinician has reviewed it.",
                PAUSE,
                _days(falls),
            )
        )
    chest = [s for s in pausing if s.chest_pain]
    if chest:
        reasons.append(
            Reason(
                "chest_pain",
                f"Chest pain was reported on {_days_list(chest)}. The plan is paused until the "
                "clinician has reviewed it.",
                PAUSE,
                _days(chest),
            )
        )
    severe = [
        (score, s.day, moment, when)
        for sessions, only_morning in ((pausing, False), (next_morning, True))
        for s in sessions
        for moment, score, when in _pain_scores(s, next_morning_only=only_morning)
        if score >= settings.pause_pain
    ]
    if severe:
        # The highest score, earliest first among equals (by day, then by the moment in the
        # session, so two sessions of one day name the same one whatever order they came in).
        score, _, _, when = max(severe, key=lambda t: (t[0], -t[1].toordinal(), -t[2]))
        count = len({d for _, d, _, _ in severe})  # sessions, one a day
        reasons.append(
            Reason(
                "severe_pain",
                f"Pain reached {score}/10 {when} (pause at {settings.pause_pain}/10 or more)."
                f"{_also(count, 'sessions')}",
                PAUSE,
            )
        )
    near = [s for s in window if s.near_fall]
    if near:
        reasons.append(
            Reason(
                "near_fall",
                f"A near fall was reported on {_days_list(near)}. Staying at this level; the "
                "clinician has been alerted.",
                HOLD,
                _days(near),
            )
        )
    dizzy = [s for s in window if s.dizziness]
    if dizzy:
        reasons.append(
            Reason(
                "dizziness",
                f"Dizziness was reported on {_days_list(dizzy)}. Staying at this level; the "
                "clinician has been alerted.",
                HOLD,
                _days(dizzy),
            )
        )
    return reasons


def _setting_reasons(
    window: Sequence[SessionRecord], level: Level, constraints: Constraints
) -> list[Reason]:
    """Sessions done on a setting the plan does not allow (a clinic system may record what
    happened; the portal offers only the allowed ones): hold and alert, §3 and §4."""
    allowed = loggable_settings(level, constraints)
    outside = [s for s in window if s.setting is not None and s.setting not in allowed]
    if not outside:
        return []
    by_setting = [
        f"{SETTINGS[setting].lower()} on {_days_list([s for s in outside if s.setting == setting])}"
        for setting in SETTINGS_BY_SUPPORT
        if any(s.setting == setting for s in outside)
    ]
    allowed_words = ", ".join(SETTINGS[s].lower() for s in allowed)
    return [
        Reason(
            "setting_not_allowed",
            f"Logged on a setting the plan does not allow: {'; '.join(by_setting)} (the plan "
            f"allows: {allowed_words}). Staying at this level; the clinician has been alerted.",
            HOLD,
            _days(outside),
        )
    ]


def _too_fast(session: SessionRecord, constraints: Constraints) -> bool:
    cap = constraints.max_speed_kmh
    return cap is not None and session.speed_kmh is not None and session.speed_kmh > cap + _EPSILON


def _too_steep(session: SessionRecord, constraints: Constraints) -> bool:
    cap = constraints.max_incline_pct
    return (
        cap is not None and session.incline_pct is not None and session.incline_pct > cap + _EPSILON
    )


def outside_plan(session: SessionRecord, level: Level, constraints: Constraints) -> bool:
    """Whether one session was done outside what the plan allows at `level` (§3): a setting it
    does not offer, or faster or steeper than the screening's caps. The session that is tells
    the clinician at once (services.session_log); the decisions hold while it is in the window."""
    if session.setting is not None and session.setting not in loggable_settings(level, constraints):
        return True
    return _too_fast(session, constraints) or _too_steep(session, constraints)


def _limit_reasons(window: Sequence[SessionRecord], constraints: Constraints) -> list[Reason]:
    """Sessions done faster or steeper than the screening allows (its speed and incline caps,
    §3): what happened is kept as recorded; progression holds and the clinician is alerted."""
    parts = [
        f"{_num(s.speed_kmh)} km/h on {_days_list([s])} (the plan allows at most "
        f"{_num(constraints.max_speed_kmh)} km/h)"
        for s in window
        if _too_fast(s, constraints)
    ]
    cap = constraints.max_incline_pct
    allows = "no slope" if cap == 0 else f"a slope of at most {_num(cap or 0)} %"
    parts += [
        f"a {_num(s.incline_pct)} % slope on {_days_list([s])} (the plan allows {allows})"
        for s in window
        if _too_steep(s, constraints)
    ]
    if not parts:
        return []
    beyond = [s for s in window if _too_fast(s, constraints) or _too_steep(s, constraints)]
    return [
        Reason(
            "beyond_limits",
            f"Logged beyond the screening's limits: {'; '.join(parts)}. Staying at this level; "
            "the clinician has been alerted.",
            HOLD,
            _days(beyond),
        )
    ]


def _regress_reasons(
    window: Sequence[SessionRecord], settings: ProgressionSettings
) -> list[Reason]:
    reasons: list[Reason] = []
    limit = settings.regress_worst_pain_above
    high = [s for s in window if s.pain_worst > limit]
    if high:
        worst = max(high, key=lambda s: (s.pain_worst, -s.day.toordinal()))
        reasons.append(
            Reason(
                "worst_pain_high",
                f"Worst pain during exercise reached {worst.pain_worst}/10 on {_day(worst.day)} "
                f"(regress above {limit}/10).{_also(len(high), 'sessions')}",
                REGRESS,
            )
        )
    unsettled = [
        s for s in window if s.pain_next_morning is not None and s.pain_next_morning > s.pain_before
    ]
    if unsettled:
        worst = max(
            unsettled,
            key=lambda s: ((s.pain_next_morning or 0) - s.pain_before, -s.day.toordinal()),
        )
        reasons.append(
            Reason(
                "pain_not_settled",
                f"Pain had not settled by the next morning after the session on "
                f"{_day(worst.day)}: {worst.pain_next_morning}/10, above the "
                f"{worst.pain_before}/10 before that session.{_also(len(unsettled), 'sessions')}",
                REGRESS,
            )
        )
    hard = [s for s in window if s.effort >= settings.regress_effort]
    if hard:
        worst = max(hard, key=lambda s: (s.effort, -s.day.toordinal()))
        reasons.append(
            Reason(
                "effort_high",
                f"Effort reached {worst.effort}/10 on {_day(worst.day)} "
                f"(regress at {settings.regress_effort}/10 or more).{_also(len(hard), 'sessions')}",
                REGRESS,
            )
        )
    return reasons


def _hold_reasons(
    *,
    levels: Sequence[Level],
    current: int,
    constraints: Constraints,
    window: Sequence[SessionRecord],
    first_day: date,
    today: date,
    level_started_on: date,
    recent_advances: Sequence[date],
    settings: ProgressionSettings,
    planned: tuple[int, int] | None = None,
) -> list[Reason]:
    reasons: list[Reason] = []
    level = levels[current]
    count = len(window)
    window_words = f"since {_day(first_day)}"

    if count < settings.hold_min_sessions:
        reasons.append(
            Reason(
                "too_few_sessions",
                f"{_plural(count, 'session')} logged {window_words}; at least "
                f"{settings.hold_min_sessions} are needed to judge progress.",
                HOLD,
            )
        )
    window_length = max((today - first_day).days + 1, 0)
    prescribed = level.sessions_per_week * window_length / 7
    if planned is not None:
        # The one rule: a walk on a rest day is not a planned session, a paused day or today
        # not walked yet is not due.
        done, due = planned
        if due > 0 and _below(done, settings.hold_adherence_ratio * due):
            reasons.append(
                Reason(
                    "low_adherence",
                    f"{done} of {due} planned sessions done {window_words} "
                    f"({round(100 * done / due)} %); at least "
                    f"{_num(100 * settings.hold_adherence_ratio)} % are needed to move on.",
                    HOLD,
                )
            )
    elif prescribed > 0 and _below(count, settings.hold_adherence_ratio * prescribed):
        reasons.append(
            Reason(
                "low_adherence",
                f"{count} of about {_num(prescribed)} prescribed sessions logged {window_words} "
                f"({round(100 * count / prescribed)} %); at least "
                f"{_num(100 * settings.hold_adherence_ratio)} % are needed to move on.",
                HOLD,
            )
        )
    swollen = [s for s in window if s.swelling == "more"]
    if swollen:
        reasons.append(
            Reason(
                "swelling_more",
                f"Knee swelling was more than usual after the session on {_days_list(swollen)}. "
                "Staying at this level until it settles.",
                HOLD,
            )
        )
    if constraints.hold_progression:
        reasons.append(
            Reason(
                "hold_progression",
                "The screening says to hold progression, so the level stays the same until "
                "the clinician lifts the hold.",
                HOLD,
            )
        )
    days_at_level = (today - level_started_on).days
    if days_at_level < level.min_days:
        reasons.append(
            Reason(
                "min_days",
                f"{_plural(max(days_at_level, 0), 'day')} at this level so far; the level asks "
                f"for at least {level.min_days} before moving on.",
                HOLD,
            )
        )
    if current == len(levels) - 1:
        reasons.append(
            Reason(
                "top_level",
                "This is the last level of the protocol: the protocol is finished and the "
                "clinician may complete the plan.",
                HOLD,
            )
        )
    elif _distinct_neighbour(levels, current, constraints, +1) is None:
        nxt = levels[current + 1]
        caps = "; ".join(cap_level(nxt, constraints).caps)
        reasons.append(
            Reason(
                "next_level_capped",
                f"Under the screening limits the next levels prescribe nothing more than this "
                f"one ({caps}). Staying at the cap; the clinician may review the limits.",
                HOLD,
            )
        )
    week_start = today - timedelta(days=6)
    advances = sum(1 for d in recent_advances if week_start <= d <= today)
    if advances >= settings.max_advances_per_7_days:
        reasons.append(
            Reason(
                "step_limit",
                f"{_plural(advances, 'level advance')} already in the last 7 days; at most "
                f"{settings.max_advances_per_7_days} are allowed in 7 days.",
                HOLD,
            )
        )

    # The advance criteria that are not already regress rules: failing one means hold.
    # A protocol may set the advance pain limit below the regress limit; pain between the two
    # holds. Sessions that already regress are left to that reason rather than said twice.
    sore = [
        s
        for s in window
        if settings.advance_max_worst_pain < s.pain_worst <= settings.regress_worst_pain_above
    ]
    if sore:
        worst = max(sore, key=lambda s: (s.pain_worst, -s.day.toordinal()))
        reasons.append(
            Reason(
                "worst_pain_above_advance",
                f"Worst pain during exercise reached {worst.pain_worst}/10 on {_day(worst.day)} "
                f"(moving on needs {settings.advance_max_worst_pain}/10 or less)."
                f"{_also(len(sore), 'sessions')}",
                HOLD,
            )
        )
    unknown = [s for s in window if s.pain_next_morning is None]
    if unknown:
        reasons.append(
            Reason(
                "next_morning_unknown",
                f"Next-morning pain was not recorded after the session on {_days_list(unknown)}, "
                "so we cannot yet confirm the pain settled.",
                HOLD,
            )
        )
    if window:
        median = statistics.median(s.effort for s in window)
        if median > settings.advance_max_median_effort + _EPSILON:
            reasons.append(
                Reason(
                    "median_effort_high",
                    f"Median effort was {_num(median)}/10 (moving on needs "
                    f"{_num(settings.advance_max_median_effort)}/10 or less).",
                    HOLD,
                )
            )
    target = settings.advance_min_minutes_ratio * level.minutes
    short = [s for s in window if _below(s.minutes_done, target)]
    if short:
        least = min(short, key=lambda s: (s.minutes_done, s.day))
        reasons.append(
            Reason(
                "minutes_short",
                f"Only {least.minutes_done} of {level.minutes} minutes done on {_day(least.day)} "
                f"(moving on needs {_num(100 * settings.advance_min_minutes_ratio)} %, "
                f"{_num(target)} min, in every session).{_also(len(short), 'sessions')}",
                HOLD,
            )
        )
    return reasons


def _prescription(level: Level, constraints: Constraints) -> tuple:
    """What a level asks of the patient once capped: the fields a step can change."""
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


def _distinct_neighbour(
    levels: Sequence[Level], current: int, constraints: Constraints, direction: int
) -> int | None:
    """The nearest level up (+1) or down (-1) whose capped prescription differs from the
    current one's, or None.

    Under a cap several written levels can prescribe the same thing (a speed step above the
    speed cap, a setting the constraints forbid). Moving onto one of those would be a step in
    name only, so progression moves past them; one real change is still one step.
    """
    here = _prescription(levels[current], constraints)
    index = current + direction
    while 0 <= index < len(levels):
        if _prescription(levels[index], constraints) != here:
            return index
        index += direction
    return None


def _criteria_met(
    levels: Sequence[Level],
    target: int,
    constraints: Constraints,
    window: Sequence[SessionRecord],
    settings: ProgressionSettings,
) -> Reason:
    median = statistics.median(s.effort for s in window)
    return Reason(
        "criteria_met",
        f"All {_plural(len(window), 'session')} in the window stayed at or below "
        f"{settings.advance_max_worst_pain}/10 worst pain and settled by the next morning, "
        f"median effort was {_num(median)}/10 and at least "
        f"{_num(100 * settings.advance_min_minutes_ratio)} % of the minutes were done: "
        # Named as prescribed under the constraints, not as the protocol wrote it.
        f"ready for the next level ({cap_level(levels[target], constraints).level.name}).",
        ADVANCE,
    )


def evaluate(
    *,
    levels: Sequence[Level],
    current: int,
    constraints: Constraints,
    sessions: Sequence[SessionRecord],
    today: date,
    window_start: date,
    level_started_on: date,
    recent_advances: Sequence[date],
    settings: ProgressionSettings | None = None,
    planned: tuple[int, int] | None = None,
    reported: Sequence[SessionRecord] = (),
    reported_next_morning: Sequence[SessionRecord] = (),
    resumed_at: datetime | None = None,
) -> Decision:
    """Suggest pause, regress, hold or advance from the sessions logged at the current level.

    Only sessions from max(window_start, today - window_days + 1) to today count. Every rule
    that fires gives a reason; the most severe tier among them is the outcome. `planned`: the
    window's planned sessions (done, due) by the one adherence rule (rehab.clinical.adherence),
    which the plan service gives; without it adherence is judged against the level's sessions
    per week.

    `reported`: the session whose report prompts this evaluation (one session a day: a day the
    window holds is the window's), and `reported_next_morning`: the session whose next-morning
    pain was just added. Each is judged for its safety signals whatever its day (§4.1) and
    none of the other rules', which read the window only: a patient may log late, for a day
    before the level changed or before the window's days, and a fall, chest pain or pain at
    the pause threshold still pauses and alerts (a near fall or dizziness holds and alerts).
    Of a next morning's report that pain alone is news: the session's own signals were judged
    when it was logged (a fall paused the plan then, which the clinician may have resumed).

    `resumed_at`: the moment the clinician last resumed the plan (None: never). The window
    starts on the resume's day, which may hold the session whose signal paused the plan. A
    fall, chest pain or pain at the pause threshold recorded before that moment (a session's
    `logged_at`, its next morning's `next_morning_at`) was before the clinician who resumed
    the plan: it pauses the plan no more. One recorded after it is news, and pauses; so is the
    report prompting this evaluation, always. Every other rule reads the window as it is.
    """
    if not levels:
        raise ValueError("A plan needs at least one level to evaluate progression.")
    if not 0 <= current < len(levels):
        raise ValueError(f"Current level {current} is not one of the plan's {len(levels)} levels.")
    settings = settings or ProgressionSettings()

    first_day = max(window_start, today - timedelta(days=settings.window_days - 1))
    window = sorted((s for s in sessions if first_day <= s.day <= today), key=lambda s: s.day)

    in_window = {s.day for s in window}
    told = sorted([*window, *(s for s in reported if s.day not in in_window)], key=lambda s: s.day)
    mornings = [s for s in reported_next_morning if s.day not in in_window]
    # What the clinician reviewed when resuming the plan pauses it no more: of a session
    # recorded before the resume, only a next-morning pain recorded after it is news.
    news = {s.day for s in reported}
    morning_news = {s.day for s in reported_next_morning}
    pausing = [s for s in told if s.day in news or not _reviewed(s.logged_at, resumed_at)]
    fresh = {s.day for s in pausing}
    mornings += [
        s
        for s in told
        if s.day not in fresh
        and (s.day in morning_news or not _reviewed(s.next_morning_at, resumed_at))
    ]
    reasons = _pause_and_alert_reasons(told, settings, pausing=pausing, next_morning=mornings)
    reasons += _setting_reasons(window, levels[current], constraints)
    reasons += _limit_reasons(window, constraints)
    reasons += _regress_reasons(window, settings)
    reasons += _hold_reasons(
        levels=levels,
        current=current,
        constraints=constraints,
        window=window,
        first_day=first_day,
        today=today,
        level_started_on=level_started_on,
        recent_advances=recent_advances,
        settings=settings,
        planned=planned,
    )
    if not reasons:
        # Nothing fired, and with hold_min_sessions >= 1 the window cannot be empty here.
        # No hold fired, so a distinct next level exists (next_level_capped would have held).
        target = _distinct_neighbour(levels, current, constraints, +1)
        assert target is not None
        reasons.append(_criteria_met(levels, target, constraints, window, settings))

    reasons.sort(key=lambda r: -_severity(r.outcome))  # stable: rule order within a tier
    outcome = reasons[0].outcome
    lower = _distinct_neighbour(levels, current, constraints, -1)
    if outcome == REGRESS and lower is None:
        # Nowhere easier to go: the regress reasons now argue for holding (so the outcome stays
        # the most severe tier among the reasons), and lowest_level follows them to explain why.
        regress = [Reason(r.code, r.text, HOLD, r.days) for r in reasons if r.outcome == REGRESS]
        lowest = Reason(
            "lowest_level",
            "There is no easier level to step back to under the screening limits. "
            "Staying here; the clinician should review the plan.",
            HOLD,
        )
        reasons = [*regress, lowest, *(r for r in reasons if r.outcome != REGRESS)]
        outcome = HOLD

    if outcome == ADVANCE:
        to_level = _distinct_neighbour(levels, current, constraints, +1)
    elif outcome == REGRESS:
        to_level = lower
    else:
        to_level = current
    alert = outcome == PAUSE or any(r.code in _ALERT_CODES for r in reasons)
    return Decision(
        outcome=outcome,
        from_level=current,
        to_level=to_level,
        reasons=tuple(reasons),
        alert=alert,
    )
