"""Every error is an OperationOutcome with its status, in application/fhir+json, never a 500
for bad input and never Django's page."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from rehab.fhir import resources
from tests.fhir.conftest import fhir_json, outcome

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "Foo/1",
        "Foo",
        "Patient/abc",
        "Patient/0",
        f"Patient/{'9' * 19}",
        "Patient/1-pain",
        "Observation/1",
        "Observation/1-mood",
        "Observation/999999-pain",
        "Patient/999999/$everything",
        "Patient/abc/$everything",
        "Condition/1/$everything",
        "Patient/1/_history/1",
        "",
        "patient/1",
    ],
)
def test_unknown_types_ids_and_paths_are_404_outcomes(world, url):
    outcome(world.key1.get(f"/fhir/r4/{url}"), 404, "not-found")


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_patch_and_delete_are_405_outcomes(world, method):
    response = getattr(world.key1, method)(f"/fhir/r4/Patient/{world.patient_a.pk}", {})
    outcome(response, 405, "not-supported")
    outcome(getattr(world.key1, method)("/fhir/r4/Patient", {}), 405, "not-supported")


@pytest.mark.parametrize("method", ["post", "put"])
def test_writes_of_a_type_we_do_not_write_are_405_outcomes(world, method):
    response = getattr(world.key1, method)(f"/fhir/r4/Condition/{world.patient_a.pk}", {})
    outcome(response, 405, "not-supported")
    outcome(getattr(world.key1, method)("/fhir/r4/Condition", {}), 405, "not-supported")
    # Patient is written by type (POST) and by id (PUT), not the other way round.
    outcome(world.key1.post(f"/fhir/r4/Patient/{world.patient_a.pk}", {}), 405, "not-supported")


def test_our_own_failure_is_a_500_outcome_and_logged(world, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(resources, "condition_resource", broken)
    message = outcome(
        world.key1.get(f"/fhir/r4/Patient/{world.patient_a.pk}/$everything"), 500, "exception"
    )
    assert "a bug" not in message
    assert any("FHIR request failed" in record.message for record in caplog.records)


def test_a_dependency_down_is_a_503_outcome_with_retry_after(world, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("database is gone")

    monkeypatch.setattr(resources, "patient_resource", down)
    response = world.key1.get(f"/fhir/r4/Patient/{world.patient_a.pk}")
    outcome(response, 503, "transient")
    assert response["Retry-After"] == "30"


def test_throttled_is_a_429_outcome(world, monkeypatch):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "principal": "1/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    fhir_json(world.key1.get("/fhir/r4/Patient"))
    response = world.key1.get("/fhir/r4/Patient")
    outcome(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("url", "name"), [("Foo", "Foo"), ("Foo/1", "Foo"), ("Medication?patient=1", "Medication")]
)
def test_a_type_we_do_not_serve_is_named(world, url, name):
    message = outcome(world.key1.get(f"/fhir/r4/{url}"), 404, "not-found")
    assert message.startswith(f"This server does not serve {name} resources")
