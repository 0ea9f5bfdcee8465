"""Webhooks' forms: an endpoint (added or changed) and a rotation of its signing secret.

The rules (https only, public addresses, at least one known event, one line of description,
the overlap's range) are the services'; their errors land on these fields (rehab.web.apply_errors).
"""

from __future__ import annotations

from django import forms

from rehab.models import WebhookEvent
from rehab.services.webhooks import WEBHOOK_ROTATION_OVERLAP, WEBHOOK_ROTATION_OVERLAP_MAX


def _event_choices() -> list[tuple[str, str]]:
    # The label first, for people; the type too, which is what the receiver's code reads.
    return [(event.value, f"{event.label} ({event.value})") for event in WebhookEvent]


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        help_text="An https:// address of your system that accepts POSTed JSON. It must be "
        "reachable from the internet: private and local addresses are refused.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label="Events to send",
        choices=_event_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    description = forms.CharField(
        label="Description",
        max_length=200,
        required=False,
        help_text="Which system receives them, e.g. “Patient record system”.",
    )


class WebhookEndpointEditForm(WebhookEndpointForm):
    enabled = forms.BooleanField(label="Enabled: send events to this endpoint", required=False)


class WebhookRotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        label="Hours the current secret keeps signing too",
        min_value=0,
        max_value=int(WEBHOOK_ROTATION_OVERLAP_MAX.total_seconds() // 3600),
        initial=int(WEBHOOK_ROTATION_OVERLAP.total_seconds() // 3600),
        help_text="Each event carries both signatures meanwhile, so your system can switch to "
        "the new secret without losing one. 0 stops the current secret at once.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
