"""The protocol library's forms: a clinic's copy, its details, its levels and its
progression thresholds."""

from __future__ import annotations

import dataclasses

from django import forms

from rehab.clinical.progression import ProgressionSettings
from rehab.models import Protocol, ProtocolLevel

LEVEL_FIELDS = [
    "name",
    "minutes",
    "sessions_per_week",
    "speed_kmh",
    "incline_pct",
    "setting",
    "min_days",
    "interval_backward_seconds",
    "interval_forward_seconds",
    "supervised",
    "note",
]

# What each progression threshold means, in the words shown on the pages. Ratios are 0-1.
THRESHOLD_LABELS = {
    "pause_pain": "Pause the plan when any pain score reaches (0-10)",
    "regress_worst_pain_above": "Step back a level when worst pain in a session is above (0-10)",
    "regress_effort": "Step back a level when effort (Borg CR10) reaches (0-10)",
    "hold_adherence_ratio": "Hold unless this share of the planned sessions due was done (0-1)",
    "hold_min_sessions": "Hold with fewer sessions than this in the window",
    "advance_max_worst_pain": "Move on only if worst pain stayed at or below (0-10)",
    "advance_max_median_effort": "Move on only if median effort was at or below (0-10)",
    "advance_min_minutes_ratio": "Move on only if every session reached this share of its "
    "minutes (0-1)",
    "max_advances_per_7_days": "Most level advances in any 7 days",
    "window_days": "Days of logged sessions each review looks at",
}
RATIO_THRESHOLDS = frozenset({"hold_adherence_ratio", "advance_min_minutes_ratio"})


class CopyForm(forms.Form):
    name = forms.CharField(
        label="Name for your clinic's copy",
        max_length=200,
        required=False,
        help_text="Leave empty to use the protocol's name followed by your clinic's name.",
    )


class ProtocolForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    summary = forms.CharField(
        label="Summary",
        required=False,
        max_length=Protocol.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LevelForm(forms.ModelForm):
    """One level. The model's own validators give the limits (minutes 1-120 and so on), the same
    ones the service checks, so the two can never disagree."""

    class Meta:
        model = ProtocolLevel
        fields = LEVEL_FIELDS
        labels = {
            "name": "Name",
            "minutes": "Minutes a session",
            "sessions_per_week": "Sessions a week",
            "speed_kmh": "Speed (km/h)",
            "incline_pct": "Incline (%)",
            "setting": "Setting",
            "min_days": "Minimum days before moving on",
            "interval_backward_seconds": "Interval: seconds backward",
            "interval_forward_seconds": "Interval: seconds forward",
            "supervised": "Supervised by a clinician",
            "note": "Note for the patient",
        }
        help_texts = {
            "speed_kmh": "Leave empty for the patient's own comfortable speed.",
            "interval_backward_seconds": "Give both interval times, or leave both empty for "
            "continuous backward walking.",
        }
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def clean(self):
        cleaned = super().clean()
        backward = cleaned.get("interval_backward_seconds")
        forward = cleaned.get("interval_forward_seconds")
        if (backward is None) != (forward is None):
            missing = (
                "interval_forward_seconds" if backward is not None else "interval_backward_seconds"
            )
            self.add_error(missing, "Give both interval times, or leave both empty.")
        return cleaned

    def level_data(self) -> dict:
        """The level as the service takes it (rehab.clinical.levels.Level.to_dict's shape)."""
        data = self.cleaned_data
        backward = data.get("interval_backward_seconds")
        forward = data.get("interval_forward_seconds")
        return {
            "name": data["name"],
            "minutes": data["minutes"],
            "sessions_per_week": data["sessions_per_week"],
            "speed_kmh": None if data.get("speed_kmh") is None else float(data["speed_kmh"]),
            "incline_pct": float(data.get("incline_pct") or 0),
            "setting": data["setting"],
            "min_days": data["min_days"],
            "interval": (
                None
                if backward is None or forward is None
                else {"backward_seconds": backward, "forward_seconds": forward}
            ),
            "supervised": bool(data.get("supervised")),
            "note": data.get("note") or "",
        }


class BaseLevelFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["ORDER"].label = "Position"
        form.fields["ORDER"].help_text = "Change the numbers to reorder the levels."
        form.fields["DELETE"].label = "Remove this level"


LevelFormSet = forms.formset_factory(
    LevelForm,
    formset=BaseLevelFormSet,
    extra=1,
    can_order=True,
    can_delete=True,
    max_num=40,
    validate_max=True,
)


class ThresholdsForm(forms.Form):
    """The progression thresholds; each value is checked by the clinical rules' own validation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in dataclasses.fields(ProgressionSettings):
            label = THRESHOLD_LABELS.get(field.name, field.name.replace("_", " ").capitalize())
            if field.type in (int, "int"):
                self.fields[field.name] = forms.IntegerField(label=label)
            else:
                self.fields[field.name] = forms.FloatField(
                    label=label, widget=forms.NumberInput(attrs={"step": "any"})
                )

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            try:
                ProgressionSettings.from_dict({name: value})
            except ValueError as exc:
                self.add_error(name, str(exc))
        return cleaned

    def overrides(self) -> dict:
        """Only the values that differ from the defaults, so the stored settings say what the
        clinic chose."""
        defaults = ProgressionSettings().to_dict()
        return {k: v for k, v in self.cleaned_data.items() if v != defaults[k]}
