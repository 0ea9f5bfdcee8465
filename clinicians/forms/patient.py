"""The patient page's own forms: a report request and a note on a decision."""

from __future__ import annotations

from django import forms

from rehab.models import DATE_RANGE, Report


class ReportRequestForm(forms.Form):
    audience = forms.ChoiceField(
        label="Who the report is for",
        choices=Report.Audience.choices,
        initial=Report.Audience.CLINICIAN,
        widget=forms.RadioSelect,
    )
    period_start = forms.DateField(
        validators=DATE_RANGE,
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Leave both dates empty for the last 12 weeks.",
    )
    period_end = forms.DateField(
        validators=DATE_RANGE,
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Empty means up to today.",
    )


class DecisionNoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=1000)
