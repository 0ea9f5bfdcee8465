"""The dashboard's protocol library: the protocols a clinic sees and one protocol's detail."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Count,
    F,
    QuerySet,
)

from rehab.access import Principal
from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import progression as clinical_progression
from rehab.clinical import protocols as clinical_protocols
from rehab.models import (
    Protocol,
)
from rehab.selectors.scoped import protocols_for


def protocols_for_condition(principal: Principal, *, condition: str) -> QuerySet[Protocol]:
    """The protocols a clinician may assign for a condition: built-ins first, then the clinic's
    own, each with its levels."""
    return (
        protocols_for(principal)
        .filter(condition=condition)
        .order_by(F("clinic").asc(nulls_first=True), "name", "id")
    )


def protocol_list_for_dashboard(principal: Principal) -> QuerySet[Protocol]:
    """The library page: each protocol with its number of levels and what it was copied from,
    in one query whatever the library's size."""
    return (
        protocols_for(principal)
        .prefetch_related(None)
        .select_related("based_on")
        .annotate(level_count=Count("levels"))
        .order_by("condition", F("clinic").asc(nulls_first=True), "name", "id")
    )


@dataclass(frozen=True)
class ProtocolDetail:
    protocol: Protocol
    levels: list  # ProtocolLevel rows, in order
    safety: tuple[clinical_protocols.SafetyInstruction, ...]
    progression: clinical_progression.ProgressionSettings  # effective: defaults + overrides
    progression_defaults: clinical_progression.ProgressionSettings
    measures: list[tuple[str, str]]  # (code, name)
    editable: bool


def protocol_detail_for(principal: Principal, *, protocol_id: int) -> ProtocolDetail:
    """A protocol of the principal's library with everything its page shows; Protocol.DoesNotExist
    for another clinic's copy."""
    protocol = protocols_for(principal).select_related("based_on").get(pk=protocol_id)
    levels = list(protocol.levels.all())
    # The instructions of every setting the protocol uses, once each, in their usual order.
    wanted = {s.code for row in levels for s in clinical_protocols.safety_for(row.to_level())}
    safety = tuple(s for s in clinical_protocols.SAFETY_INSTRUCTIONS if s.code in wanted)
    measures = [
        (
            code,
            clinical_outcomes.MEASURES[code].name
            if code in clinical_outcomes.MEASURES
            else code.upper(),
        )
        for code in protocol.outcome_measures
    ]
    return ProtocolDetail(
        protocol=protocol,
        levels=levels,
        safety=safety,
        progression=clinical_progression.ProgressionSettings.from_dict(
            protocol.progression_settings
        ),
        progression_defaults=clinical_progression.ProgressionSettings(),
        measures=measures,
        editable=protocol_is_editable_by(principal, protocol),
    )


def protocol_is_editable_by(principal: Principal, protocol: Protocol) -> bool:
    """Only a clinic's own copies can be edited, by that clinic's clinicians; built-ins never."""
    return principal.is_staff and protocol.clinic_id == principal.clinic.pk
