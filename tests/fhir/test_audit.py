"""Every FHIR response that shows patient data leaves one audit event naming the patients shown,
as the API's reads do; a response that shows none leaves none."""

from __future__ import annotations

import pytest

from rehab.audit import AuditAction, events_of_patient
from rehab.models import AuditEvent
from tests.fhir.conftest import fhir_json

pytestmark = pytest.mark.django_db


def new_events(client, url: str, status: int = 200) -> list[AuditEvent]:
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(f"/fhir/r4/{url}")
    assert response.status_code == status, response.content
    return list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))


@pytest.mark.parametrize(
    ("url", "action", "kind"),
    [
        ("Patient/{a}", AuditAction.PATIENT_READ, "Patient"),
        ("Condition/{a}", AuditAction.PATIENT_READ, "Condition"),
        ("CarePlan/{plan}", AuditAction.PLAN_READ, "CarePlan"),
        ("ServiceRequest/{plan}", AuditAction.PLAN_READ, "ServiceRequest"),
        ("Observation/{session}-effort", AuditAction.SESSION_READ, "Observation"),
    ],
)
def test_a_read_is_one_event_naming_the_patient(world, url, action, kind):
    url = url.format(a=world.patient_a.pk, plan=world.plan.pk, session=world.sessions[0].pk)
    [event] = new_events(world.key1, url)
    assert event.action == action
    assert event.patient_id == world.patient_a.pk
    assert event.clinic_id == world.clinic1.pk
    assert event.actor_label == "api-key:EHR"
    assert event.detail == {"via": "fhir", "interaction": "read", "type": kind}


def test_a_search_is_one_event_naming_every_patient_shown(world):
    [event] = new_events(world.key1, "Condition")
    assert event.action == AuditAction.PATIENT_READ
    assert event.detail == {
        "via": "fhir",
        "interaction": "search",
        "type": "Condition",
        "patients": [world.patient_a.pk, world.patient_b.pk],
    }
    # The patient page's trail finds the list read for each patient shown.
    assert AuditEvent.objects.filter(events_of_patient(world.patient_b.pk), pk=event.pk).exists()


def test_a_page_of_one_patients_observations_names_them_once(world):
    [event] = new_events(world.key1, "Observation")
    assert event.action == AuditAction.SESSION_READ
    assert event.patient_id == world.patient_a.pk


def test_everything_is_one_event(world):
    [event] = new_events(world.token_a, f"Patient/{world.patient_a.pk}/$everything")
    assert event.action == AuditAction.PATIENT_READ
    assert event.patient_id == world.patient_a.pk
    assert event.actor_id == world.patient_a.user_id
    assert event.detail == {"via": "fhir", "interaction": "everything"}


def test_nothing_shown_nothing_recorded(world):
    assert new_events(world.key1, f"Observation?patient={world.patient_b.pk}") == []
    assert new_events(world.key2, f"Patient/{world.patient_a.pk}", status=404) == []
    assert new_events(world.anonymous, "metadata") == []


def test_the_audit_event_is_written_for_the_response_it_describes(world):
    """The search's resources and the event's patients are the same page."""
    bundle = fhir_json(world.key1.get("/fhir/r4/Patient?_count=1"))
    [event] = AuditEvent.objects.filter(detail__via="fhir")
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(event.patient_id)]
