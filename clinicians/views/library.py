"""The protocol library: built-in protocols (read-only) and the clinic's own copies, which its
clinicians may edit. Plans snapshot a protocol's levels when assigned, so an edit never changes
a plan already running."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from clinicians.access import clinician_required
from clinicians.forms.library import (
    LEVEL_FIELDS,
    RATIO_THRESHOLDS,
    THRESHOLD_LABELS,
    CopyForm,
    LevelFormSet,
    ProtocolForm,
    ThresholdsForm,
)
from rehab import selectors, services
from rehab.clinical import levels as clinical_levels
from rehab.errors import RehabError
from rehab.models import Protocol, ProtocolLevel
from rehab.web import apply_errors

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
