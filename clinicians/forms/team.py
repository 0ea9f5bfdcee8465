"""Clinic administration's forms: a new clinician, an API key, the clinic's contact details."""

from __future__ import annotations

from django import forms

from rehab.models import CLINIC_TEXT_MAX, DATE_RANGE
from rehab.validators import PHONE_EXAMPLE


class ClinicianForm(forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    email = forms.EmailField(
        label="E-mail",
        max_length=254,
        help_text="The link to choose a password is sent here. They can also sign in with it.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    username = forms.CharField(
        label="Username",
        max_length=150,
        required=False,
        help_text="Leave empty to use the e-mail address.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    title = forms.CharField(label="Job title", max_length=100, initial="Physiotherapist")
    is_clinic_admin = forms.BooleanField(
        label="Clinic administrator (can manage the team, API keys and webhooks)", required=False
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="Which system uses it, e.g. “Patient record system”.",
    )
    expires_at = forms.DateField(
        # Refused here, before the view works out the following midnight (9999-12-31 has none).
        validators=DATE_RANGE,
        label="Last day the key works",
        required=False,
        help_text="Leave empty for a key that does not expire. It stops working at midnight at "
        "the end of that day, clinic time.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ClinicContactForm(forms.Form):
    # The rules (digits, length, characters) are the service's; its errors land on these fields.
    phone = forms.CharField(
        label="Phone number for patients",
        max_length=32,
        required=False,
        help_text="Shown as a tap-to-call link wherever the portal tells a patient to stop and "
        f"contact the clinic, {PHONE_EXAMPLE}.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    address = forms.CharField(
        label="Address",
        max_length=CLINIC_TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    opening_hours = forms.CharField(
        label="Opening hours",
        max_length=CLINIC_TEXT_MAX,
        required=False,
        help_text="For example: Monday to Friday 8:00-18:00, Saturday 9:00-12:00.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
