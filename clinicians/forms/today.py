"""Today's search and filters."""

from __future__ import annotations

from django import forms

from rehab import selectors
from rehab.models import CONDITION_CHOICES
from rehab.selectors.search import SEARCH_MAX_LENGTH


class TodayFilterForm(forms.Form):
    """The list's search and filters, read from the query string. A value that is not one of
    the choices is reported on its field and ignored; the list still shows."""

    q = forms.CharField(
        label="Search",
        max_length=SEARCH_MAX_LENGTH,
        required=False,
        help_text="Name, clinic record number or e-mail.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    flag = forms.ChoiceField(
        label="Needs attention",
        required=False,
        choices=[
            ("", "All patients"),
            (selectors.DASHBOARD_ATTENTION, "Any reason"),
            *((flag.code, flag.label) for flag in selectors.DASHBOARD_FLAGS),
        ],
    )
    condition = forms.ChoiceField(
        label="Condition", required=False, choices=[("", "All conditions"), *CONDITION_CHOICES]
    )
    status = forms.ChoiceField(
        label="Plan",
        required=False,
        choices=[("", "All (not archived)"), *selectors.DASHBOARD_STATUSES.items()],
    )

    def filters(self) -> dict[str, str]:
        """The valid values; a field in error counts as not given."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) or "" for name in self.fields}
