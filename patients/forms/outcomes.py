"""The outcome questionnaires as portal forms, and their names and results in plain words.

A form only parses what the patient ticked or typed into the answers dict that
`services.outcome_record` scores (rehab/clinical/outcomes.py); whether the answers are complete
and in range is the service's to say, and `rehab.web.apply_outcome_errors` puts what it says back
on the form in plain words, next to the question it is about.

The wording of KOOS's 42 items and RMDQ's 24 sentences is the published one, word for word, kept
as data in rehab/clinical/questionnaires.py (its sources are named there); `ITEM_TEXTS` reads it.
A measure whose items are not all there is not offered as a form: the portal says the
questionnaire is done with the physiotherapist instead. The answers each form gives, and which
field a service error is about, are the core's (rehab.web_forms), as on the dashboard's forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import questionnaires
from rehab.web_forms import (
    PSFS_ACTIVITY_MAX,
    PSFS_ROWS,
    AnswersForm,
    KoosAnswers,
    NprsAnswers,
    PsfsAnswers,
    RmdqAnswers,
    koos_headings,
)

# --- words ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureWords:
    name: str  # what the patient calls it
    minutes: int  # about how long it takes
    about: str  # one sentence: what it asks


MEASURE_WORDS: dict[str, MeasureWords] = {
    "koos": MeasureWords(
        "Knee questionnaire (KOOS)",
        10,
        "Questions about your knee: pain, stiffness, everyday activities, sport and how your "
        "knee affects your life.",
    ),
    "rmdq": MeasureWords(
        "Back questionnaire (Roland-Morris)",
        5,
        "Sentences about how your back pain affects your day; you tick the ones that describe "
        "you today.",
    ),
    "nprs": MeasureWords("Pain score", 1, "One question: how strong your pain is, from 0 to 10."),
    "psfs": MeasureWords(
        "Everyday activities (PSFS)",
        5,
        "You name a few activities that are hard for you because of your problem, and score how "
        "well you can do each one.",
    ),
}

SUBSCALE_WORDS: dict[str, str] = {
    clinical_outcomes.TOTAL: "Score",
    "pain": "Pain",
    "symptoms": "Symptoms",
    "adl": "Everyday activities",
    "sport_rec": "Sport and leisure",
    "qol": "Quality of life",
}


def measure_words(code: str) -> MeasureWords:
    known = MEASURE_WORDS.get(code)
    if known is not None:
        return known
    measure = clinical_outcomes.MEASURES.get(code)
    return MeasureWords(measure.name if measure else code.upper(), 5, "")


def number(value: float | None) -> str:
    """12.0 as "12", 12.5 as "12.5": scores are whole numbers or have one decimal."""
    if value is None:
        return "not scored"
    return f"{value:.1f}".rstrip("0").rstrip(".")


DIRECTION_WORDS: dict[str, str] = {
    "nprs": "A lower number is better: 0 means no pain, 10 the worst pain you can imagine.",
    "koos": "A higher score is better: scores go from 0 to 100, and 100 means no knee problems.",
    "rmdq": "A lower score is better: scores go from 0 to 24, and 0 means your back does not "
    "get in the way of your day.",
    "psfs": "A higher score is better: it is the average of your activities' scores, from 0 "
    "(you cannot do them) to 10 (as well as before your problem).",
}


def direction_words(code: str) -> str:
    """Which way is better, for a patient reading their scores."""
    if code in DIRECTION_WORDS:
        return DIRECTION_WORDS[code]
    measure = clinical_outcomes.get_measure(code)
    better = "higher" if measure.higher_is_better else "lower"
    return (
        f"A {better} score is better: scores go from {number(measure.minimum)} to "
        f"{number(measure.maximum)}."
    )


def change_words(change: clinical_outcomes.Change) -> str:
    """A change since the first answers, in plain words: its size, its direction and whether
    it is big enough to matter (the measure's meaningful-change threshold)."""
    if change.improvement is None or change.delta is None:
        return "not enough answers to compare yet"
    size = abs(change.delta)
    points = f"{number(size)} point" + ("" if size == 1 else "s")
    if change.improvement > 0:
        if change.meaningful:
            return f"better by {points} — a meaningful improvement"
        return f"better by {points} — a small change so far"
    if change.improvement < 0:
        if change.worsened:
            return f"worse by {points} — worth talking about with your physiotherapist"
        return f"worse by {points} — a small change"
    return "no change"


# --- item texts ----------------------------------------------------------------------------------

# The published item wording, one entry per item code of rehab.clinical.outcomes (KOOS: koos.nu,
# English version LK1.0; RMDQ: Roland & Morris 1983, the 24-item English original):
#   "koos": {"P1": ("<question>", ("<answer scored 0>", ..., "<answer scored 4>")), ...}
#   "rmdq": {"R1": "<sentence>", ...}
# A measure is offered as a form only when every one of its items has its text here.
ITEM_TEXTS: dict[str, Mapping[str, Any]] = {
    "koos": questionnaires.KOOS_ITEM_TEXTS,
    "rmdq": questionnaires.RMDQ_ITEM_TEXTS,
}


def available_online(code: str) -> bool:
    """Whether the portal can show this questionnaire as a form."""
    if code in ("nprs", "psfs"):
        return True
    texts = ITEM_TEXTS.get(code, {})
    if code == "koos":
        items = [item for items in clinical_outcomes.KOOS_ITEMS.values() for item in items]
        return all(item in texts for item in items)
    if code == "rmdq":
        return all(item in texts for item in clinical_outcomes.RMDQ_ITEMS)
    return False


# --- forms ---------------------------------------------------------------------------------------

NPRS_CHOICE_WORDS = {0: "0 (no pain)", 10: "10 (the worst pain you can imagine)"}
PSFS_REQUIRED_ROWS = clinical_outcomes.PSFS_MIN_ACTIVITIES
PSFS_SCORE_WORDS = {0: "0 (I cannot do it at all)", 10: "10 (as well as before my problem)"}


@dataclass(frozen=True)
class Section:
    """A group of questions shown under one heading (a fieldset)."""

    title: str
    intro: str
    fields: tuple  # BoundFields
    # When text is printed between the questions (KOOS's P2-P9 follow the sentence they complete):
    # (paragraphs printed first, BoundFields) in order, in place of intro + fields.
    groups: tuple = ()

    @property
    def blocks(self) -> tuple:
        """(paragraphs, fields) pairs, in the order shown."""
        if self.groups:
            return self.groups
        return (((self.intro,) if self.intro else (), self.fields),)


class QuestionnaireForm(AnswersForm):
    # The questionnaire's own instructions, shown above its questions, one paragraph each.
    instructions: tuple[str, ...] = ()
    # Whose questionnaire it is, shown under the form (KOOS is free to use with attribution).
    attribution = ""

    @property
    def has_field_errors(self) -> bool:
        return any(name != NON_FIELD_ERRORS for name in self.errors)

    def sections(self) -> list[Section]:
        return [Section("", "", tuple(self))]


def _choice_field(label: str, choices, *, help_text: str = "", widget=None) -> forms.Field:
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        empty_value=None,
        required=False,
        help_text=help_text,
        widget=widget or forms.RadioSelect,
        error_messages={"invalid_choice": "Please choose one of the answers given."},
    )


class NprsForm(NprsAnswers, QuestionnaireForm):
    score = _choice_field(
        "Think about your pain over the last 24 hours. On average, how strong was it?",
        [(n, NPRS_CHOICE_WORDS.get(n, str(n))) for n in range(clinical_outcomes.NPRS_MAX + 1)],
        help_text="0 means no pain; 10 means the worst pain you can imagine.",
    )

    def message_for(self, key: str, message: str) -> str:
        return "Please choose a number from 0 to 10."


class PsfsForm(PsfsAnswers, QuestionnaireForm):
    def __init__(self, *args, activities: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        scores = [("", "Choose a number")] + [
            (n, PSFS_SCORE_WORDS.get(n, str(n))) for n in range(clinical_outcomes.PSFS_ITEM_MAX + 1)
        ]
        named = list(activities or [])[:PSFS_ROWS]
        for row in range(1, PSFS_ROWS + 1):
            self.fields[f"activity_{row}"] = forms.CharField(
                label="What is the activity?",
                max_length=PSFS_ACTIVITY_MAX,
                required=False,
                error_messages={
                    "max_length": "Please describe the activity in 100 characters or fewer."
                },
                initial=named[row - 1] if row <= len(named) else "",
                help_text=(
                    "For example: climbing stairs, getting out of a car, walking to the shops."
                    if row == 1
                    else ""
                ),
            )
            self.fields[f"score_{row}"] = _choice_field(
                "How well can you do it today?",
                scores,
                widget=forms.Select,
                help_text="0 means you cannot do it at all; 10 means as well as before your "
                "problem.",
            )

    def sections(self) -> list[Section]:
        return [
            Section(
                f"Activity {row}" + (" (optional)" if row > PSFS_REQUIRED_ROWS else ""),
                "",
                (self[f"activity_{row}"], self[f"score_{row}"]),
            )
            for row in range(1, PSFS_ROWS + 1)
        ]

    def message_for(self, key: str, message: str) -> str:
        if key.endswith(".activity"):
            if message.startswith("must"):  # the rule's "must name the activity"
                return "Please write what the activity is, or clear its score."
            return message  # a character or length the service refused, already in words
        if key.endswith(".score"):
            return "Please choose how well you can do this activity, from 0 to 10."
        if key == "activities":
            return (
                f"Please name at least {PSFS_REQUIRED_ROWS} activities (you can add up to "
                f"{PSFS_ROWS}), and score each one."
            )
        return message


def _quoted(headings: list[str]) -> str:
    quoted = [f"“{heading}”" for heading in headings]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


class KoosForm(KoosAnswers, QuestionnaireForm):
    """Built from ITEM_TEXTS, laid out as the printed KOOS: its parts, the sentences printed
    before their questions, each question's five answers in printed order (scored 0 to 4)."""

    instructions = questionnaires.KOOS_INSTRUCTIONS

    def __init__(self, *args, only: tuple[str, ...] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        texts = ITEM_TEXTS["koos"]
        for part in questionnaires.KOOS_PARTS:
            for item in part.items:
                if only is not None and item not in only:
                    continue  # another page's question
                question, options = texts[item]
                self.fields[item] = _choice_field(question, list(enumerate(options)))
        if only is not None and questionnaires.KOOS_PARTS[0].items[0] not in only:
            self.instructions = ()  # printed once, on the first page

    def sections(self) -> list[Section]:
        sections = []
        for part in questionnaires.KOOS_PARTS:
            shown = tuple(self[item] for item in part.items if item in self.fields)
            if not shown:
                continue
            groups = tuple(
                (
                    (lead,) if lead else (),
                    tuple(self[item] for item in items if item in self.fields),
                )
                for lead, items in part.blocks
            )
            sections.append(Section(part.heading, "", shown, groups=groups))
        return sections

    def message_for(self, key: str, message: str) -> str:
        # A subscale with under half of its questions answered cannot be scored; the others are.
        headings = koos_headings(key)
        if headings:
            return f"Please answer at least half of the questions under {_quoted(headings)}."
        return "Please choose one answer."


class RmdqForm(RmdqAnswers, QuestionnaireForm):
    """Built from ITEM_TEXTS: the patient ticks each sentence that describes them today."""

    # The first sentence of the instructions heads the list; the rest are printed under it.
    _HEADING = questionnaires.RMDQ_INSTRUCTIONS[0]
    _INTRO = questionnaires.RMDQ_INSTRUCTIONS[1:]

    def __init__(self, *args, only: tuple[str, ...] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rmdq_items = tuple(
            item for item in clinical_outcomes.RMDQ_ITEMS if only is None or item in only
        )
        for item in self.rmdq_items:
            self.fields[item] = forms.BooleanField(label=ITEM_TEXTS["rmdq"][item], required=False)
        # The instructions under the heading are printed once, on the first page.
        self._intro = self._INTRO if clinical_outcomes.RMDQ_ITEMS[0] in self.rmdq_items else ()

    def sections(self) -> list[Section]:
        return [
            Section(
                self._HEADING,
                "",
                tuple(self),
                groups=((self._intro, tuple(self)),),
            )
        ]

    def message_for(self, key: str, message: str) -> str:
        return "Please tick this sentence if it describes you today."


FORMS: dict[str, type[QuestionnaireForm]] = {
    "nprs": NprsForm,
    "psfs": PsfsForm,
    "koos": KoosForm,
    "rmdq": RmdqForm,
}


def questionnaire_form(
    code: str,
    data=None,
    *,
    previous_answers: dict[str, Any] | None = None,
    page: QuestionPage | None = None,
    initial: dict[str, Any] | None = None,
) -> QuestionnaireForm:
    """The form of a measure that is available online. For PSFS the activities named last time
    are filled in, so the same activities are scored again and the scores can be compared. For
    a questionnaire answered page by page, `page` limits it to that page's questions, with
    `initial` the answers saved so far."""
    form_class = FORMS[code]
    if form_class is PsfsForm:
        activities = [
            str(entry.get("activity", ""))
            for entry in (previous_answers or {}).get("activities", [])
            if isinstance(entry, dict)
        ]
        return PsfsForm(data, activities=activities)
    if page is not None:
        return form_class(data, only=page.items, initial=initial)
    return form_class(data)


# --- pages ---------------------------------------------------------------------------------------

# [I] RMDQ's 24 sentences, this many to a phone screen.
RMDQ_PAGE_SIZE = 8


@dataclass(frozen=True)
class QuestionPage:
    """One page of a long questionnaire: what it is about, and its questions."""

    title: str
    items: tuple[str, ...]
    subscales: tuple[str, ...] = ()  # the parts scored from its questions (KOOS)


def questionnaire_pages(code: str) -> tuple[QuestionPage, ...]:
    """The pages of a questionnaire answered page by page (each saved as it is left), or () for
    one answered on one page. KOOS: one page per scored part (Symptoms and Stiffness together,
    as they are scored together); RMDQ: RMDQ_PAGE_SIZE sentences a page."""
    if code == "koos":
        pages: list[QuestionPage] = []
        for part in questionnaires.KOOS_PARTS:
            if pages and pages[-1].subscales == (part.subscale,):
                last = pages[-1]
                pages[-1] = QuestionPage(
                    f"{last.title} and {part.heading}", last.items + part.items, last.subscales
                )
            else:
                pages.append(QuestionPage(part.heading, part.items, (part.subscale,)))
        return tuple(pages)
    if code == "rmdq":
        items = tuple(clinical_outcomes.RMDQ_ITEMS)
        return tuple(
            QuestionPage(
                f"Sentences {start + 1} to {min(start + RMDQ_PAGE_SIZE, len(items))}",
                items[start : start + RMDQ_PAGE_SIZE],
            )
            for start in range(0, len(items), RMDQ_PAGE_SIZE)
        )
    return ()


def page_data(page: QuestionPage, answers: dict[str, Any]) -> dict[str, str]:
    """Saved answers as the page's form would have posted them (a tick as "on", a choice as its
    number), so that a finished questionnaire's refusal is shown on its page, filled in."""
    data = {}
    for item in page.items:
        value = answers.get(item)
        if value is True:
            data[item] = "on"
        elif value is not None and value is not False:
            data[item] = str(value)
    return data


def page_of_error(pages: tuple[QuestionPage, ...], keys) -> int:
    """The first page a finished questionnaire's refusal is about (a question or a KOOS part),
    the last page when none is."""
    for number, page in enumerate(pages):
        if any(key in page.items or key in page.subscales for key in keys):
            return number
    return len(pages) - 1
