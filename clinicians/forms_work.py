"""Forms of the clinic's own work on a patient's record: a supervised session, an outcome measure
entered by the clinician, a dated clinical note.

They parse what was typed into the keyword arguments of the same services the portal and the
API call (rehab.services.session_log, outcome_record, clinical_note_add), so the rules are one;
a service's refusal comes back onto these forms, next to the field it is about.

The questionnaire forms are rebuilt here from the core's data (rehab.clinical.questionnaires for
the published KOOS and RMDQ wording, rehab.clinical.outcomes for ranges): the portal has its own,
worded for patients, and the two doors never import each other.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

from rehab import wording
from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import questionnaires
from rehab.clinical.levels import KNEE_CONDITIONS
from rehab.clinical.progression import ADVERSE_EVENTS
from rehab.models import DATE_RANGE, NOTE_MAX, SETTING_CHOICES, SessionLog

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date_field(label: str, *, today, help_text: str = "") -> forms.DateField:
    field = forms.DateField(
        label=label,
        validators=DATE_RANGE,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date", "max": today.isoformat()}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the date.",
            "invalid": "Enter a real date, for example 2 March 2026.",
        },
    )
    field.initial = today
    return field


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


class SupervisedSessionForm(forms.Form):
    """A session done with the clinician present. Field names are session_log's keywords."""

    date = forms.DateField()  # replaced in __init__ (its maximum is the patient's today)
    minutes_done = forms.IntegerField(
        label="Minutes walked backwards",
        min_value=1,
        max_value=180,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Enter the minutes walked.",
            "invalid": "Enter a whole number of minutes, for example 10.",
            "min_value": "Enter at least 1 minute.",
            "max_value": "Enter 180 minutes or fewer.",
        },
    )
    setting = forms.ChoiceField(
        label="Setting",
        choices=SETTING_CHOICES,
        error_messages={"required": "Choose the setting.", "invalid_choice": "Choose a setting."},
    )
    speed_kmh = forms.DecimalField(
        label="Speed (km/h)",
        required=False,
        min_value=0,
        max_value=10,
        max_digits=3,
        decimal_places=1,
        help_text="Empty when not measured (overground at a comfortable pace).",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    incline_pct = forms.DecimalField(
        label="Incline (%)",
        required=False,
        min_value=0,
        max_value=20,
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
    )
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
    # Labelled in __init__, in the words rehab.wording gives the clinician (read at use time).
    fall = forms.BooleanField(required=False)
    near_fall = forms.BooleanField(required=False)
    dizziness = forms.BooleanField(required=False)
    chest_pain = forms.BooleanField(required=False)
    notes = forms.CharField(
        label="Session notes",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, today, show_swelling: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ADVERSE_EVENTS:
            self.fields[name].label = wording.adverse_event(name, wording.CLINICIAN)
        self.fields["date"] = _date_field(
            "Date of the session", today=today, help_text="The patient's local date."
        )
        # Keep the declared order: the date first.
        self.order_fields(["date"])
        if not show_swelling:
            del self.fields["swelling"]

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned values as services.session_log's keyword arguments."""
        data = dict(self.cleaned_data)
        speed, incline = data.pop("speed_kmh", None), data.pop("incline_pct", None)
        data["speed_kmh"] = None if speed is None else float(speed)
        data["incline_pct"] = 0 if incline is None else float(incline)
        data.setdefault("swelling", SessionLog.Swelling.NONE)
        return data

    def main_fields(self):
        names = ("date", "minutes_done", "setting", "speed_kmh", "incline_pct")
        return [self[name] for name in names]

    def score_fields(self):
        names = ("pain_before", "pain_worst", "pain_after", "effort", "swelling")
        return [self[name] for name in names if name in self.fields]

    def event_fields(self):
        return [self[name] for name in ADVERSE_EVENTS]


def supervised_session_form(*, plan, today, data=None) -> SupervisedSessionForm:
    """Prefilled with the plan's current prescription (within its constraints)."""
    level = plan.current_prescription().level
    initial: dict[str, Any] = {"minutes_done": level.minutes, "setting": level.setting}
    if level.speed_kmh is not None:
        initial["speed_kmh"] = f"{level.speed_kmh:g}"
    if level.incline_pct:
        initial["incline_pct"] = f"{level.incline_pct:g}"
    return SupervisedSessionForm(
        data, initial=initial, today=today, show_swelling=plan.condition in KNEE_CONDITIONS
    )


# --- Outcome measures -------------------------------------------------------------------------


class OutcomeForm(forms.Form):
    """The date it was taken, then the measure's own fields (each subclass)."""

    measure = ""
    attribution = ""  # whose questionnaire it is, shown under the form
    intro = ""  # how to fill it in, for the clinician, shown above the questions

    def __init__(self, *args, today, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_on"] = _date_field("Date taken", today=today)
        self.order_fields(["taken_on"])

    def answers(self) -> dict[str, Any]:
        raise NotImplementedError

    def field_for(self, key: str) -> str | None:
        """The form field an outcome_record error key names (None: the form as a whole)."""
        return key if key in self.fields else None

    def message_for(self, key: str, message: str) -> str:
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")

    def groups(self) -> list[tuple[str, str, list]]:
        """(heading, text printed before, bound fields) in the order shown."""
        return [("", "", [self[name] for name in self.fields if name != "taken_on"])]


class NprsForm(OutcomeForm):
    measure = "nprs"
    score = _scale(
        "Average pain over the last 24 hours (0 = no pain, 10 = worst imaginable)",
    )

    def answers(self) -> dict[str, Any]:
        return {"score": self.cleaned_data.get("score")}


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


PSFS_ROWS = clinical_outcomes.PSFS_MAX_ACTIVITIES


class PsfsForm(OutcomeForm):
    measure = "psfs"
    intro = (
        f"The patient names {clinical_outcomes.PSFS_MIN_ACTIVITIES} to {PSFS_ROWS} activities "
        "they find hard and scores each; leave unused rows empty."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for row in range(1, PSFS_ROWS + 1):
            self.fields[f"activity_{row}"] = forms.CharField(
                label=f"Activity {row}", max_length=100, required=False
            )
            self.fields[f"score_{row}"] = _scale(
                f"Activity {row}: score (0 = unable, 10 = as before)", required=False
            )
        self._rows: list[int] = []

    def answers(self) -> dict[str, Any]:
        activities, self._rows = [], []
        for row in range(1, PSFS_ROWS + 1):
            name = (self.cleaned_data.get(f"activity_{row}") or "").strip()
            score = self.cleaned_data.get(f"score_{row}")
            if not name and score is None:
                continue  # an empty row is not used
            activities.append({"activity": name, "score": score})
            self._rows.append(row)
        return {"activities": activities}

    _ITEM = re.compile(r"^activities\[(\d+)\]\.(activity|score)$")

    def field_for(self, key: str) -> str | None:
        match = self._ITEM.match(key)
        if match is None or int(match.group(1)) >= len(self._rows):
            return None
        return f"{match.group(2)}_{self._rows[int(match.group(1))]}"

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


class KoosForm(OutcomeForm):
    """The 42 items in the printed order and wording; each answer scores 0 (first) to 4."""

    measure = "koos"
    attribution = questionnaires.KOOS_ATTRIBUTION
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

    def answers(self) -> dict[str, Any]:
        return {
            item: value
            for item, value in self.cleaned_data.items()
            if item != "taken_on" and value is not None
        }

    def message_for(self, key: str, message: str) -> str:
        headings = [p.heading for p in questionnaires.KOOS_PARTS if p.subscale == key]
        if headings:
            return f"{' and '.join(headings)}: {message}."
        return super().message_for(key, message)

    def groups(self) -> list[tuple[str, str, list]]:
        return [
            (part.heading if n == 0 else "", lead, [self[item] for item in items])
            for part in questionnaires.KOOS_PARTS
            for n, (lead, items) in enumerate(part.blocks)
        ]


class RmdqForm(OutcomeForm):
    """The 24 sentences; a ticked one scores 1. Unticked means it does not describe the patient
    today, as on the paper form."""

    measure = "rmdq"
    attribution = questionnaires.RMDQ_ATTRIBUTION
    intro = "Tick each sentence the patient ticked; every sentence left unticked counts as no."

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for item in clinical_outcomes.RMDQ_ITEMS:
            self.fields[item] = forms.BooleanField(
                label=questionnaires.RMDQ_ITEM_TEXTS[item], required=False
            )

    def answers(self) -> dict[str, Any]:
        return {item: bool(self.cleaned_data.get(item)) for item in clinical_outcomes.RMDQ_ITEMS}


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
        self.fields["noted_on"] = _date_field(
            "Date of the note", today=today, help_text="The day the note is about."
        )
        self.order_fields(["noted_on", "text"])
