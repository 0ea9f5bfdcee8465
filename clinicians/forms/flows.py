"""Forms of the clinician's flows: patient details, screening, assigning and managing a plan.

They parse and check the shape of what was typed; the clinical rules and every refusal belong to
rehab.services, whose errors land back on these forms (rehab.web.apply_errors).
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms

from rehab.clinical import screening as clinical_screening
from rehab.clinical.levels import KNEE_CONDITIONS
from rehab.models import CONDITION_CHOICES, DATE_RANGE, Patient

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

# Offered first; a patient's or clinic's own zone is added when it is not among them.
COMMON_TIMEZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Zurich",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Copenhagen",
    "Europe/Oslo",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Helsinki",
    "Europe/Athens",
    "America/St_Johns",
    "America/Halifax",
    "America/Toronto",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Australia/Melbourne",
    "Pacific/Auckland",
    "UTC",
)

WEEKDAYS = (
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
)


def timezone_choices(*extra: str) -> list[tuple[str, str]]:
    zones = list(COMMON_TIMEZONES)
    known = zoneinfo.available_timezones()
    for zone in extra:
        if zone and zone not in zones and zone in known:
            zones.insert(0, zone)
    return [(zone, zone.replace("_", " ")) for zone in zones]


# --- Patient details --------------------------------------------------------------------------


class PatientForm(forms.Form):
    first_name = forms.CharField(max_length=100, widget=forms.TextInput({"autocomplete": "off"}))
    last_name = forms.CharField(max_length=100, widget=forms.TextInput({"autocomplete": "off"}))
    date_of_birth = forms.DateField(required=False, widget=DATE_INPUT, validators=DATE_RANGE)
    email = forms.EmailField(
        label="E-mail address",
        required=False,
        help_text="Needed for e-mail reminders and for a portal invitation.",
    )
    phone = forms.CharField(
        label="Mobile phone", max_length=32, required=False, help_text="Needed for SMS reminders."
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Where the patient lives: reminders and 'today' follow this zone.",
    )
    condition = forms.ChoiceField(choices=[("", "Choose a condition"), *CONDITION_CHOICES])
    external_id = forms.CharField(
        label="Clinic record number",
        max_length=64,
        required=False,
        help_text="Your own system's number for this patient, if any.",
    )
    reminder_channel = forms.ChoiceField(label="Send reminders by", choices=Patient.Channel.choices)
    reminder_time = forms.TimeField(
        label="Reminder time",
        widget=TIME_INPUT,
        help_text="The patient's local time on session days.",
    )
    reminders_enabled = forms.BooleanField(label="Send session reminders", required=False)

    def __init__(self, *args, default_timezone: str = "UTC", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = self.initial.get("timezone") or default_timezone
        self.fields["timezone"].choices = timezone_choices(default_timezone, current)
        self.fields["timezone"].initial = current
        self.fields["reminders_enabled"].initial = self.initial.get("reminders_enabled", True)
        self.fields["reminder_time"].initial = self.initial.get("reminder_time", "09:00")

    @classmethod
    def initial_for(cls, patient: Patient) -> dict[str, Any]:
        return {name: getattr(patient, name) for name in cls.base_fields}


# --- Screening --------------------------------------------------------------------------------

GROUP_LABELS = {
    "red_flags": (
        "Red flags",
        "Ask these first. A yes to any of them stops backward walking and calls for a referral.",
    ),
    "cardiovascular": ("Heart and blood pressure", ""),
    "general": ("General health", ""),
    "falls": ("Falls", "The CDC STEADI key questions."),
    "knee": ("Knee", ""),
    "low_back": ("Low-back red flags", "Signs of malignancy, infection or fracture."),
    "post_op": ("Recovery after surgery", ""),
    "measurements": ("Measurements", "Optional: leave empty what was not measured."),
}

YES, NO = "yes", "no"
GRADE_LABELS = {"none": "None", "trace": "Trace"}


def screening_items(condition: str) -> list[clinical_screening.Item]:
    """The questions to ask for a condition, in the screening module's order: every item whose
    rule applies to the condition (knee questions for knee conditions only)."""
    required = set(clinical_screening.required_items(condition))
    low_back = set(clinical_screening.LOW_BACK_RED_FLAGS)
    post_op = set(clinical_screening.POST_OP_MILESTONES)
    items = []
    for item in clinical_screening.ITEMS.values():
        if item.kind == "condition":
            continue
        if item.code in required:
            items.append(item)
        elif item.code in low_back or item.code in post_op:
            continue  # these rules do not apply outside their condition
        elif item.group == "knee" and condition not in KNEE_CONDITIONS:
            continue
        else:
            items.append(item)
    return items


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class ScreeningForm(forms.Form):
    """One field per screening question, named by its answer code. Nothing is pre-selected: a
    red flag must be asked, never assumed absent, so an unanswered required question makes the
    verdict incomplete."""

    def __init__(self, *args, condition: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.condition = condition
        self.required_codes = set(clinical_screening.required_items(condition))
        self.items = screening_items(condition)
        for item in self.items:
            self.fields[item.code] = self._field(item)

    def _field(self, item: clinical_screening.Item) -> forms.Field:
        common = {"label": item.label, "required": False}
        if item.kind == "bool":
            return forms.ChoiceField(
                choices=[(YES, "Yes"), (NO, "No")], widget=forms.RadioSelect, **common
            )
        if item.kind == "grade":
            return forms.ChoiceField(
                choices=[(c, GRADE_LABELS.get(c, c)) for c in item.choices],
                widget=forms.RadioSelect,
                **common,
            )
        unit = f" ({item.unit})" if item.unit and item.unit != "points" else ""
        if item.kind == "count":
            return forms.IntegerField(min_value=0, help_text=f"A whole number{unit}.", **common)
        low, high = _number_text(item.minimum), _number_text(item.maximum)
        return forms.FloatField(
            min_value=item.minimum,
            max_value=item.maximum,
            help_text=f"From {low} to {high}{unit}.",
            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            **common,
        )

    def groups(self) -> list[dict[str, Any]]:
        """The questions grouped as the screening module groups them, red flags first."""
        out = []
        for group in clinical_screening.ITEM_GROUPS:
            fields = [
                {"field": self[item.code], "item": item, "required": item.code in self.required}
                for item in self.items
                if item.group == group
            ]
            if fields:
                label, intro = GROUP_LABELS.get(group, (group.replace("_", " ").title(), ""))
                out.append({"key": group, "label": label, "intro": intro, "fields": fields})
        return out

    @property
    def required(self) -> set[str]:
        return self.required_codes

    def answers(self) -> dict[str, Any]:
        """The given answers as the screening rules take them; unanswered questions are left
        out (the rules then name the required ones as missing)."""
        answers: dict[str, Any] = {}
        for item in self.items:
            value = self.cleaned_data.get(item.code)
            if value in (None, ""):
                continue
            if item.kind == "bool":
                value = value == YES
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            answers[item.code] = value
        return answers

    @staticmethod
    def initial_from(answers: dict[str, Any]) -> dict[str, Any]:
        """A previous screening's answers as this form's initial values."""
        initial = {}
        for code, value in answers.items():
            if isinstance(value, bool):
                initial[code] = YES if value else NO
            elif value is not None:
                initial[code] = value
        return initial


# --- Assigning a protocol ---------------------------------------------------------------------


class AssignForm(forms.Form):
    # Hidden: the protocol is chosen (and its levels previewed) above the form.
    protocol = forms.TypedChoiceField(coerce=int, widget=forms.HiddenInput)
    start_date = forms.DateField(widget=DATE_INPUT, validators=DATE_RANGE)
    schedule_days = forms.TypedMultipleChoiceField(
        label="Session days",
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one day."},
    )
    auto_apply = forms.BooleanField(
        label="Apply advance and regress suggestions at once, without waiting for my approval",
        required=False,
    )
    override_reason = forms.CharField(
        label="Reason for overriding the block",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, protocols: list, show_override: bool, min_override: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.protocols = {protocol.pk: protocol for protocol in protocols}
        self.fields["protocol"].choices = [(pk, pk) for pk in self.protocols]
        if show_override:
            self.fields["override_reason"].help_text = (
                f"The screening blocks backward walking. Say, in at least {min_override} "
                "characters, why it is safe to start anyway; the reason is kept with the plan."
            )
        else:
            del self.fields["override_reason"]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "protocol": self.protocols[data["protocol"]],
            "start_date": data["start_date"],
            "schedule_days": list(data["schedule_days"]),
            "auto_apply": data["auto_apply"],
            "override_reason": data.get("override_reason", ""),
        }


# --- Managing a plan --------------------------------------------------------------------------


def _reason(label: str, help_text: str = "", required: str = "") -> forms.CharField:
    """A reason field; `required` is the message for a missing one (the service says the same,
    so a form and an API client read one rule)."""
    return forms.CharField(
        label=label,
        max_length=300,
        required=bool(required),
        help_text=help_text,
        error_messages={"required": required} if required else None,
    )


class PauseForm(forms.Form):
    reason = _reason("Why pause?", "Shown on the plan.")


class ResumeForm(forms.Form):
    reason = _reason("Note", "Shown on the plan.")
    override_reason = forms.CharField(
        label="Reason for overriding the screening's block",
        required=False,
        help_text="Needed only when the current screening blocks backward walking.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, show_override: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not show_override:
            del self.fields["override_reason"]


class SetLevelForm(forms.Form):
    level = forms.TypedChoiceField(label="Move to level", coerce=int)
    reason = _reason("Why?", "Kept with the plan's history.", "Say why the level is changed.")

    def __init__(self, *args, level_names: list[str], current: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [
            (index, f"{index + 1}. {name}" + (" (current)" if index == current else ""))
            for index, name in enumerate(level_names)
        ]
        self.fields["level"].initial = current


class CompleteForm(forms.Form):
    reason = _reason("Note", "Shown on the plan.")


class DiscontinueForm(forms.Form):
    reason = _reason("Why discontinue?", "Kept with the plan.", "Say why the plan is discontinued.")


class AutoApplyForm(forms.Form):
    auto_apply = forms.BooleanField(
        label="Apply advance and regress suggestions at once, without waiting for approval",
        required=False,
    )
