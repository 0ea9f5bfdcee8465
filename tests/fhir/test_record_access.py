"""Who sees the rest of the record, and what each read leaves in the audit trail: another
clinic's ids are 404s for every type; a patient's token reads only their own; each read is one
event with the type's action."""

from __future__ import annotations

import pytest

from rehab.audit import AuditAction
from rehab.models import AuditEvent
from tests.fhir.conftest import entries, fhir_json, outcome

pytestmark = pytest.mark.django_db


def a_urls(world, record) -> list[str]:
    return [
        f"Goal/{world.plan.pk}",
        f"Observation/{record.koos.pk}-outcome",
        f"QuestionnaireResponse/{record.koos.pk}",
        f"DocumentReference/{record.patient_report.pk}",
    ]


def b_urls(record) -> list[str]:
    return [
        f"AdverseEvent/{record.unsafe.pk}-fall",
        f"AdverseEvent/{record.unsafe.pk}-chest-pain",
        f"QuestionnaireResponse/{record.rmdq.pk}",
        f"Goal/{record.plan_b.pk}",
    ]


def test_another_clinics_ids_are_404_for_every_new_type(world, record):
    for url in [*a_urls(world, record), *b_urls(record), f"DocumentReference/{record.report.pk}"]:
        fhir_json(world.key1.get(f"/fhir/r4/{url}"))
        assert "is not known" in outcome(world.key2.get(f"/fhir/r4/{url}"), 404, "not-found")


def test_another_clinics_rows_are_not_found_by_search(world, record):
    z = world.patient_z
    for kind in ("Goal", "QuestionnaireResponse", "AdverseEvent", "DocumentReference"):
        assert entries(fhir_json(world.key1.get(f"/fhir/r4/{kind}?patient={z.pk}"))) == []
    assert entries(fhir_json(world.key1.get(f"/fhir/r4/Observation?patient={z.pk}"))) == []
    # Clinic two's key sees its own score.
    assert entries(fhir_json(world.key2.get("/fhir/r4/QuestionnaireResponse"))) == [
        f"QuestionnaireResponse/{record.score_z.pk}"
    ]


def test_a_patients_token_reads_their_own_and_no_one_elses(world, record):
    for url in a_urls(world, record):
        fhir_json(world.token_a.get(f"/fhir/r4/{url}"))
    for url in b_urls(record):
        outcome(world.token_a.get(f"/fhir/r4/{url}"), 404, "not-found")
    a = world.patient_a.pk
    for kind in ("Goal", "QuestionnaireResponse", "AdverseEvent", "DocumentReference"):
        found = entries(fhir_json(world.token_a.get(f"/fhir/r4/{kind}?_count=100")))
        for ref in found:
            body = fhir_json(world.token_a.get(f"/fhir/r4/{ref}"))
            assert body["subject"] == {"reference": f"Patient/{a}"}, ref
    assert entries(fhir_json(world.token_a.get("/fhir/r4/AdverseEvent"))) == []


def new_events(client, url: str) -> list[AuditEvent]:
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(f"/fhir/r4/{url}")
    assert response.status_code == 200, response.content
    return list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))


@pytest.mark.parametrize(
    ("url", "action", "kind"),
    [
        ("Goal/{plan}", AuditAction.PLAN_READ, "Goal"),
        ("Observation/{koos}-outcome", AuditAction.OUTCOME_READ, "Observation"),
        ("QuestionnaireResponse/{koos}", AuditAction.OUTCOME_READ, "QuestionnaireResponse"),
        ("DocumentReference/{report}", AuditAction.REPORT_LIST, "DocumentReference"),
        ("AdverseEvent/{unsafe}-fall", AuditAction.SESSION_READ, "AdverseEvent"),
    ],
)
def test_a_read_is_one_event_with_the_types_action(world, record, url, action, kind):
    url = url.format(
        plan=world.plan.pk, koos=record.koos.pk, report=record.report.pk, unsafe=record.unsafe.pk
    )
    [event] = new_events(world.key1, url)
    assert event.action == action
    patient = world.patient_b if kind == "AdverseEvent" else world.patient_a
    assert event.patient_id == patient.pk
    assert event.detail == {"via": "fhir", "interaction": "read", "type": kind}


def test_questionnaires_are_not_patient_data_and_leave_no_event(world):
    assert new_events(world.key1, "Questionnaire/koos") == []
    assert new_events(world.key1, "Questionnaire") == []


def test_a_page_of_session_and_outcome_observations_is_one_event_each(world, record):
    events = new_events(world.key1, f"Observation?patient={world.patient_a.pk}&_count=100")
    assert [(e.action, e.patient_id) for e in events] == [
        (AuditAction.SESSION_READ, world.patient_a.pk),
        (AuditAction.OUTCOME_READ, world.patient_a.pk),
    ]


def test_everything_is_still_one_event(world, record):
    [event] = new_events(world.key1, f"Patient/{world.patient_a.pk}/$everything")
    assert event.action == AuditAction.PATIENT_READ
    assert event.detail == {"via": "fhir", "interaction": "everything"}
