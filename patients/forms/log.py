"""The portal's session log and next-morning pain forms.

Fields carry the service's keyword names (rehab.services.session_log), so a RehabError's field
errors land on the field the patient has to correct. The forms only parse what was typed; the
rules (no future date, one log a day, a paused plan) are the service's, and the fields' ranges
and the parsing are the core's (rehab.web_forms), which the dashboard's forms build on too.
"""

from __future__ import annotations

from django import forms

from rehab.clinical.levels import KNEE_CONDITIONS, SETTINGS, loggable_settings
from rehab.models import SETTING_CHOICES, SessionLog
from rehab.web_forms import (
    PAIN_FIELDS,
    SessionForm,
    date_field,
    incline_field,
    minutes_field,
    prescription_initial,
    speed_field,
)


def _pain_word(score: int) -> str:
    if score == 0:
        return "no pain"
    if score <= 3:
        return "mild"
    if score <= 6:
        return "moderate"
    return "severe"


# "3 — mild": the number and its word, so a screen reader says both.
PAIN_CHOICES = [(str(n), f"{n} — {_pain_word(n)}") for n in range(11)]

# Borg CR10 on whole numbers, with the scale's anchors and in-between words for 6, 8 and 9.
EFFORT_WORDS = {
    0: "nothing at all",
    1: "very light",
    2: "light",
    3: "moderate",
    4: "somewhat hard",
    5: "hard",
    6: "between hard and very hard",
    7: "very hard",
    8: "very, very hard",
    9: "almost as hard as possible",
    10: "as hard as possible",
}
EFFORT_CHOICES = [(str(n), f"{n} — {word}") for n, word in EFFORT_WORDS.items()]

SWELLING_CHOICES = [
    (SessionLog.Swelling.NONE, "No swelling"),
    (SessionLog.Swelling.SAME, "The same as usual"),
    (SessionLog.Swelling.MORE, "More than usual"),
]

ADVERSE_EVENT_LABELS = (
    ("fall", "I fell"),
    ("near_fall", "I nearly fell"),
    ("dizziness", "I felt dizzy"),
    ("chest_pain", "I had chest pain"),
)


# The words under a 0-10 scale, at 0, 5 and 10: the scale shows large numbers, and each number's
# own words ("3 — mild") are its accessible name and are shown once chosen.
PAIN_ANCHORS = ("no pain", "moderate", "worst imaginable")
EFFORT_ANCHORS = ("nothing at all", "hard", "as hard as possible")


def _scale(label: str, choices, required_message: str, anchors) -> forms.TypedChoiceField:
    field = forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": required_message,
            "invalid_choice": "Choose a number from 0 to 10.",
        },
    )
    # Read by patients/log_scale.html, which draws the field as one row of 0-10.
    field.anchors = anchors
    return field


class SessionLogForm(SessionForm):
    date = forms.DateField()  # replaced in __init__ (its maximum is the patient's today)
    minutes_done = minutes_field(
        "Minutes you walked", required="Enter how many minutes you walked."
    )
    setting = forms.ChoiceField(
        label="Where you walked",
        choices=SETTING_CHOICES,
        # Radios, not a select: at 360 px a select cut "Treadmill, one hand or light touch on
        # the rail" off after "one hand or l"; a radio's label wraps.
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose where you walked.",
            "invalid_choice": (
                "Choose where you walked from the list: it shows the places your plan allows."
            ),
        },
    )
    speed_kmh = speed_field(
        "Speed in km/h",
        help_text=(
            "The number on the treadmill, if you used one. Leave it empty if you do not know it."
        ),
        out_of_range="Enter a speed between 0 and 10 km/h, for example 2.5.",
        error_messages={
            "invalid": "Enter a number, for example 1.5.",
            "max_decimal_places": "Use at most one number after the point, for example 1.5.",
        },
    )
    incline_pct = incline_field(
        "Treadmill slope in %",
        help_text="Leave it at 0 if the treadmill was flat.",
        # "%%": Django %-formats a validator's message with its params, and a bare "% o" in
        # "20 % or" raised a TypeError (a 500) for a patient who typed a slope of 100.
        out_of_range=(
            "Enter a slope between 0 and 20 %%, for example 5. Use 0 if the treadmill was flat."
        ),
        error_messages={
            "invalid": "Enter a number, for example 5.",
            "max_decimal_places": "Use at most one number after the point, for example 2.5.",
        },
    )
    pain_before = _scale(
        "Pain before you started",
        PAIN_CHOICES,
        "Choose how much pain you had before you started (0 means none).",
        PAIN_ANCHORS,
    )
    pain_worst = _scale(
        "Worst pain while walking",
        PAIN_CHOICES,
        "Choose your worst pain while walking (0 means none).",
        PAIN_ANCHORS,
    )
    pain_after = _scale(
        "Pain just after",
        PAIN_CHOICES,
        "Choose how much pain you had just after (0 means none).",
        PAIN_ANCHORS,
    )
    effort = _scale(
        "How hard it felt",
        EFFORT_CHOICES,
        "Choose how hard the walk felt (0 means not at all).",
        EFFORT_ANCHORS,
    )
    swelling = forms.ChoiceField(
        label="Knee swelling after walking",
        choices=SWELLING_CHOICES,
        initial=SessionLog.Swelling.NONE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how swollen your knee is."},
    )
    fall = forms.BooleanField(label="I fell", required=False)
    near_fall = forms.BooleanField(label="I nearly fell", required=False)
    dizziness = forms.BooleanField(label="I felt dizzy", required=False)
    chest_pain = forms.BooleanField(label="I had chest pain", required=False)
    notes = forms.CharField(
        label="Anything else your physiotherapist should know",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Please keep this to 2000 characters or fewer."},
    )

    def __init__(
        self,
        *args,
        today,
        show_incline: bool = True,
        settings: tuple[str, ...] | None = None,
        **kw,
    ):
        super().__init__(*args, **kw)
        # In the declared field's place: the date first.
        self.fields["date"] = date_field(
            "Date of your walk",
            today=today,
            help_text="Today, unless you are logging an earlier walk.",
            required="Enter the date of your walk.",
        )
        if settings is not None:
            # Only where the plan lets the patient walk: a forged choice is "not one of the
            # choices", a form error like any other.
            self.fields["setting"].choices = [(code, SETTINGS[code]) for code in settings]
        if not show_incline:
            del self.fields["incline_pct"]

    def scale_fields(self):
        return [self[name] for name in (*PAIN_FIELDS, "effort")]


class NextMorningPainForm(forms.Form):
    pain = _scale(
        "Your pain this morning",
        PAIN_CHOICES,
        "Choose how much pain you have this morning (0 means none).",
        PAIN_ANCHORS,
    )


def log_form_for(*, plan, today, data=None) -> SessionLogForm:
    """The log form for a plan: prefilled with today's prescription; the settings the plan
    allows at its level only (rehab.clinical.levels.loggable_settings); the swelling question
    only for knee conditions, the slope only when the plan prescribes one."""
    level = plan.current_prescription().level
    return SessionLogForm(
        data,
        initial=prescription_initial(level),
        today=today,
        show_swelling=plan.condition in KNEE_CONDITIONS,
        show_incline=bool(level.incline_pct),
        settings=loggable_settings(level, plan.constraints_obj),
    )
