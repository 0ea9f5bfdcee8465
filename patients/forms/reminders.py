"""The portal's reminder settings form: how, when, in which time zone, and a pause.

The form checks only the shape of what was typed; whether a channel can reach the patient and
whether a time zone exists are the service's to decide (services.patient_set_reminders), and its
refusals come back onto these fields by name.
"""

from __future__ import annotations

from django import forms

from rehab.models import Patient

# Common zones first, in words a patient recognises; the patient's own zone is added when it is
# not among them. Any real zone is accepted by the service.
TIMEZONE_CHOICES = (
    ("Europe/London", "United Kingdom (London)"),
    ("Europe/Dublin", "Ireland (Dublin)"),
    ("Europe/Lisbon", "Portugal (Lisbon)"),
    ("Atlantic/Canary", "Spain: Canary Islands"),
    ("Europe/Madrid", "Spain (Madrid)"),
    ("Europe/Paris", "France (Paris)"),
    ("Europe/Brussels", "Belgium (Brussels)"),
    ("Europe/Amsterdam", "Netherlands (Amsterdam)"),
    ("Europe/Berlin", "Germany (Berlin)"),
    ("Europe/Zurich", "Switzerland (Zurich)"),
    ("Europe/Rome", "Italy (Rome)"),
    ("Europe/Vienna", "Austria (Vienna)"),
    ("Europe/Copenhagen", "Denmark (Copenhagen)"),
    ("Europe/Oslo", "Norway (Oslo)"),
    ("Europe/Stockholm", "Sweden (Stockholm)"),
    ("Europe/Helsinki", "Finland (Helsinki)"),
    ("Europe/Warsaw", "Poland (Warsaw)"),
    ("Europe/Athens", "Greece (Athens)"),
    ("Europe/Istanbul", "Turkey (Istanbul)"),
    ("America/St_Johns", "Canada: Newfoundland (St John's)"),
    ("America/Halifax", "Canada: Atlantic (Halifax)"),
    ("America/Toronto", "Canada: Eastern (Toronto)"),
    ("America/Winnipeg", "Canada: Central (Winnipeg)"),
    ("America/Edmonton", "Canada: Mountain (Edmonton)"),
    ("America/Vancouver", "Canada: Pacific (Vancouver)"),
    ("America/New_York", "United States: Eastern (New York)"),
    ("America/Chicago", "United States: Central (Chicago)"),
    ("America/Denver", "United States: Mountain (Denver)"),
    ("America/Phoenix", "United States: Arizona (Phoenix)"),
    ("America/Los_Angeles", "United States: Pacific (Los Angeles)"),
    ("America/Anchorage", "United States: Alaska (Anchorage)"),
    ("Pacific/Honolulu", "United States: Hawaii (Honolulu)"),
    ("America/Mexico_City", "Mexico (Mexico City)"),
    ("America/Sao_Paulo", "Brazil (São Paulo)"),
    ("America/Argentina/Buenos_Aires", "Argentina (Buenos Aires)"),
    ("Africa/Cairo", "Egypt (Cairo)"),
    ("Africa/Lagos", "Nigeria (Lagos)"),
    ("Africa/Nairobi", "Kenya (Nairobi)"),
    ("Africa/Johannesburg", "South Africa (Johannesburg)"),
    ("Asia/Dubai", "United Arab Emirates (Dubai)"),
    ("Asia/Karachi", "Pakistan (Karachi)"),
    ("Asia/Kolkata", "India (Kolkata)"),
    ("Asia/Singapore", "Singapore"),
    ("Asia/Hong_Kong", "Hong Kong"),
    ("Asia/Shanghai", "China (Shanghai)"),
    ("Asia/Seoul", "South Korea (Seoul)"),
    ("Asia/Tokyo", "Japan (Tokyo)"),
    ("Australia/Perth", "Australia: Western (Perth)"),
    ("Australia/Darwin", "Australia: Northern Territory (Darwin)"),
    ("Australia/Adelaide", "Australia: South (Adelaide)"),
    ("Australia/Brisbane", "Australia: Queensland (Brisbane)"),
    ("Australia/Sydney", "Australia: New South Wales (Sydney)"),
    ("Australia/Melbourne", "Australia: Victoria (Melbourne)"),
    ("Australia/Hobart", "Australia: Tasmania (Hobart)"),
    ("Pacific/Auckland", "New Zealand (Auckland)"),
    ("UTC", "UTC (no summer time)"),
)
_TIMEZONE_LABELS = dict(TIMEZONE_CHOICES)


def timezone_place(name: str) -> str:
    """A zone's place in words, for "9:00 (London time)": its city, or the zone itself."""
    if "/" not in name:
        return name
    return name.rsplit("/", 1)[-1].replace("_", " ")


def _channel_choices(patient: Patient) -> list[tuple[str, str]]:
    """Only the ways that can reach this patient: e-mail with an address, SMS with a number."""
    choices = []
    if patient.email.strip():
        choices.append((Patient.Channel.EMAIL, f"By e-mail to {patient.email.strip()}"))
    if patient.phone.strip():
        choices.append((Patient.Channel.SMS, f"By text message to {patient.phone.strip()}"))
    choices.append((Patient.Channel.NONE, "No reminders"))
    return choices


class ReminderSettingsForm(forms.Form):
    reminder_channel = forms.ChoiceField(
        label="How should we remind you?",
        # Every channel is accepted here; the service refuses one that cannot reach the patient,
        # with a message that says why (the radio buttons offer only the ones that can).
        choices=Patient.Channel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how we should remind you."},
    )
    reminder_time = forms.TimeField(
        label="What time on your walking days?",
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        help_text="Use the 24-hour clock, for example 09:00 or 18:30.",
        error_messages={
            "required": "Enter a time, for example 09:00.",
            "invalid": "Enter a time like 09:00 or 18:30.",
        },
    )
    timezone = forms.CharField(
        label="Your time zone",
        # No max_length: it would put a maxlength attribute on the <select>. The service checks
        # that the zone exists, which bounds it.
        widget=forms.Select,
        help_text="Choose where you are, so reminders come at your local time.",
        error_messages={"required": "Choose your time zone from the list."},
    )
    paused = forms.BooleanField(
        label="Pause my reminders for now",
        required=False,
        help_text="Nothing is sent until you untick this. Your walking plan carries on.",
    )

    def __init__(self, *args, patient: Patient, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "reminder_channel": patient.reminder_channel,
                "reminder_time": patient.reminder_time,
                "timezone": patient.timezone,
                "paused": not patient.reminders_enabled,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["reminder_channel"].widget.choices = _channel_choices(patient)
        zones = list(TIMEZONE_CHOICES)
        if patient.timezone not in _TIMEZONE_LABELS:
            zones.insert(0, (patient.timezone, patient.timezone.replace("_", " ")))
        self.fields["timezone"].widget.choices = zones
