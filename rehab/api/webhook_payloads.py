"""A webhook's resource is shown as this API shows it: the output serializers render it.

Registered with the webhook channel at start-up (RehabConfig.ready), so the services that emit
events never import this door (pyproject's layers).
"""

from __future__ import annotations

from rehab import webhooks
from rehab.api import serializers as s
from rehab.models import (
    OutcomeScore,
    Patient,
    Plan,
    ProgressionDecision,
    Report,
    Screening,
    SessionLog,
)

SERIALIZERS = {
    Patient: s.PatientSerializer,
    Screening: s.ScreeningSerializer,
    Plan: s.PlanSerializer,
    SessionLog: s.SessionSerializer,
    ProgressionDecision: s.DecisionSerializer,
    OutcomeScore: s.OutcomeSerializer,
    Report: s.ReportSerializer,
}


def register() -> None:
    for model, serializer in SERIALIZERS.items():
        webhooks.register_renderer(model, lambda obj, serializer=serializer: serializer(obj).data)
