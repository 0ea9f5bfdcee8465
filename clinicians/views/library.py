"""The protocol library: built-in protocols (read-only) and the clinic's own copies, which its
clinicians may edit. Plans snapshot a protocol's levels when assigned, so an edit never changes
a plan already running."""

from __future__ import annotations

import dataclasses

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from clinicians.access import clinician_required
from rehab import selectors, services
from rehab.clinical import levels as clinical_levels
from rehab.clinical.progression import ProgressionSettings
from rehab.errors import RehabError
from rehab.models import Protocol, ProtocolLevel
from rehab.web import apply_errors

# --- Forms -------------------------------------------------------------------------------------

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
    "hold_adherence_ratio": "Hold unless this share of the prescribed sessions was logged (0-1)",
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


# --- Helpers -------------------------------------------------------------------------------------


def _detail_or_404(request, pk: int) -> selectors.ProtocolDetail:
    try:
        return selectors.protocol_detail_for(request.principal, protocol_id=pk)
    except Protocol.DoesNotExist:
        raise Http404("No such protocol in this clinic's library.") from None


def _thresholds(detail: selectors.ProtocolDetail) -> list[dict]:
    effective = detail.progression.to_dict()
    defaults = detail.progression_defaults.to_dict()
    rows = []
    for name, value in effective.items():
        rows.append(
            {
                "label": THRESHOLD_LABELS.get(name, name),
                "value": _threshold_words(name, value),
                "default": _threshold_words(name, defaults[name]),
                "changed": value != defaults[name],
            }
        )
    return rows


def _threshold_words(name: str, value) -> str:
    if name in RATIO_THRESHOLDS:
        return f"{value:g} ({value * 100:g} %)"
    return f"{value:g}"


def _level_initial(levels: list[ProtocolLevel]) -> list[dict]:
    return [{field: getattr(row, field) for field in LEVEL_FIELDS} for row in levels]


# --- Views ---------------------------------------------------------------------------------------


@clinician_required
def protocols(request):
    rows = list(selectors.protocol_list_for_dashboard(request.principal))
    groups = []
    for code, label in clinical_levels.CONDITIONS.items():
        members = [p for p in rows if p.condition == code]
        if members:
            groups.append({"code": code, "label": label, "protocols": members})
    return render(
        request,
        "clinicians/library/list.html",
        {"nav": "protocols", "groups": groups, "count": len(rows)},
    )


def _render_detail(request, detail, copy_form, status=200):
    return render(
        request,
        "clinicians/library/detail.html",
        {
            "nav": "protocols",
            "detail": detail,
            "protocol": detail.protocol,
            "thresholds": _thresholds(detail),
            "copy_form": copy_form,
        },
        status=status,
    )


@clinician_required
def protocol(request, pk):
    detail = _detail_or_404(request, pk)
    return _render_detail(request, detail, CopyForm())


@clinician_required
@require_POST
def protocol_copy(request, pk):
    detail = _detail_or_404(request, pk)
    form = CopyForm(request.POST)
    if form.is_valid():
        try:
            copy = services.protocol_copy(
                protocol=detail.protocol,
                clinic=request.principal.clinic,
                actor=request.principal.actor,
                name=form.cleaned_data["name"] or None,
            )
        except RehabError as error:
            apply_errors(form, error)
            return _render_detail(request, detail, form, status=error.status)
        messages.success(
            request,
            f"“{copy.name}” is now in your clinic's library. Change it below, or keep it as it is.",
        )
        return redirect("clinicians:protocol_edit", pk=copy.pk)
    return _render_detail(request, detail, form, status=400)


@clinician_required
def protocol_edit(request, pk):
    detail = _detail_or_404(request, pk)
    protocol = detail.protocol
    if not detail.editable:
        # A built-in: visible to everyone, changed by no one.
        raise PermissionDenied(
            "Built-in protocols are read-only; copy it into your clinic and edit the copy."
        )
    initial_levels = _level_initial(detail.levels)
    initial_info = {"name": protocol.name, "summary": protocol.summary}
    initial_thresholds = detail.progression.to_dict()
    page_errors: list[str] = []
    status = 200

    if request.method == "POST":
        data = request.POST
        if "add_level" in data:
            # One more empty level row; nothing is saved yet.
            data = data.copy()
            total = _int(data.get("levels-TOTAL_FORMS"))
            data["levels-TOTAL_FORMS"] = str(min(total + 1, 40))
        info_form = ProtocolForm(data, initial=initial_info)
        formset = LevelFormSet(data, initial=initial_levels, prefix="levels")
        thresholds_form = ThresholdsForm(data, initial=initial_thresholds, prefix="thresholds")
        if "add_level" not in data:
            outcome = _save(request, protocol, info_form, formset, thresholds_form, page_errors)
            if outcome is None:
                return redirect("clinicians:protocol", pk=protocol.pk)
            status = outcome
    else:
        info_form = ProtocolForm(initial=initial_info)
        formset = LevelFormSet(initial=initial_levels, prefix="levels")
        thresholds_form = ThresholdsForm(initial=initial_thresholds, prefix="thresholds")

    return render(
        request,
        "clinicians/library/edit.html",
        {
            "nav": "protocols",
            "protocol": protocol,
            "info_form": info_form,
            "formset": formset,
            "thresholds_form": thresholds_form,
            "page_errors": page_errors,
            "has_errors": status >= 400,
        },
        status=status,
    )


def _int(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _save(request, protocol, info_form, formset, thresholds_form, page_errors) -> int | None:
    """Validate the three forms and call the service; None when saved, else the status to
    answer with (the forms then carry the errors)."""
    valid = [info_form.is_valid(), formset.is_valid(), thresholds_form.is_valid()]
    if not all(valid):
        return 400
    kept = formset.ordered_forms
    changes = {
        "name": info_form.cleaned_data["name"],
        "summary": info_form.cleaned_data["summary"],
    }
    # Only a change of the levels makes a new version: renaming is not a new prescription.
    if formset.has_changed():
        changes["levels"] = [form.level_data() for form in kept]
    if thresholds_form.has_changed():
        changes["progression_settings"] = thresholds_form.overrides()
    try:
        updated = services.protocol_update(
            protocol=protocol, actor=request.principal.actor, **changes
        )
    except RehabError as error:
        _place_errors(error, info_form, kept, thresholds_form, page_errors)
        return 400 if error.status < 400 else error.status
    messages.success(
        request,
        f"Saved “{updated.name}” (version {updated.version}). Plans already assigned keep the "
        "levels they were given; new plans get these.",
    )
    return None


def _place_errors(error, info_form, level_forms, thresholds_form, page_errors) -> None:
    """Put the service's field errors beside the inputs they are about. A level's errors come as
    `levels[i].field`, where i counts the levels as sent (after removals and reordering)."""
    for key, messages_ in error.fields.items():
        for message in messages_:
            if key.startswith("levels[") and "]" in key:
                index_text, _, field = key[len("levels[") :].partition("]")
                field = field.lstrip(".")
                if field == "interval":
                    field = "interval_backward_seconds"
                index = _int(index_text)
                if index < len(level_forms):
                    form = level_forms[index]
                    form.add_error(field if field in form.fields else None, message)
                    continue
            if key in ("name", "summary"):
                info_form.add_error(key, message)
            elif key == "progression_settings":
                thresholds_form.add_error(None, message)
            else:
                page_errors.append(message)
    if not error.fields:
        page_errors.append(error.message)


urlpatterns = [
    path("protocols/", protocols, name="protocols"),
    path("protocols/<int:pk>/", protocol, name="protocol"),
    path("protocols/<int:pk>/copy/", protocol_copy, name="protocol_copy"),
    path("protocols/<int:pk>/edit/", protocol_edit, name="protocol_edit"),
]
