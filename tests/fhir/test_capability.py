"""GET metadata declares exactly what is served: made from the registry the views use, and
checked here against what the door actually answers."""

from __future__ import annotations

import pytest

from rehab.fhir.registry import REGISTRY
from tests.fhir.conftest import fhir_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(world) -> dict:
    return fhir_json(world.anonymous.get("/fhir/r4/metadata"))


def test_capability_statement_is_an_r4_server_speaking_fhir_json(statement):
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert statement["format"] == ["application/fhir+json"]
    [rest] = statement["rest"]
    assert rest["mode"] == "server"
    assert "Api-Key" in rest["security"]["description"]
    assert statement["implementation"]["url"] == "http://testserver/fhir/r4/"


def test_it_lists_exactly_the_types_and_parameters_served(statement):
    declared = {
        resource["type"]: sorted(p["name"] for p in resource["searchParam"])
        for resource in statement["rest"][0]["resource"]
    }
    assert declared == {
        "Patient": ["_lastUpdated", "identifier"],
        "Condition": ["_lastUpdated", "patient"],
        "CarePlan": ["_lastUpdated", "patient", "status"],
        "ServiceRequest": ["_lastUpdated", "patient", "status"],
        "Observation": ["_lastUpdated", "code", "date", "patient", "status"],
        "Goal": ["_lastUpdated", "lifecycle-status", "patient"],
        "Questionnaire": ["url"],
        "QuestionnaireResponse": ["_lastUpdated", "authored", "patient", "status"],
        "AdverseEvent": ["_lastUpdated", "date", "patient"],
        "DocumentReference": ["_lastUpdated", "date", "patient", "status"],
        "AuditEvent": ["_lastUpdated", "date", "patient"],
    }
    interactions = {
        resource["type"]: [i["code"] for i in resource["interaction"]]
        for resource in statement["rest"][0]["resource"]
    }
    assert interactions == {
        "Patient": ["read", "search-type", "create", "update"],
        **{
            kind: ["read", "search-type"]
            for kind in (
                "Condition",
                "CarePlan",
                "ServiceRequest",
                "Observation",
                "Goal",
                "Questionnaire",
                "QuestionnaireResponse",
                "AdverseEvent",
                "DocumentReference",
                "AuditEvent",
            )
        },
    }


def test_every_declared_parameter_is_accepted_and_no_other(world, record, statement):
    sample = {"reference": "1", "date": "ge2026-01-01", "token": "active", "uri": "x"}
    special = {
        ("Patient", "identifier"): "MRN-001",
        ("Observation", "status"): "final",
        ("Observation", "code"): "72514-3",
        ("QuestionnaireResponse", "status"): "completed",
        ("DocumentReference", "status"): "current",
    }
    # A clinic administrator reads every type (AuditEvent is theirs only).
    for resource in statement["rest"][0]["resource"]:
        for param in resource["searchParam"]:
            value = special.get((resource["type"], param["name"]), sample[param["type"]])
            response = record.admin.get(f"/fhir/r4/{resource['type']}?{param['name']}={value}")
            fhir_json(response)
        undeclared = record.admin.get(f"/fhir/r4/{resource['type']}?_text=knee")
        assert undeclared.status_code == 400


def test_the_pain_observation_shape_is_stated(statement):
    [observation] = [r for r in statement["rest"][0]["resource"] if r["type"] == "Observation"]
    for words in ("72514-3", "before, worst, after, next-morning", "55411-3", "Borg CR10"):
        assert words in observation["documentation"]


def test_declared_operations_are_served(world, statement):
    declared = [
        (resource["type"], operation["name"])
        for resource in statement["rest"][0]["resource"]
        for operation in resource.get("operation", [])
    ]
    assert declared == [("Patient", "everything")]
    assert declared == [(rt.name, op) for rt in REGISTRY.values() for op in rt.operations]
    for kind, operation in declared:
        fhir_json(world.key1.get(f"/fhir/r4/{kind}/{world.patient_a.pk}/${operation}"))


def test_everything_holds_every_type_served_about_the_patient(world, record):
    b = world.patient_b
    bundle = fhir_json(world.key1.get(f"/fhir/r4/Patient/{world.patient_a.pk}/$everything"))
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    kinds |= {
        entry["resource"]["resourceType"]
        for entry in fhir_json(world.key1.get(f"/fhir/r4/Patient/{b.pk}/$everything"))["entry"]
    }
    # Not our Questionnaires (definitions, not about the patient) nor the audit trail.
    assert kinds == set(REGISTRY) - {"Questionnaire", "AuditEvent"}
    ids = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]]
    a, plan = world.patient_a.pk, world.plan.pk
    assert ids[:5] == [
        f"Patient/{a}",
        f"Condition/{a}",
        f"CarePlan/{plan}",
        f"ServiceRequest/{plan}",
        f"Goal/{plan}",
    ]
    scores = (record.nprs, record.koos, record.psfs, record.odi)
    assert ids[5 + 3 * len(world.sessions) :] == [
        *(f"Observation/{s.pk}-outcome" for s in scores),
        *(f"QuestionnaireResponse/{s.pk}" for s in scores),
        f"DocumentReference/{record.report.pk}",
        f"DocumentReference/{record.patient_report.pk}",
    ]
    assert all(entry["search"]["mode"] == "match" for entry in bundle["entry"])
    assert "total" not in bundle


def test_the_rest_apis_openapi_schema_leaves_this_door_out(client, db):
    """The CapabilityStatement describes this door; the API's schema (and the schemathesis run
    over it) would otherwise take in views without serializers, with colliding operation ids."""
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    assert paths
    assert [path for path in paths if not path.startswith("/api/v1/")] == []
