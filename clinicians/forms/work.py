"""Forms of the clinic's own work on a patient's record: a supervised session, an outcome measure
entered by the clinician, a dated clinical note.

They parse what was typed into the keyword arguments of the same services the portal and the
API call (rehab.services.session_log, outcome_record, clinical_note_add), so the rules are one;
a service's refusal comes back onto these forms, next to the field it is about.

The fields' ranges, the services' arguments and the questionnaires' answers are the core's
(rehab.web_forms), which the portal's forms build on too; the words here are the clinician's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import questionnaires
from rehab.clinical.levels import KNEE_CONDITIONS
from rehab.models import NOTE_MAX, SETTING_CHOICES, SessionLog
from rehab.web_forms import (
    PSFS_ACTIVITY_MAX,
    PSFS_ROWS,
    AnswersForm,
    KoosAnswers,
    NprsAnswers,
    PsfsAnswers,
    RmdqAnswers,
    SessionForm,
    date_field,
    incline_field,
    koos_headings,
    minutes_field,
    prescription_initial,
    speed_field,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _scale(label: str, *, required: bool = True, help_text: str = "") -> forms.TypedChoiceField:
    """A 0-10 score as a select: compact for a clinician typing at the desk."""
    return forms.TypedChoiceField(
        label=label,
        choices=[("", "Choose 0 to 10"), *((n, str(n)) for n in range(11))],
        coerce=int,
        empty_value=None,
        required=required,
        help_text=help_text,
        error_messages={
            "required": "Choose a score from 0 to 10.",
            "invalid_choice": "Choose a score from 0 to 10.",
        },
    )


# --- Supervised session -----------------------------------------------------------------------

ADVERSE_EVENTS = (
    ("fall", "Fall"),
    ("near_fall", "Near fall"),
    ("dizziness", "Dizziness"),
    ("chest_pain", "Chest pain"),
)


class SupervisedSessionForm(SessionForm):
    """A session done with the clinician present. Field names are session_log's keywords."""

    date = forms.DateField()  # replaced in __init__ (its maximum is the patient's today)
    minutes_done = minutes_field("Minutes walked backwards", required="Enter the minutes walked.")
    setting = forms.ChoiceField(
        label="Setting",
        choices=SETTING_CHOICES,
        error_messages={"required": "Choose the setting.", "invalid_choice": "Choose a setting."},
    )
    speed_kmh = speed_field(
        "Speed (km/h)",
        help_text="Empty when not measured (overground at a comfortable pace).",
        out_of_range="Enter a speed from 0 to 10 km/h.",
    )
    # "%%": Django %-formats a validator's message with its params (rehab.web_forms).
    incline_pct = incline_field("Incline (%)", out_of_range="Enter an incline from 0 to 20 %%.")
    pain_before = _scale("Pain before (NRS 0-10)")
    pain_worst = _scale("Worst pain during (NRS 0-10)")
    pain_after = _scale("Pain just after (NRS 0-10)")
    effort = _scale("Effort (Borg CR10, 0-10)")
    swelling = forms.ChoiceField(
        label="Knee swelling after the session",
        choices=SessionLog.Swelling.choices,
        initial=SessionLog.Swelling.NONE,
    )
    pain_next_morning = _scale(
        "Pain the next morning (NRS 0-10)",
        required=False,
        help_text="Only for a session on an earlier day, when the patient has told you.",
    )
    fall = forms.BooleanField(label="Fall", required=False)
    near_fall = forms.BooleanField(label="Near fall", required=False)
    dizziness = forms.BooleanField(label="Dizziness", required=False)
    chest_pain = forms.BooleanField(label="Chest pain", required=False)
    notes = forms.CharField(
        label="Session notes",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, today, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # In the declared field's place: the date first.
        self.fields["date"] = date_field(
            "Date of the session", today=today, help_text="The patient's local date."
        )

    def main_fields(self):
        names = ("date", "minutes_done", "setting", "speed_kmh", "incline_pct")
        return [self[name] for name in names]

    def score_fields(self):
        names = ("pain_before", "pain_worst", "pain_after", "effort", "swelling")
        return [self[name] for name in names if name in self.fields]


def supervised_session_form(*, plan, today, data=None) -> SupervisedSessionForm:
    """Prefilled with the plan's current prescription (within its constraints)."""
    return SupervisedSessionForm(
        data,
        initial=prescription_initial(plan.current_prescription().level),
        today=today,
        show_swelling=plan.condition in KNEE_CONDITIONS,
    )


# --- Outcome measures -------------------------------------------------------------------------


class OutcomeForm(AnswersForm):
    """The date it was taken, then the measure's own fields (each subclass)."""

    attribution = ""  # whose questionnaire it is, shown under the form
    intro = ""  # how to fill it in, for the clinician, shown above the questions

    def __init__(self, *args, today, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_on"] = date_field("Date taken", today=today)
        self.order_fields(["taken_on"])

    def message_for(self, key: str, message: str) -> str:
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")

    def groups(self) -> list[tuple[str, str, list]]:
        """(heading, text printed before, bound fields) in the order shown."""
        return [("", "", [self[name] for name in self.fields if name != "taken_on"])]


class NprsForm(NprsAnswers, OutcomeForm):
    score = _scale(
        "Average pain over the last 24 hours (0 = no pain, 10 = worst imaginable)",
    )


class TotalScoreForm(OutcomeForm):
    """ODI and WOMAC: licensed questionnaires the project does not embed; the clinician scores
    the paper form and enters its total. The range is the measure's (rehab.clinical.outcomes)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        measure = clinical_outcomes.MEASURES[self.measure]
        low, high = Decimal(f"{measure.minimum:g}"), Decimal(f"{measure.maximum:g}")
        self.fields["total"] = forms.DecimalField(
            label=f"Total score ({low} to {high})",
            min_value=low,
            max_value=high,
            max_digits=5,
            decimal_places=1,
            help_text="Scored from the licensed paper questionnaire; "
            + ("lower is better." if not measure.higher_is_better else "higher is better."),
            widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
            error_messages={
                "required": "Enter the total score.",
                "invalid": "Enter a number, for example 34.",
                "min_value": f"Enter {low} or more.",
                "max_value": f"Enter {high} or less.",
                "max_decimal_places": "Use at most one decimal.",
            },
        )

    def answers(self) -> dict[str, Any]:
        total = self.cleaned_data.get("total")
        return {clinical_outcomes.TOTAL: None if total is None else float(total)}


class OdiForm(TotalScoreForm):
    measure = "odi"


class WomacForm(TotalScoreForm):
    measure = "womac"


class PsfsForm(PsfsAnswers, OutcomeForm):
    intro = (
        f"The patient names {clinical_outcomes.PSFS_MIN_ACTIVITIES} to {PSFS_ROWS} activities "
        "they find hard and scores each; leave unused rows empty."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for row in range(1, PSFS_ROWS + 1):
            self.fields[f"activity_{row}"] = forms.CharField(
                label=f"Activity {row}", max_length=PSFS_ACTIVITY_MAX, required=False
            )
            self.fields[f"score_{row}"] = _scale(
                f"Activity {row}: score (0 = unable, 10 = as before)", required=False
            )

    def message_for(self, key: str, message: str) -> str:
        if key == "activities":
            return (
                f"Name {clinical_outcomes.PSFS_MIN_ACTIVITIES} to {PSFS_ROWS} activities and "
                "score each one."
            )
        if key.endswith(".activity"):
            return "Name the activity, or clear its score."
        if key.endswith(".score"):
            return "Score this activity from 0 to 10."
        return super().message_for(key, message)

    def groups(self) -> list[tuple[str, str, list]]:
        return [
            (f"Activity {row}", "", [self[f"activity_{row}"], self[f"score_{row}"]])
            for row in range(1, PSFS_ROWS + 1)
        ]


class KoosForm(KoosAnswers, OutcomeForm):
    """The 42 items in the printed order and wording; each answer scores 0 (first) to 4."""

    intro = (
        "Copy the patient's answers from the paper form; leave a question the patient did not "
        "answer as it is. A part with fewer than half of its questions answered is not scored."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for part in questionnaires.KOOS_PARTS:
            for item in part.items:
                question, options = questionnaires.KOOS_ITEM_TEXTS[item]
                self.fields[item] = forms.TypedChoiceField(
                    label=f"{item}. {question}",
                    choices=[("", "Not answered"), *enumerate(options)],
                    coerce=int,
                    empty_value=None,
                    required=False,
                )

    def message_for(self, key: str, message: str) -> str:
        headings = koos_headings(key)
        if headings:
            return f"{' and '.join(headings)}: {message}."
        return super().message_for(key, message)

    def groups(self) -> list[tuple[str, str, list]]:
        return [
            (part.heading if n == 0 else "", lead, [self[item] for item in items])
            for part in questionnaires.KOOS_PARTS
            for n, (lead, items) in enumerate(part.blocks)
        ]


class RmdqForm(RmdqAnswers, OutcomeForm):
    """The 24 sentences; a ticked one scores 1. Unticked means it does not describe the patient
    today, as on the paper form."""

    intro = "Tick each sentence the patient ticked; every sentence left unticked counts as no."

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for item in self.rmdq_items:
            self.fields[item] = forms.BooleanField(
                label=questionnaires.RMDQ_ITEM_TEXTS[item], required=False
            )


OUTCOME_FORMS: dict[str, type[OutcomeForm]] = {
    "nprs": NprsForm,
    "koos": KoosForm,
    "rmdq": RmdqForm,
    "psfs": PsfsForm,
    "odi": OdiForm,
    "womac": WomacForm,
}


# --- Clinical note ----------------------------------------------------------------------------


class ClinicalNoteForm(forms.Form):
    noted_on = forms.DateField()  # replaced in __init__ (its maximum is the patient's today)
    text = forms.CharField(
        label="Note",
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Up to {NOTE_MAX:,} characters. Shown on this page and in the clinician's "
        "report; never to the patient.",
        error_messages={
            "required": "Write the note.",
            "max_length": f"Keep the note to {NOTE_MAX:,} characters or fewer.",
        },
    )

    def __init__(self, *args, today, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["noted_on"] = date_field(
            "Date of the note", today=today, help_text="The day the note is about."
        )
        self.order_fields(["noted_on", "text"])
