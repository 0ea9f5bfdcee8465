"""A plan's Goal, a session's fall or chest pain as AdverseEvents, ready reports as
DocumentReferences, and the audit trail as AuditEvents for clinic administrators."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from rehab import services
from rehab.audit import AuditAction
from rehab.models import AuditEvent, Plan, Report, SessionLog
from rehab.services.report_files import report_path
from tests.factories import ClinicianFactory
from tests.fhir.conftest import client_with, entries, fhir_json, outcome

pytestmark = pytest.mark.django_db


def read(client, url: str, status: int = 200) -> dict:
    return fhir_json(client.get(f"/fhir/r4/{url}"), status)


def search(client, query: str) -> list[str]:
    return entries(fhir_json(client.get(f"/fhir/r4/{query}")))


# --- Goal ----------------------------------------------------------------------------------------


def test_goal_is_the_plans_last_level_with_its_minutes_as_target(world):
    plan = world.plan
    body = read(world.key1, f"Goal/{plan.pk}")
    top = plan.capped_levels()[-1].level
    assert body["lifecycleStatus"] == "active"
    assert body["achievementStatus"]["coding"][0]["code"] == "in-progress"
    assert body["description"]["text"].startswith(
        f"Reach the plan's last level, {len(plan.levels)} ({plan.protocol_name}): "
    )
    assert body["subject"] == {"reference": f"Patient/{world.patient_a.pk}"}
    assert body["startDate"] == plan.start_date.isoformat()
    [target] = body["target"]
    assert target["measure"]["coding"][0]["code"] == "55411-3"
    assert target["detailQuantity"]["value"] == top.minutes
    assert body["addresses"] == [{"reference": f"Condition/{world.patient_a.pk}"}]
    assert body["expressedBy"] == {"display": "Ada Lee"}
    careplan = read(world.key1, f"CarePlan/{plan.pk}")
    assert careplan["goal"] == [{"reference": f"Goal/{plan.pk}"}]
    # The prescription pertains to the Goal, as the Physical Activity IG's exercise prescription.
    prescription = read(world.key1, f"ServiceRequest/{plan.pk}")
    assert prescription["extension"] == [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal",
            "valueReference": {"reference": f"Goal/{plan.pk}"},
        }
    ]
    assert prescription["category"][0]["coding"][0]["code"] == "PhysicalActivity"
    assert prescription["performer"] == [{"reference": f"Patient/{world.patient_a.pk}"}]


def test_goal_is_achieved_at_the_last_level_and_follows_the_plans_status(world):
    plan = world.plan
    Plan.objects.filter(pk=plan.pk).update(current_level=len(plan.levels) - 1)
    assert read(world.key1, f"Goal/{plan.pk}")["achievementStatus"]["coding"][0]["code"] == (
        "achieved"
    )
    Plan.objects.filter(pk=plan.pk).update(current_level=0)
    services.plan_discontinue(plan=plan, actor=None, reason="Moved")
    body = read(world.key1, f"Goal/{plan.pk}")
    assert body["lifecycleStatus"] == "cancelled"
    assert body["achievementStatus"]["coding"][0]["code"] == "not-achieved"
    assert body["statusDate"] == world.patient_a.local_today().isoformat()


def test_goal_search_by_patient_and_lifecycle_status(world, record):
    a_plan, b_plan = world.plan, record.plan_b
    assert search(world.key1, "Goal") == [f"Goal/{a_plan.pk}", f"Goal/{b_plan.pk}"]
    assert search(world.key1, f"Goal?patient={world.patient_b.pk}") == [f"Goal/{b_plan.pk}"]
    # The fall paused B's plan.
    assert search(world.key1, "Goal?lifecycle-status=on-hold") == [f"Goal/{b_plan.pk}"]
    assert search(world.key1, "Goal?lifecycle-status=active,on-hold") == [
        f"Goal/{a_plan.pk}",
        f"Goal/{b_plan.pk}",
    ]
    assert search(world.key1, "Goal?lifecycle-status=proposed") == []
    outcome(world.key1.get("/fhir/r4/Goal?lifecycle-status=paused"), 400, "invalid")
    Plan.objects.filter(pk=a_plan.pk).update(updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    Plan.objects.filter(pk=b_plan.pk).update(updated_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC))
    assert search(world.key1, "Goal?_lastUpdated=gt2026-03-01") == [f"Goal/{b_plan.pk}"]


# --- AdverseEvent --------------------------------------------------------------------------------


def test_a_fall_and_chest_pain_are_two_adverse_events_coded_in_snomed(world, record):
    session = record.unsafe
    fall = read(world.key1, f"AdverseEvent/{session.pk}-fall")
    chest = read(world.key1, f"AdverseEvent/{session.pk}-chest-pain")
    assert fall["event"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "1912002", "display": "Fall"}
    ]
    assert chest["event"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "29857009", "display": "Chest pain"}
    ]
    for body in (fall, chest):
        assert body["actuality"] == "actual"
        assert body["subject"] == {"reference": f"Patient/{world.patient_b.pk}"}
        assert body["date"] == session.date.isoformat()
        assert (
            f"ServiceRequest/{record.plan_b.pk}" in body["suspectEntity"][0]["instance"]["display"]
        )
        # Not recorded, so not said.
        assert "seriousness" not in body
        assert "outcome" not in body


def test_sessions_without_a_fall_or_chest_pain_give_none(world, record):
    session = world.sessions[0]
    outcome(world.key1.get(f"/fhir/r4/AdverseEvent/{session.pk}-fall"), 404, "not-found")
    SessionLog.objects.filter(pk=record.unsafe.pk).update(chest_pain=False)
    outcome(
        world.key1.get(f"/fhir/r4/AdverseEvent/{record.unsafe.pk}-chest-pain"), 404, "not-found"
    )
    assert search(world.key1, "AdverseEvent") == [f"AdverseEvent/{record.unsafe.pk}-fall"]


def test_adverse_event_search(world, record):
    pk, b = record.unsafe.pk, world.patient_b
    both = [f"AdverseEvent/{pk}-fall", f"AdverseEvent/{pk}-chest-pain"]
    assert search(world.key1, "AdverseEvent") == both
    assert search(world.key1, f"AdverseEvent?patient={b.pk}") == both
    assert search(world.key1, f"AdverseEvent?patient={world.patient_a.pk}") == []
    assert search(world.key1, f"AdverseEvent?date={record.unsafe.date}") == both
    assert search(world.key1, f"AdverseEvent?date=gt{record.unsafe.date}") == []
    page = fhir_json(world.key1.get("/fhir/r4/AdverseEvent?_count=1"))
    assert entries(page) == both[:1]
    [next_url] = [link["url"] for link in page["link"] if link["relation"] == "next"]
    assert search(world.key1, next_url.removeprefix("http://testserver/fhir/r4/")) == both[1:]


# --- DocumentReference ---------------------------------------------------------------------------


def test_a_ready_report_is_a_document_reference_to_the_authorising_download(
    world, record, settings
):
    settings.SITE_URL = "https://rehab.example.org"
    report = record.report
    body = read(world.key1, f"DocumentReference/{report.pk}")
    assert body["status"] == "current"
    assert body["type"]["coding"][0]["code"] == "11506-3"
    assert body["subject"] == {"reference": f"Patient/{world.patient_a.pk}"}
    [content] = body["content"]
    assert content["attachment"]["contentType"] == "application/pdf"
    assert content["attachment"]["url"] == (
        f"https://rehab.example.org/api/v1/reports/{report.pk}/download/"
    )
    assert content["attachment"]["size"] == 2048
    assert body["context"]["period"] == {
        "start": report.period_start.isoformat(),
        "end": report.period_end.isoformat(),
    }


def test_the_attachment_url_serves_the_pdf_to_the_same_credentials_only(world, record):
    report = record.report
    path = report_path(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 test")
    url = read(world.key1, f"DocumentReference/{report.pk}")["content"][0]["attachment"]["url"]
    local = url.split("/api/v1/", 1)[1]
    response = world.key1.get(f"/api/v1/{local}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert world.key2.get(f"/api/v1/{local}").status_code == 404
    assert world.anonymous.get(f"/api/v1/{local}").status_code == 401


def test_document_reference_search_lists_ready_reports_only(world, record):
    ready = [
        f"DocumentReference/{record.report.pk}",
        f"DocumentReference/{record.patient_report.pk}",
    ]
    assert search(world.key1, "DocumentReference") == ready
    assert search(world.key1, f"DocumentReference?patient={world.patient_a.pk}") == ready
    assert search(world.key1, f"DocumentReference?patient={world.patient_b.pk}") == []
    assert search(world.key1, "DocumentReference?status=current") == ready
    assert search(world.key1, "DocumentReference?status=superseded") == []
    outcome(
        world.key1.get(f"/fhir/r4/DocumentReference/{record.pending_report.pk}"), 404, "not-found"
    )
    Report.objects.filter(pk=record.report.pk).update(
        rendered_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    assert search(world.key1, "DocumentReference?date=2026-03-01") == ready[:1]
    assert search(world.key1, "DocumentReference?_lastUpdated=gt2026-03-01") == ready[1:]


def test_a_patient_sees_their_plain_language_reports_only(world, record):
    assert search(world.token_a, "DocumentReference") == [
        f"DocumentReference/{record.patient_report.pk}"
    ]
    outcome(world.token_a.get(f"/fhir/r4/DocumentReference/{record.report.pk}"), 404, "not-found")


# --- AuditEvent ----------------------------------------------------------------------------------


def test_a_clinic_administrator_reads_the_trail_as_audit_events(world, record):
    event = AuditEvent.objects.get(
        patient=world.patient_a, action=AuditAction.OUTCOME_RECORD, object_id=record.odi.pk
    )
    AuditEvent.objects.filter(pk=event.pk).update(ip_address="203.0.113.9")
    body = read(record.admin, f"AuditEvent/{event.pk}")
    assert body["subtype"] == [
        {
            "system": body["subtype"][0]["system"],
            "code": "outcome.record",
            "display": "Recorded an outcome measure",
        }
    ]
    assert body["subtype"][0]["system"].endswith("/CodeSystem/audit-action")
    assert body["action"] == "E"
    assert body["agent"] == [
        {
            "who": {"display": event.actor_label},
            "requestor": True,
            "network": {"address": "203.0.113.9", "type": "2"},
        }
    ]
    assert body["entity"] == [{"what": {"reference": f"Patient/{world.patient_a.pk}"}}]
    assert body["recorded"].startswith(event.at.strftime("%Y-%m-%dT%H:%M"))


def test_a_list_read_names_every_patient_it_showed(world, record):
    world.key1.get("/fhir/r4/Condition")
    event = AuditEvent.objects.filter(detail__via="fhir").latest("pk")
    body = read(record.admin, f"AuditEvent/{event.pk}")
    assert body["action"] == "R"
    assert body["entity"] == [
        {"what": {"reference": f"Patient/{world.patient_a.pk}"}},
        {"what": {"reference": f"Patient/{world.patient_b.pk}"}},
    ]


def test_only_clinic_administrators_read_audit_events(world, record):
    clinician = APIClient()
    clinician.force_login(world.clinician.user)
    for client in (world.key1, world.token_a, clinician):
        for url in ("AuditEvent", "AuditEvent/1"):
            message = outcome(client.get(f"/fhir/r4/{url}"), 403, "forbidden")
            assert "clinic administrators" in message
    outcome(world.anonymous.get("/fhir/r4/AuditEvent"), 401, "login")


def test_another_clinics_audit_events_are_not_found(world, record):
    theirs = AuditEvent.objects.filter(clinic=world.clinic2).first()
    outcome(record.admin.get(f"/fhir/r4/AuditEvent/{theirs.pk}"), 404, "not-found")
    ids = {int(i.split("/")[1]) for i in search(record.admin, "AuditEvent?_count=1000")}
    assert ids
    assert not ids & set(
        AuditEvent.objects.exclude(clinic=world.clinic1).values_list("pk", flat=True)
    )


def test_audit_event_search_by_patient_and_date(world, record):
    b = world.patient_b
    world.key1.get("/fhir/r4/Condition")  # a list read naming B among others
    listed = AuditEvent.objects.filter(detail__via="fhir").latest("pk")
    found = search(record.admin, f"AuditEvent?patient={b.pk}&_count=1000")
    expected = AuditEvent.objects.filter(clinic=world.clinic1, patient_ref=b.pk)
    assert found == sorted(
        [f"AuditEvent/{pk}" for pk in [*expected.values_list("pk", flat=True), listed.pk]],
        key=lambda ref: int(ref.split("/")[1]),
    )
    AuditEvent.objects.filter(clinic=world.clinic1).update(
        at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    )
    AuditEvent.objects.filter(pk=listed.pk).update(at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    # (Bounded: each search is itself recorded, today.)
    assert search(record.admin, "AuditEvent?date=ge2026-03-02&date=lt2026-03-03") == [
        f"AuditEvent/{listed.pk}"
    ]
    assert search(
        record.admin, "AuditEvent?_lastUpdated=gt2026-03-01&_lastUpdated=le2026-03-02"
    ) == [f"AuditEvent/{listed.pk}"]


def test_reading_the_trail_is_recorded_in_it(world, record):
    before = AuditEvent.objects.latest("pk").pk
    read(record.admin, "AuditEvent?_count=2")
    [event] = AuditEvent.objects.filter(pk__gt=before)
    assert event.action == AuditAction.AUDIT_READ
    assert event.actor_id == record.admin_user.pk
    assert event.detail["via"] == "fhir"
    # A page of events about no patient still leaves a trace.
    before = event.pk
    read(record.admin, "AuditEvent?patient=999999")
    [event] = AuditEvent.objects.filter(pk__gt=before)
    assert event.action == AuditAction.AUDIT_READ
    assert event.patient_id is None


def test_an_administrators_token_reads_the_trail_too(world, record):
    _, raw = services.personal_token_create(user=record.admin_user, clinic=world.clinic1)
    fhir_json(client_with(f"Token {raw}").get("/fhir/r4/AuditEvent?_count=1"))
    other_admin = APIClient()
    other_admin.force_login(ClinicianFactory(clinic=world.clinic2, is_clinic_admin=True).user)
    assert search(other_admin, f"AuditEvent?patient={world.patient_a.pk}") == []
