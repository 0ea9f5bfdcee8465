"""Input serializers parse and validate shapes; output serializers render. Neither holds a
clinical rule: that is the services' and rehab/clinical's job.

Levels are numbered from 1 in the API (level 1 is a protocol's first), as clinicians count them.
"""

from rehab.api.serializers.fields import (
    MAX_ID,
    Boolean,
    ErrorSerializer,
    Integer,
    Number,
    ScopedPrimaryKeyField,
    Text,
)
from rehab.api.serializers.history import AuditEventSerializer, ReminderSerializer
from rehab.api.serializers.outcomes import (
    OutcomeChangeQuerySerializer,
    OutcomeChangeSerializer,
    OutcomeCreateSerializer,
    OutcomeSerializer,
)
from rehab.api.serializers.patients import (
    LOCAL_TIME_PATTERN,
    ClinicalNoteCreateSerializer,
    ClinicalNoteSerializer,
    ExplanationSerializer,
    LocalTimeField,
    PatientCreateSerializer,
    PatientSerializer,
    PatientUpdateSerializer,
    ScreeningCreateSerializer,
    ScreeningSerializer,
    VerdictSerializer,
)
from rehab.api.serializers.plans import (
    DecisionReasonSerializer,
    DecisionSerializer,
    NoteSerializer,
    PlanCreateSerializer,
    PlanDiscontinueSerializer,
    PlanResumeSerializer,
    PlanSerializer,
    PlanSetLevelSerializer,
    PlanUpdateSerializer,
    ReasonSerializer,
)
from rehab.api.serializers.protocols import (
    IntervalSerializer,
    LevelSerializer,
    PrescribedLevelSerializer,
    ProtocolCopySerializer,
    ProtocolSerializer,
    ProtocolUpdateSerializer,
    prescribed,
)
from rehab.api.serializers.reports import ReportCreateSerializer, ReportSerializer
from rehab.api.serializers.sessions import (
    NextMorningPainSerializer,
    SessionCreateSerializer,
    SessionSerializer,
)
from rehab.api.serializers.tokens import CredentialsSerializer, TokenSerializer
from rehab.api.serializers.webhooks import (
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
    WebhookRotateSerializer,
)

__all__ = [
    "LOCAL_TIME_PATTERN",
    "MAX_ID",
    "AuditEventSerializer",
    "Boolean",
    "ClinicalNoteCreateSerializer",
    "ClinicalNoteSerializer",
    "CredentialsSerializer",
    "DecisionReasonSerializer",
    "DecisionSerializer",
    "ErrorSerializer",
    "ExplanationSerializer",
    "Integer",
    "IntervalSerializer",
    "LevelSerializer",
    "LocalTimeField",
    "NextMorningPainSerializer",
    "NoteSerializer",
    "Number",
    "OutcomeChangeQuerySerializer",
    "OutcomeChangeSerializer",
    "OutcomeCreateSerializer",
    "OutcomeSerializer",
    "PatientCreateSerializer",
    "PatientSerializer",
    "PatientUpdateSerializer",
    "PlanCreateSerializer",
    "PlanDiscontinueSerializer",
    "PlanResumeSerializer",
    "PlanSerializer",
    "PlanSetLevelSerializer",
    "PlanUpdateSerializer",
    "PrescribedLevelSerializer",
    "ProtocolCopySerializer",
    "ProtocolSerializer",
    "ProtocolUpdateSerializer",
    "ReasonSerializer",
    "ReminderSerializer",
    "ReportCreateSerializer",
    "ReportSerializer",
    "ScopedPrimaryKeyField",
    "ScreeningCreateSerializer",
    "ScreeningSerializer",
    "SessionCreateSerializer",
    "SessionSerializer",
    "Text",
    "TokenSerializer",
    "VerdictSerializer",
    "WebhookDeliverySerializer",
    "WebhookEndpointCreateSerializer",
    "WebhookEndpointSerializer",
    "WebhookEndpointUpdateSerializer",
    "WebhookEndpointWithSecretSerializer",
    "WebhookRotateSerializer",
    "prescribed",
]
