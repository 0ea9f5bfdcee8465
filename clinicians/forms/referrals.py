"""The form on a referral banner of the patient page: what was done about an urgent or
emergency referral (services.referral_act records who and when)."""

from __future__ import annotations

from django import forms

from rehab.selectors import OpenReferral


class ReferralActionForm(forms.Form):
    action = forms.CharField(
        label="What was done",
        max_length=500,
        help_text="For example “referred to A&amp;E” or “GP letter sent”. Your name and the time "
        "are recorded with it, in the record's history.",
        error_messages={
            "required": "Say what was done, for example “referred to A&E” or “GP letter sent”."
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, screening_id: int, **kwargs):
        # One form per banner on the page: ids unique to the screening tie each label, hint
        # and error to its own input.
        kwargs.setdefault("auto_id", f"id_referral_{screening_id}_%s")
        super().__init__(*args, **kwargs)
        self.screening_id = screening_id


def referral_forms(
    referrals: tuple[OpenReferral, ...], *, bound: ReferralActionForm | None = None
) -> list[tuple[OpenReferral, ReferralActionForm]]:
    """Each banner's referral with its form: the bound one (with its errors and what was typed)
    where a submission was refused, an empty one elsewhere."""
    return [
        (
            referral,
            bound
            if bound is not None and bound.screening_id == referral.screening.pk
            else ReferralActionForm(screening_id=referral.screening.pk),
        )
        for referral in referrals
    ]
