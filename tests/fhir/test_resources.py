"""Each resource type read by id: its content, as a clinic system would read it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from rehab import services
from rehab.clinical import levels as L
from tests.fhir.conftest import assign_plan, fhir_json

pytestmark = pytest.mark.django_db


def test_patient_carries_record_number_our_id_name_birth_date_and_telecom(world):
    a = world.patient_a
    with override_settings(FHIR_SYSTEM_BASE="https://rehab.example.org/fhir"):
        body = fhir_json(world.key1.get(f"/fhir/r4/Patient/{a.pk}"))
    assert body["resourceType"] == "Patient"
    assert body["id"] == str(a.pk)
    assert body["identifier"] == [
        {
            "use": "usual",
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "MR",
                        "display": "Medical record number",
                    }
                ]
            },
            "system": "https://rehab.example.org/fhir/sid/clinic/one/record-number",
            "value": "MRN-001",
        },
        {
            "use": "secondary",
            "system": "https://rehab.example.org/fhir/sid/patient-id",
            "value": str(a.pk),
        },
    ]
    assert body["name"] == [{"use": "official", "family": "Adams", "given": ["Alex"]}]
    assert body["birthDate"] == "1960-05-17"
    assert body["telecom"] == [
        {"system": "phone", "value": "+44 20 7946 0000"},
        {"system": "email", "value": a.email},
    ]
    assert body["active"] is True
    assert body["managingOrganization"] == {"display": "Clinic One"}
    # The condition, so that a Patient read, changed and sent back keeps it.
    [extension] = body["extension"]
    assert (
        extension["url"] == "https://rehab.example.org/fhir/StructureDefinition/patient-condition"
    )
    assert [c["code"] for c in extension["valueCodeableConcept"]["coding"]] == [
        "239873007",
        "knee_oa",
    ]
    assert body["meta"]["lastUpdated"].startswith(a.updated_at.strftime("%Y-%m-%dT%H:%M"))


def test_patient_without_record_number_has_our_id_only_and_archived_is_inactive(world):
    b = world.patient_b
    services.patient_archive(patient=b, actor=None)
    body = fhir_json(world.key1.get(f"/fhir/r4/Patient/{b.pk}"))
    assert [i["system"].rsplit("/", 1)[1] for i in body["identifier"]] == ["patient-id"]
    assert body["active"] is False


@pytest.mark.parametrize(
    ("condition", "snomed"),
    [
        (L.KNEE_OA, {"code": "239873007", "display": "Osteoarthritis of knee"}),
        (L.CHRONIC_LOW_BACK_PAIN, {"code": "278860009", "display": "Chronic low back pain"}),
    ],
)
def test_condition_is_coded_in_snomed_ct_and_our_codes(world, condition, snomed):
    patient = world.patient_a if condition == L.KNEE_OA else world.patient_b
    body = fhir_json(world.key1.get(f"/fhir/r4/Condition/{patient.pk}"))
    first, ours = body["code"]["coding"]
    assert first == {"system": "http://snomed.info/sct", **snomed}
    assert ours["code"] == condition
    assert body["code"]["text"] == L.CONDITIONS[condition]
    assert body["subject"] == {"reference": f"Patient/{patient.pk}"}
    assert body["clinicalStatus"]["coding"][0]["code"] == "active"


def test_condition_without_a_snomed_mapping_carries_our_code_and_its_name(world):
    world.patient_b.condition = L.PATELLOFEMORAL_PAIN
    world.patient_b.save()
    body = fhir_json(world.key1.get(f"/fhir/r4/Condition/{world.patient_b.pk}"))
    [ours] = body["code"]["coding"]
    assert ours["code"] == L.PATELLOFEMORAL_PAIN
    assert body["code"]["text"] == "Patellofemoral pain"


def test_careplan_has_status_period_condition_activity_and_author(world):
    plan = world.plan
    body = fhir_json(world.key1.get(f"/fhir/r4/CarePlan/{plan.pk}"))
    assert body["status"] == "active"
    assert body["intent"] == "plan"
    assert body["title"] == plan.protocol_name
    assert body["subject"] == {"reference": f"Patient/{world.patient_a.pk}"}
    assert body["period"] == {"start": plan.start_date.isoformat()}
    assert body["addresses"] == [{"reference": f"Condition/{world.patient_a.pk}"}]
    assert body["activity"] == [{"reference": {"reference": f"ServiceRequest/{plan.pk}"}}]
    assert body["author"] == {"display": "Ada Lee"}


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda plan: services.plan_pause(plan=plan, actor=None, reason="Away"), "on-hold"),
        (lambda plan: services.plan_complete(plan=plan, actor=None), "completed"),
        (lambda plan: services.plan_discontinue(plan=plan, actor=None, reason="Moved"), "revoked"),
    ],
)
def test_careplan_and_service_request_status_follow_the_plan(world, change, status):
    change(world.plan)
    for kind in ("CarePlan", "ServiceRequest"):
        body = fhir_json(world.key1.get(f"/fhir/r4/{kind}/{world.plan.pk}"))
        assert body["status"] == status
    if status != "on-hold":
        period = fhir_json(world.key1.get(f"/fhir/r4/CarePlan/{world.plan.pk}"))["period"]
        assert period["end"] == world.patient_a.local_today().isoformat()


def test_service_request_is_exercise_therapy_with_instructions_and_schedule_days(world):
    plan = world.plan
    plan.schedule_days = [4, 0, 2]
    plan.save()
    body = fhir_json(world.key1.get(f"/fhir/r4/ServiceRequest/{plan.pk}"))
    assert body["code"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "229065009", "display": "Exercise therapy"}
    ]
    assert body["intent"] == "order"
    assert body["basedOn"] == [{"reference": f"CarePlan/{plan.pk}"}]
    level = plan.current_prescription().level
    assert body["patientInstruction"].startswith(f"Walk backward for {level.minutes} minutes")
    assert "Stop and log it if you fall" in body["patientInstruction"]
    repeat = body["occurrenceTiming"]["repeat"]
    assert repeat["dayOfWeek"] == ["mon", "wed", "fri"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (1, 1, "d")
    assert (repeat["duration"], repeat["durationUnit"]) == (level.minutes, "min")
    assert repeat["boundsPeriod"] == {"start": plan.level_started_on.isoformat()}


def test_service_request_notes_the_screenings_caps(world):
    # A patient who feels unsteady gets the fall-risk constraints (CLINICAL.md §3): capped.
    from tests.factories import PatientFactory, builtin_protocol, clean_answers

    patient = PatientFactory(clinic=world.clinic1)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition, feels_unsteady=True), actor=None
    )
    plan = services.plan_assign(patient=patient, protocol=builtin_protocol(), actor=None)
    body = fhir_json(world.key1.get(f"/fhir/r4/ServiceRequest/{plan.pk}"))
    assert body["note"][0]["text"].startswith("Within the screening's limits: ")
    assert "supervised sessions only" in body["note"][0]["text"]


def test_session_gives_pain_minutes_and_effort_observations(world):
    session = world.sessions[0]
    services.session_add_next_morning_pain(
        session=session, pain=4, actor=None, today=session.date + dt.timedelta(days=1)
    )
    pain = fhir_json(world.key1.get(f"/fhir/r4/Observation/{session.pk}-pain"))
    assert pain["code"]["coding"][0]["system"] == "http://loinc.org"
    assert pain["code"]["coding"][0]["code"] == "72514-3"
    assert pain["effectiveDateTime"] == session.date.isoformat()
    assert pain["status"] == "final"
    assert pain["subject"] == {"reference": f"Patient/{world.patient_a.pk}"}
    assert pain["basedOn"] == [{"reference": f"ServiceRequest/{world.plan.pk}"}]
    moments = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in pain["component"]}
    assert moments == {"before": 2, "worst": 3, "after": 2, "next-morning": 4}
    assert pain["component"][0]["code"]["coding"][0]["system"].endswith("/CodeSystem/pain-moment")

    minutes = fhir_json(world.key1.get(f"/fhir/r4/Observation/{session.pk}-minutes"))
    assert minutes["code"]["coding"][0]["code"] == "55411-3"
    assert minutes["valueQuantity"] == {
        "value": 10,
        "unit": "min",
        "system": "http://unitsofmeasure.org",
        "code": "min",
    }

    effort = fhir_json(world.key1.get(f"/fhir/r4/Observation/{session.pk}-effort"))
    assert effort["code"]["coding"][0]["code"] == "borg-cr10"
    assert effort["code"]["coding"][0]["system"].endswith("/CodeSystem/session-observation")
    assert effort["valueInteger"] == 3


def test_pain_without_next_morning_rating_has_three_components(world):
    pain = fhir_json(world.key1.get(f"/fhir/r4/Observation/{world.sessions[1].pk}-pain"))
    assert [c["code"]["coding"][0]["code"] for c in pain["component"]] == [
        "before",
        "worst",
        "after",
    ]


def test_plan_for_another_condition_than_the_patients_names_it(world):
    patient = world.patient_b
    plan, _ = assign_plan(patient, actor=None, start=patient.local_today())
    patient.condition = L.KNEE_OA
    patient.save()
    body = fhir_json(world.key1.get(f"/fhir/r4/CarePlan/{plan.pk}"))
    assert body["addresses"] == [{"display": "Chronic low-back pain"}]
