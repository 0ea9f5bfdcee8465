"""Outcome measures: scoring the questionnaires and judging change (docs/clinical.md §5).

Pure Python, no Django. `score` turns one set of answers into subscale scores; `change` compares
two sets of scores and says, for each subscale, whether the change reached the measure's
meaningful-change threshold. Every answer is checked before anything is scored, and every bad
field is named at once in `InvalidAnswers.errors`.

ODI and WOMAC are licensed questionnaires: they are not embedded, and a clinician enters only the
total score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any


class InvalidAnswers(ValueError):
    """Answers or scores that cannot be used; `errors` maps each bad field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.errors.items()))


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    higher_is_better: bool
    subscales: tuple[str, ...]
    minimum: float
    maximum: float
    # Left out of the hash so the frozen dataclass stays hashable.
    mcid_points: dict[str, float | None] = field(hash=False)
    mcid_percent: float | None
    licence: str
    embedded: bool
    loinc: str = ""


TOTAL = "total"
KOOS_SUBSCALES = ("pain", "symptoms", "adl", "sport_rec", "qol")

MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure(
            code="nprs",
            name="Numeric Pain Rating Scale (0-10)",
            higher_is_better=False,
            subscales=(TOTAL,),
            minimum=0,
            maximum=10,
            mcid_points={TOTAL: 2},
            mcid_percent=30,
            licence="free",
            embedded=True,
            loinc="72514-3",
        ),
        Measure(
            code="koos",
            name="Knee injury and Osteoarthritis Outcome Score (KOOS)",
            higher_is_better=True,
            subscales=KOOS_SUBSCALES,
            minimum=0,
            maximum=100,
            # Mostafaee 2021, knee osteoarthritis after physiotherapy.
            mcid_points={"pain": 15, "symptoms": 12.5, "adl": 15.5, "sport_rec": 17.5, "qol": 12.5},
            mcid_percent=None,
            licence="free (koos.nu)",
            embedded=True,
        ),
        Measure(
            code="rmdq",
            name="Roland-Morris Disability Questionnaire (RMDQ)",
            higher_is_better=False,
            subscales=(TOTAL,),
            minimum=0,
            maximum=24,
            mcid_points={TOTAL: 5},
            mcid_percent=30,
            licence="free",
            embedded=True,
        ),
        Measure(
            code="psfs",
            name="Patient-Specific Functional Scale (PSFS)",
            higher_is_better=True,
            subscales=(TOTAL,),
            minimum=0,
            maximum=10,
            mcid_points={TOTAL: 2},
            mcid_percent=None,
            licence="free",
            embedded=True,
        ),
        Measure(
            code="odi",
            name="Oswestry Disability Index (ODI)",
            higher_is_better=False,
            subscales=(TOTAL,),
            minimum=0,
            maximum=100,
            mcid_points={TOTAL: 10},
            mcid_percent=None,
            licence="licensed: the questionnaire is not embedded; enter the total score",
            embedded=False,
        ),
        Measure(
            code="womac",
            name="WOMAC Osteoarthritis Index",
            higher_is_better=False,
            subscales=(TOTAL,),
            minimum=0,
            maximum=96,
            # clinical.md gives no meaningful-change threshold for WOMAC; none is invented.
            mcid_points={TOTAL: None},
            mcid_percent=None,
            licence="licensed: the questionnaire is not embedded; enter the total score",
            embedded=False,
        ),
    )
}

KOOS_ITEMS: dict[str, tuple[str, ...]] = {
    "pain": tuple(f"P{i}" for i in range(1, 10)),
    "symptoms": tuple(f"S{i}" for i in range(1, 8)),
    "adl": tuple(f"A{i}" for i in range(1, 18)),
    "sport_rec": tuple(f"SP{i}" for i in range(1, 6)),
    "qol": tuple(f"Q{i}" for i in range(1, 5)),
}
KOOS_ITEM_MIN = 0
KOOS_ITEM_MAX = 4
RMDQ_ITEMS: tuple[str, ...] = tuple(f"R{i}" for i in range(1, 25))
PSFS_MIN_ACTIVITIES = 3
PSFS_MAX_ACTIVITIES = 5
PSFS_ITEM_MAX = 10
NPRS_MAX = 10

_Scorer = Callable[[dict[str, Any]], dict[str, float | None]]
_KOOS_ITEM_SUBSCALE = {item: sub for sub, items in KOOS_ITEMS.items() for item in items}


def get_measure(code: str) -> Measure:
    try:
        return MEASURES[code]
    except (KeyError, TypeError):
        known = ", ".join(MEASURES)
        raise InvalidAnswers({"measure": f"unknown measure {code!r}; known: {known}"}) from None


# --- scoring -------------------------------------------------------------------------------------


def score(measure: str, answers: dict[str, Any]) -> dict[str, float | None]:
    """Score one set of answers: {subscale: score}, a subscale None when it cannot be scored."""
    m = get_measure(measure)
    if not isinstance(answers, dict):
        raise InvalidAnswers({"answers": "must be an object of answers"})
    scorer = _SCORERS[m.code]
    return scorer(answers)


def _is_int(value: Any) -> bool:
    # bool is an int subclass: True must not pass for 1 (or 1 for "yes").
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_int(value: Any, low: int, high: int) -> str | None:
    if not _is_int(value):
        return f"must be a whole number from {low} to {high}"
    if not low <= value <= high:
        return f"{value} is out of range; must be from {low} to {high}"
    return None


def _unknown_keys(answers: dict[Any, Any], known: set[str] | tuple[str, ...]) -> dict[str, str]:
    return {str(key): "unknown field" for key in answers if key not in known}


def _round1(value: Fraction) -> float:
    # Half up, not Python's half-to-even: KOOS QOL (4 items) lands on .x5 exactly, e.g. 81.25.
    return math.floor(value * 10 + Fraction(1, 2)) / 10


def _score_nprs(answers: dict[str, Any]) -> dict[str, float | None]:
    errors = _unknown_keys(answers, ("score",))
    if answers.get("score") is None:
        errors["score"] = "required"
    elif problem := _check_int(answers["score"], 0, NPRS_MAX):
        errors["score"] = problem
    if errors:
        raise InvalidAnswers(errors)
    return {TOTAL: float(answers["score"])}


def _score_koos(answers: dict[str, Any]) -> dict[str, float | None]:
    errors = _unknown_keys(answers, set(_KOOS_ITEM_SUBSCALE))
    for key, value in answers.items():
        if key not in _KOOS_ITEM_SUBSCALE or value is None:
            continue
        if problem := _check_int(value, KOOS_ITEM_MIN, KOOS_ITEM_MAX):
            errors[key] = problem
    if errors:
        raise InvalidAnswers(errors)

    scores: dict[str, float | None] = {}
    too_few: dict[str, str] = {}
    for subscale in KOOS_SUBSCALES:
        items = KOOS_ITEMS[subscale]
        given = [answers[i] for i in items if answers.get(i) is not None]
        # KOOS user's guide: a subscale needs at least half of its items answered.
        if 2 * len(given) < len(items):
            scores[subscale] = None
            too_few[subscale] = (
                f"only {len(given)} of {len(items)} items answered; at least half are needed"
            )
        else:
            scores[subscale] = _round1(100 - Fraction(25 * sum(given), len(given)))
    if len(too_few) == len(KOOS_SUBSCALES):
        raise InvalidAnswers(too_few)
    return scores


def _score_rmdq(answers: dict[str, Any]) -> dict[str, float | None]:
    # RMDQ has no published pro-rating rule for missing items, so a partial questionnaire is not
    # scored: every missing item is named and the patient (or clinician) completes it.
    errors = _unknown_keys(answers, RMDQ_ITEMS)
    for item in RMDQ_ITEMS:
        value = answers.get(item)
        if value is None:
            errors[item] = "not answered"
        elif not isinstance(value, bool):
            errors[item] = "must be true (yes) or false (no)"
    if errors:
        raise InvalidAnswers(errors)
    return {TOTAL: float(sum(answers[item] for item in RMDQ_ITEMS))}


def _score_psfs(answers: dict[str, Any]) -> dict[str, float | None]:
    errors = _unknown_keys(answers, ("activities",))
    activities = answers.get("activities")
    if not isinstance(activities, list):
        errors["activities"] = "required: a list of 3 to 5 activities"
        raise InvalidAnswers(errors)
    if not PSFS_MIN_ACTIVITIES <= len(activities) <= PSFS_MAX_ACTIVITIES:
        errors["activities"] = (
            f"{len(activities)} activities given; "
            f"{PSFS_MIN_ACTIVITIES} to {PSFS_MAX_ACTIVITIES} are needed"
        )
    for index, entry in enumerate(activities):
        where = f"activities[{index}]"
        if not isinstance(entry, dict):
            errors[where] = 'must be an object with "activity" and "score"'
            continue
        errors.update(
            {f"{where}.{k}": v for k, v in _unknown_keys(entry, ("activity", "score")).items()}
        )
        name = entry.get("activity")
        if not isinstance(name, str) or not name.strip():
            errors[f"{where}.activity"] = "must name the activity"
        if entry.get("score") is None:
            errors[f"{where}.score"] = "required"
        elif problem := _check_int(entry["score"], 0, PSFS_ITEM_MAX):
            errors[f"{where}.score"] = problem
    if errors:
        raise InvalidAnswers(errors)
    return {TOTAL: _round1(Fraction(sum(e["score"] for e in activities), len(activities)))}


def _total_only(code: str) -> _Scorer:
    def scorer(answers: dict[str, Any]) -> dict[str, float | None]:
        m = MEASURES[code]
        errors = _unknown_keys(answers, (TOTAL,))
        value = answers.get(TOTAL)
        if value is None:
            errors[TOTAL] = "required"
        elif not _is_number(value):
            errors[TOTAL] = f"must be a number from {m.minimum:g} to {m.maximum:g}"
        elif not m.minimum <= value <= m.maximum:
            errors[TOTAL] = (
                f"{value:g} is out of range; must be from {m.minimum:g} to {m.maximum:g}"
            )
        if errors:
            raise InvalidAnswers(errors)
        return {TOTAL: float(value)}

    return scorer


_SCORERS: dict[str, _Scorer] = {
    "nprs": _score_nprs,
    "koos": _score_koos,
    "rmdq": _score_rmdq,
    "psfs": _score_psfs,
    "odi": _total_only("odi"),
    "womac": _total_only("womac"),
}


# --- change --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    subscale: str
    baseline: float | None
    current: float | None
    delta: float | None  # current - baseline
    improvement: float | None  # positive = better, whatever the measure's direction
    threshold: str  # the meaningful-change threshold in words
    meaningful: bool  # improved by at least the threshold
    worsened: bool  # worsened by at least the threshold

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def threshold_words(measure: str, subscale: str) -> str:
    m = get_measure(measure)
    points = m.mcid_points.get(subscale)
    if points is None and m.mcid_percent is None:
        return "none set: the source gives no meaningful-change threshold"
    parts = []
    if points is not None:
        parts.append(f"{points:g} points")
    if m.mcid_percent is not None:
        parts.append(f"{m.mcid_percent:g} %")
    return " or ".join(parts)


def change(
    measure: str, baseline: dict[str, float | None], current: dict[str, float | None]
) -> tuple[Change, ...]:
    """Each subscale's change from baseline to current, judged against the measure's threshold.

    The threshold is reached by points, or (where the measure has one) by percent of the
    baseline; percent is not used when the baseline is 0. Worsening uses the same threshold.
    """
    m = get_measure(measure)
    errors = {
        **_check_scores(m, "baseline", baseline),
        **_check_scores(m, "current", current),
    }
    if errors:
        raise InvalidAnswers(errors)
    return tuple(
        _change(m, subscale, baseline.get(subscale), current.get(subscale))
        for subscale in m.subscales
    )


def _check_scores(m: Measure, side: str, scores: Any) -> dict[str, str]:
    if not isinstance(scores, dict):
        return {side: "must be an object of subscale scores"}
    errors = {f"{side}.{key}": "unknown subscale" for key in scores if key not in m.subscales}
    for subscale in m.subscales:
        value = scores.get(subscale)
        if value is None:
            continue
        if not _is_number(value):
            errors[f"{side}.{subscale}"] = "must be a number"
        elif not m.minimum <= value <= m.maximum:
            errors[f"{side}.{subscale}"] = (
                f"{value:g} is out of range; must be from {m.minimum:g} to {m.maximum:g}"
            )
    return errors


def _reaches(m: Measure, subscale: str, gain: Decimal, baseline: Decimal) -> bool:
    """Whether a gain (in the measure's 'better' direction, or its negation) meets the threshold."""
    if gain <= 0:
        return False
    points = m.mcid_points.get(subscale)
    if points is not None and gain >= Decimal(str(points)):
        return True
    if m.mcid_percent is not None and baseline != 0:
        return gain / baseline * 100 >= Decimal(str(m.mcid_percent))
    return False


def _change(m: Measure, subscale: str, before: float | None, after: float | None) -> Change:
    words = threshold_words(m.code, subscale)
    if before is None or after is None:
        return Change(subscale, before, after, None, None, words, False, False)
    # Decimal on the shortest repr: 16.4 - 1.4 is 15 exactly, not 14.999999999999998, so a
    # change that lands on the threshold counts.
    b, a = Decimal(repr(before)), Decimal(repr(after))
    delta = a - b
    gain = delta if m.higher_is_better else -delta
    return Change(
        subscale=subscale,
        baseline=before,
        current=after,
        delta=float(delta),
        improvement=float(gain),
        threshold=words,
        meaningful=_reaches(m, subscale, gain, b),
        worsened=_reaches(m, subscale, -gain, b),
    )
