"""The portal's session log and next-morning pain forms.

Fields carry the service's keyword names (rehab.services.session_log), so a RehabError's field
errors land on the field the patient has to correct. The forms only parse what was typed; the
rules (no future date, one log a day, a paused plan) are the service's.
"""

from __future__ import annotations

from django import forms

from rehab.clinical.levels import KNEE_CONDITIONS, SETTINGS, loggable_settings
from rehab.models import DATE_RANGE, SETTING_CHOICES, SessionLog


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
ADVERSE_EVENT_FIELDS = tuple(name for name, _ in ADVERSE_EVENT_LABELS)
PAIN_FIELDS = ("pain_before", "pain_worst", "pain_after")


def _scale(label: str, choices, required_message: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": required_message,
            "invalid_choice": "Choose a number from 0 to 10.",
        },
    )


class SessionLogForm(forms.Form):
    date = forms.DateField(
        validators=DATE_RANGE,
        label="Date of your walk",
        help_text="Today, unless you are logging an earlier walk.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the date of your walk.",
            "invalid": "Enter a real date, for example 2 March 2026.",
        },
    )
    minutes_done = forms.IntegerField(
        label="Minutes you walked",
        min_value=1,
        max_value=180,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 180}),
        error_messages={
            "required": "Enter how many minutes you walked.",
            "invalid": "Enter a whole number of minutes, for example 10.",
            "min_value": "Enter at least 1 minute.",
            "max_value": "Enter 180 minutes or fewer.",
        },
    )
    setting = forms.ChoiceField(
        label="Where you walked",
        choices=SETTING_CHOICES,
        error_messages={
            "required": "Choose where you walked.",
            "invalid_choice": (
                "Choose where you walked from the list: it shows the places your plan allows."
            ),
        },
    )
    speed_kmh = forms.DecimalField(
        label="Speed in km/h",
        required=False,
        min_value=0,
        max_value=10,
        max_digits=3,
        decimal_places=1,
        help_text=(
            "The number on the treadmill, if you used one. Leave it empty if you do not know it."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1", "min": 0}),
        error_messages={
            "invalid": "Enter a number, for example 1.5.",
            "min_value": "Enter 0 or more.",
            "max_value": "Enter 10 km/h or less.",
            "max_decimal_places": "Use at most one number after the point, for example 1.5.",
            "max_digits": "Enter 10 km/h or less.",
        },
    )
    incline_pct = forms.DecimalField(
        label="Treadmill slope in %",
        required=False,
        min_value=0,
        max_value=20,
        max_digits=3,
        decimal_places=1,
        help_text="Leave it at 0 if the treadmill was flat.",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5", "min": 0}),
        error_messages={
            "invalid": "Enter a number, for example 5.",
            "min_value": "Enter 0 or more.",
            "max_value": "Enter 20 % or less.",
            "max_decimal_places": "Use at most one number after the point.",
            "max_digits": "Enter 20 % or less.",
        },
    )
    pain_before = _scale(
        "Pain before you started",
        PAIN_CHOICES,
        "Choose how much pain you had before you started (0 means none).",
    )
    pain_worst = _scale(
        "Worst pain while walking",
        PAIN_CHOICES,
        "Choose your worst pain while walking (0 means none).",
    )
    pain_after = _scale(
        "Pain just after",
        PAIN_CHOICES,
        "Choose how much pain you had just after (0 means none).",
    )
    effort = _scale(
        "How hard it felt", EFFORT_CHOICES, "Choose how hard the walk felt (0 means not at all)."
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
        show_swelling: bool = True,
        show_incline: bool = True,
        settings: tuple[str, ...] | None = None,
        **kw,
    ):
        super().__init__(*args, **kw)
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        if settings is not None:
            # Only where the plan lets the patient walk: a forged choice is "not one of the
            # choices", a form error like any other.
            self.fields["setting"].choices = [(code, SETTINGS[code]) for code in settings]
        if not show_swelling:
            del self.fields["swelling"]
        if not show_incline:
            del self.fields["incline_pct"]

    def service_kwargs(self) -> dict:
        """The cleaned values as services.session_log's keyword arguments."""
        data = dict(self.cleaned_data)
        speed = data.pop("speed_kmh", None)
        incline = data.pop("incline_pct", None)
        data["speed_kmh"] = None if speed is None else float(speed)
        data["incline_pct"] = 0 if incline is None else float(incline)
        data.setdefault("swelling", SessionLog.Swelling.NONE)
        return data

    def scale_fields(self):
        return [self[name] for name in (*PAIN_FIELDS, "effort")]

    def event_fields(self):
        return [self[name] for name in ADVERSE_EVENT_FIELDS]


class NextMorningPainForm(forms.Form):
    pain = _scale(
        "Your pain this morning",
        PAIN_CHOICES,
        "Choose how much pain you have this morning (0 means none).",
    )


def log_form_for(*, plan, today, data=None) -> SessionLogForm:
    """The log form for a plan: prefilled with today's prescription; the settings the plan
    allows at its level only (rehab.clinical.levels.loggable_settings); the swelling question
    only for knee conditions, the slope only when the plan prescribes one."""
    level = plan.current_prescription().level
    initial = {"date": today, "minutes_done": level.minutes, "setting": level.setting}
    if level.speed_kmh is not None:
        initial["speed_kmh"] = f"{level.speed_kmh:g}"
    if level.incline_pct:
        initial["incline_pct"] = f"{level.incline_pct:g}"
    return SessionLogForm(
        data,
        initial=initial,
        today=today,
        show_swelling=plan.condition in KNEE_CONDITIONS,
        show_incline=bool(level.incline_pct),
        settings=loggable_settings(level, plan.constraints_obj),
    )
