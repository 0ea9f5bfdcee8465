"""Form pieces both doors build on: the session log's fields and keyword arguments, and the
outcome questionnaires' answers, so the dashboard and the portal parse what was typed alike.

Each door declares its fields in its own words (a clinician's "Minutes walked backwards", a
patient's "Minutes you walked"); what the two must agree on is here: the ranges the model and
services.session_log hold, the shape of services.session_log's and outcome_record's arguments,
and which form field an outcome_record error is about.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import questionnaires
from rehab.models import DATE_RANGE, SessionLog

DATE_INVALID = "Enter a real date, for example 2 March 2026."

# --- Session log ---------------------------------------------------------------------------------

# services.session_log's keywords for what happened during a session, in the order shown.
ADVERSE_EVENT_FIELDS = ("fall", "near_fall", "dizziness", "chest_pain")
PAIN_FIELDS = ("pain_before", "pain_worst", "pain_after")


def date_field(
    label: str, *, today: dt.date, help_text: str = "", required: str = "Enter the date."
) -> forms.DateField:
    """A day no later than `today` (the patient's or the clinic's), as a date picker."""
    field = forms.DateField(
        label=label,
        validators=DATE_RANGE,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date", "max": today.isoformat()}, format="%Y-%m-%d"),
        error_messages={"required": required, "invalid": DATE_INVALID},
    )
    field.initial = today
    return field


def minutes_field(label: str, *, required: str) -> forms.IntegerField:
    """The minutes walked, within SessionLog.minutes_done's range."""
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=180,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": required,
            "invalid": "Enter a whole number of minutes, for example 10.",
            "min_value": "Enter at least 1 minute.",
            "max_value": "Enter 180 minutes or fewer.",
        },
    )


class Amount(forms.DecimalField):
    """A number with a decimal point that a person types (a speed, a slope).

    Every way of being out of range (too big, negative, too many digits before the point) is
    one sentence naming the range, said once: Django's validators otherwise add their own words
    ("Ensure that there are no more than 2 digits before the decimal point") beside ours.
    """

    RANGE_CODES = ("min_value", "max_value", "max_digits", "max_whole_digits")

    def __init__(self, *, out_of_range: str, error_messages: dict | None = None, **kwargs):
        messages = dict(error_messages or {})
        messages.update(dict.fromkeys(self.RANGE_CODES, out_of_range))
        super().__init__(error_messages=messages, **kwargs)

    def run_validators(self, value):
        try:
            super().run_validators(value)
        except ValidationError as error:
            # Several validators may say the same sentence (100 is both too big and too long).
            raise ValidationError(list(dict.fromkeys(error.messages))) from None


def _amount(label: str, *, maximum: int, step: str, help_text: str, **messages) -> Amount:
    return Amount(
        label=label,
        required=False,
        min_value=0,
        max_value=maximum,
        max_digits=3,
        decimal_places=1,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": step}),
        **messages,
    )


def speed_field(label: str, *, help_text: str = "", **messages) -> Amount:
    """The treadmill's speed in km/h, empty when not measured (SessionLog.speed_kmh's range)."""
    return _amount(label, maximum=10, step="0.1", help_text=help_text, **messages)


def incline_field(label: str, *, help_text: str = "", **messages) -> Amount:
    """The treadmill's slope in %, empty for flat (SessionLog.incline_pct's range). A message
    with a per cent sign writes it "%%": Django %-formats a validator's message with its params."""
    return _amount(label, maximum=20, step="0.5", help_text=help_text, **messages)


class SessionForm(forms.Form):
    """A session as services.session_log takes it. A door's form declares the fields, named
    after session_log's keywords, in its own words; this parses them the same way for both."""

    def __init__(self, *args, show_swelling: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not show_swelling:
            del self.fields["swelling"]

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned values as services.session_log's keyword arguments."""
        data = dict(self.cleaned_data)
        speed = data.pop("speed_kmh", None)
        incline = data.pop("incline_pct", None)
        data["speed_kmh"] = None if speed is None else float(speed)
        data["incline_pct"] = 0 if incline is None else float(incline)
        data.setdefault("swelling", SessionLog.Swelling.NONE)
        return data

    def event_fields(self):
        return [self[name] for name in ADVERSE_EVENT_FIELDS]


def prescription_initial(level) -> dict[str, Any]:
    """A session form prefilled with what the level prescribes."""
    initial: dict[str, Any] = {"minutes_done": level.minutes, "setting": level.setting}
    if level.speed_kmh is not None:
        initial["speed_kmh"] = f"{level.speed_kmh:g}"
    if level.incline_pct:
        initial["incline_pct"] = f"{level.incline_pct:g}"
    return initial


# --- Outcome questionnaires ----------------------------------------------------------------------

PSFS_ROWS = clinical_outcomes.PSFS_MAX_ACTIVITIES
PSFS_ACTIVITY_MAX = 100


class AnswersForm(forms.Form):
    """A questionnaire parsed into the answers outcome_record scores; rehab.web's
    apply_outcome_errors puts its refusal back through field_for and message_for."""

    measure = ""

    def answers(self) -> dict[str, Any]:
        raise NotImplementedError

    def field_for(self, key: str) -> str | None:
        """The form field an outcome_record error key names (None: the form as a whole)."""
        return key if key in self.fields else None

    def message_for(self, key: str, message: str) -> str:
        return message


class NprsAnswers(AnswersForm):
    measure = "nprs"

    def answers(self) -> dict[str, Any]:
        return {"score": self.cleaned_data.get("score")}


class PsfsAnswers(AnswersForm):
    """Rows of activity_<n> and score_<n>; an empty row is not used."""

    measure = "psfs"
    _ITEM = re.compile(r"^activities\[(\d+)\]\.(activity|score)$")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._rows: list[int] = []  # the form row of each activity sent, in order

    def answers(self) -> dict[str, Any]:
        activities, self._rows = [], []
        for row in range(1, PSFS_ROWS + 1):
            name = (self.cleaned_data.get(f"activity_{row}") or "").strip()
            score = self.cleaned_data.get(f"score_{row}")
            if not name and score is None:
                continue  # an empty row is simply not used
            activities.append({"activity": name, "score": score})
            self._rows.append(row)
        return {"activities": activities}

    def field_for(self, key: str) -> str | None:
        match = self._ITEM.match(key)
        if match is None or int(match.group(1)) >= len(self._rows):
            return None
        return f"{match.group(2)}_{self._rows[int(match.group(1))]}"


KOOS_ITEMS = frozenset(item for part in questionnaires.KOOS_PARTS for item in part.items)


def koos_headings(subscale: str) -> list[str]:
    """The printed parts a KOOS subscale is scored from (Symptoms and Stiffness are one)."""
    return [part.heading for part in questionnaires.KOOS_PARTS if part.subscale == subscale]


class KoosAnswers(AnswersForm):
    """One field per KOOS item shown, named by its code; an unanswered one is left out."""

    measure = "koos"
    attribution = questionnaires.KOOS_ATTRIBUTION

    def answers(self) -> dict[str, Any]:
        return {
            item: value
            for item, value in self.cleaned_data.items()
            if item in KOOS_ITEMS and value is not None
        }


class RmdqAnswers(AnswersForm):
    """One tick box per sentence shown (`rmdq_items`); an unticked one is a "no", as on the
    paper form, which asks for the sentences that apply."""

    measure = "rmdq"
    attribution = questionnaires.RMDQ_ATTRIBUTION
    rmdq_items: tuple[str, ...] = clinical_outcomes.RMDQ_ITEMS

    def answers(self) -> dict[str, Any]:
        return {item: bool(self.cleaned_data.get(item)) for item in self.rmdq_items}
