"""The protocol library: loading the built-in protocols, a clinic's own copies and their edits."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from rehab.audit import Actor, audit_record
from rehab.clinical import progression as clinical_progression
from rehab.clinical import protocols as clinical_protocols
from rehab.clinical.levels import Level
from rehab.errors import RehabError, validation_error
from rehab.models import (
    Clinic,
    Protocol,
    ProtocolLevel,
)
from rehab.services.common import as_decimal, check_json, check_row_fields


def _level_rows(protocol: Protocol, levels: list[Level]) -> list[ProtocolLevel]:
    rows = []
    for position, level in enumerate(levels):
        rows.append(
            ProtocolLevel(
                protocol=protocol,
                position=position,
                name=level.name,
                minutes=level.minutes,
                sessions_per_week=level.sessions_per_week,
                speed_kmh=as_decimal(level.speed_kmh),
                incline_pct=as_decimal(level.incline_pct),
                setting=level.setting,
                min_days=level.min_days,
                interval_backward_seconds=level.interval.backward_seconds
                if level.interval
                else None,
                interval_forward_seconds=level.interval.forward_seconds if level.interval else None,
                supervised=level.supervised,
                note=level.note,
            )
        )
    return rows


def _citations_data(definition: clinical_protocols.ProtocolDef) -> list[dict[str, str]]:
    return [{"key": c.key, "text": c.text, "supports": c.supports} for c in definition.citations]


@transaction.atomic
def protocol_library_load() -> list[Protocol]:
    """Load or refresh the built-in library; safe to run again (a changed built-in gets a new
    version, an unchanged one is left alone)."""
    loaded = []
    for definition in clinical_protocols.LIBRARY:
        protocol = Protocol.objects.filter(clinic__isnull=True, code=definition.code).first()
        fields = {
            "condition": definition.condition,
            "name": definition.name,
            "summary": definition.summary,
            "citations": _citations_data(definition),
            "retest_weeks": definition.retest_weeks,
            "outcome_measures": list(definition.outcome_measures),
            "progression_settings": dict(definition.progression),
        }
        if protocol is None:
            protocol = Protocol.objects.create(clinic=None, code=definition.code, **fields)
            ProtocolLevel.objects.bulk_create(_level_rows(protocol, list(definition.levels)))
        else:
            stored = [row.to_level() for row in protocol.levels.all()]
            meta_changed = any(getattr(protocol, k) != v for k, v in fields.items())
            if stored != list(definition.levels) or meta_changed:
                for key, value in fields.items():
                    setattr(protocol, key, value)
                if stored != list(definition.levels):
                    protocol.levels.all().delete()
                    ProtocolLevel.objects.bulk_create(
                        _level_rows(protocol, list(definition.levels))
                    )
                    protocol.version += 1
                protocol.save()
        loaded.append(protocol)
    return loaded


def check_protocol_visible(protocol: Protocol, clinic: Clinic) -> None:
    if protocol.clinic_id not in (None, clinic.pk):
        raise RehabError(
            "protocol_not_found", "No such protocol in this clinic's library.", status=404
        )


@transaction.atomic
def protocol_copy(
    *, protocol: Protocol, clinic: Clinic, actor: Actor, name: str | None = None
) -> Protocol:
    """Copy a built-in (or the clinic's own) protocol into the clinic's library for editing."""
    check_protocol_visible(protocol, clinic)
    name = (name or "").strip()
    if name:
        check_row_fields(Protocol(name=name), "name")
    name = name or f"{protocol.name} ({clinic.name})"[:200]
    base_code = slugify(name)[:70] or "protocol"
    code, n = base_code, 1
    while Protocol.objects.filter(clinic=clinic, code=code).exists():
        n += 1
        code = f"{base_code}-{n}"
    copy = Protocol.objects.create(
        clinic=clinic,
        code=code,
        condition=protocol.condition,
        name=name,
        summary=protocol.summary,
        citations=protocol.citations,
        retest_weeks=protocol.retest_weeks,
        outcome_measures=protocol.outcome_measures,
        progression_settings=protocol.progression_settings,
        based_on=protocol,
    )
    ProtocolLevel.objects.bulk_create(
        _level_rows(copy, [row.to_level() for row in protocol.levels.all()])
    )
    audit_record(
        actor=actor, action="protocol.copy", obj=copy, clinic=clinic, detail={"from": protocol.pk}
    )
    return copy


def _parse_levels(levels: list[dict[str, Any]]) -> list[Level]:
    if not isinstance(levels, list) or not levels:
        raise validation_error({"levels": "A protocol needs at least one level."})
    parsed, errors = [], {}
    for index, data in enumerate(levels):
        try:
            level = Level.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            errors[f"levels[{index}]"] = [f"Level {index + 1} is incomplete or malformed ({exc})."]
            continue
        row = _level_rows(Protocol(), [level])[0]
        try:
            row.full_clean(exclude=["protocol", "position"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"levels[{index}].{field}"] = messages
            continue
        if bool(level.interval) and (
            level.interval.backward_seconds <= 0 or level.interval.forward_seconds <= 0
        ):
            errors[f"levels[{index}].interval"] = ["Interval times must be positive."]
            continue
        parsed.append(level)
    if errors:
        raise validation_error(errors)
    return parsed


@transaction.atomic
def protocol_update(
    *,
    protocol: Protocol,
    actor: Actor,
    name: str | None = None,
    summary: str | None = None,
    levels: list[dict[str, Any]] | None = None,
    progression_settings: dict[str, Any] | None = None,
) -> Protocol:
    """Edit a clinic's own protocol. Built-ins are read-only; live plans keep their snapshot."""
    if protocol.is_builtin:
        raise RehabError(
            "protocol_read_only",
            "Built-in protocols are read-only; copy it into your clinic and edit the copy.",
            status=403,
        )
    if name is not None:
        if not name.strip():
            raise validation_error({"name": "A protocol needs a name."})
        protocol.name = name.strip()
    if summary is not None:
        protocol.summary = summary
    check_row_fields(protocol, "name", "summary")
    if progression_settings is not None:
        check_json(progression_settings, field="progression_settings", max_length=100)
        try:
            clinical_progression.ProgressionSettings.from_dict(progression_settings)
        except (ValueError, TypeError) as exc:
            raise validation_error({"progression_settings": str(exc)}) from exc
        protocol.progression_settings = dict(progression_settings)
    if levels is not None:
        parsed = _parse_levels(levels)
        protocol.levels.all().delete()
        ProtocolLevel.objects.bulk_create(_level_rows(protocol, parsed))
        protocol.version += 1
    protocol.save()
    audit_record(
        actor=actor,
        action="protocol.update",
        obj=protocol,
        clinic=protocol.clinic,
        detail={"version": protocol.version},
    )
    return protocol
