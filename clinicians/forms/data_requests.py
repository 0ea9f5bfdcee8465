"""The forms of a patient's data requests: erasing a record, and the clinic's retention
settings."""

from __future__ import annotations

from django import forms

from rehab.models import Clinic, Patient
from rehab.services import ErasureReason


def erasure_confirmation(patient: Patient) -> str:
    """What the administrator types to confirm: the record number, or our id without one."""
    return patient.external_id or str(patient.pk)


class PatientEraseForm(forms.Form):
    confirm = forms.CharField(
        label="Type the record number to confirm",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.ChoiceField(label="Why is the record erased?", choices=ErasureReason.choices)

    def __init__(self, *args, patient: Patient, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.expected = erasure_confirmation(patient)
        self.fields["confirm"].help_text = f"Type {self.expected} exactly."

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.expected:
            raise forms.ValidationError(
                "That is not this patient's record number; nothing was erased."
            )
        return value


class DataRequestSettingsForm(forms.ModelForm):
    class Meta:
        model = Clinic
        fields = ["retention_years", "erasure_legal_hold"]
        labels = {
            "retention_years": "Retention period (years)",
            "erasure_legal_hold": "Legal hold: keep clinical data when a patient is erased",
        }
        help_texts = {
            "retention_years": "Archived and discharged patients whose last activity is older "
            "than this are listed below for review.",
            "erasure_legal_hold": "On: an erased patient's plans, sessions, scores and decisions "
            "are kept without their name, contacts or free text, as health-record law usually "
            "requires. Off: they are deleted too. Ask your data protection officer.",
        }
