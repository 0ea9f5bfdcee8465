"""Query counts pinned: a search costs the same for a page of 1 as for a full page, and
$everything the same for a patient with 1 session as with 40 (no query per row)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import PatientFactory
from tests.fhir.conftest import assign_plan, entries, fhir_json

pytestmark = pytest.mark.django_db

# The key's look-up, the rows' query and the audit event's insert. (The key's last use is
# written at most once in API_KEY_TOUCH_INTERVAL: the first request below pays for it.)
SEARCH_QUERIES = 3
# The key, the patient, their plans, their sessions, their outcome scores, their ready reports,
# the audit event.
EVERYTHING_QUERIES = 7


def queries_of(client, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return len(captured), fhir_json(response)


@pytest.fixture
def busy(world):
    """Patient B (clinic one) with a plan and 40 logged sessions, 8 more patients with plans."""
    b = world.patient_b
    assign_plan(b, actor=None, start=b.local_today() - dt.timedelta(days=45), sessions=40)
    for _ in range(8):
        patient = PatientFactory(clinic=world.clinic1)
        assign_plan(patient, actor=world.clinician.user, start=patient.local_today())
    world.key1.get("/fhir/r4/metadata")
    world.key1.get("/fhir/r4/Patient?_count=1")  # the key's last use written
    return world


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        ("Patient", 10),
        ("Condition", 10),
        ("CarePlan", 10),
        ("ServiceRequest", 10),
        ("Observation", 20),
        ("Observation", 100),
    ],
)
def test_search_queries_do_not_grow_with_the_page(busy, kind, count):
    small, small_bundle = queries_of(busy.key1, f"/fhir/r4/{kind}?_count=1")
    full, full_bundle = queries_of(busy.key1, f"/fhir/r4/{kind}?_count={count}")
    assert len(entries(small_bundle)) == 1
    assert len(entries(full_bundle)) == count
    assert small == full == SEARCH_QUERIES


def test_a_search_of_20_observations_with_every_parameter_costs_the_same(busy):
    b = busy.patient_b
    url = (
        f"/fhir/r4/Observation?patient={b.pk}&date=ge2000-01-01&_lastUpdated=ge2000-01-01&_count=20"
    )
    n, bundle = queries_of(busy.key1, url)
    assert len(entries(bundle)) == 20
    assert n == SEARCH_QUERIES
    next_url = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    n, _ = queries_of(busy.key1, next_url.removeprefix("http://testserver"))
    assert n == SEARCH_QUERIES


def test_everything_queries_do_not_grow_with_the_sessions(busy):
    a, b = busy.patient_a, busy.patient_b
    few, few_bundle = queries_of(busy.key1, f"/fhir/r4/Patient/{a.pk}/$everything")
    many, many_bundle = queries_of(busy.key1, f"/fhir/r4/Patient/{b.pk}/$everything")
    # Patient, Condition, and a CarePlan, ServiceRequest and Goal; three per session.
    assert len(entries(few_bundle)) == 5 + 3 * len(busy.sessions)
    assert len(entries(many_bundle)) == 5 + 3 * 40
    assert few == many == EVERYTHING_QUERIES


def test_a_patients_token_search_costs_a_fixed_number(world):
    world.token_a.get("/fhir/r4/Patient")  # the token's last use written
    n, bundle = queries_of(world.token_a, "/fhir/r4/Observation")
    assert len(entries(bundle)) == 3 * len(world.sessions)
    # The token with its user; whether the user is a clinician, then their patient record
    # (with its clinic), as rehab.access.principal_for_user asks; the sessions; the outcome
    # scores (the page is not full after the sessions); the audit event.
    assert n == 6


def test_read_costs_a_fixed_number(world):
    world.key1.get("/fhir/r4/Patient?_count=1")
    for url in (
        f"Patient/{world.patient_a.pk}",
        f"CarePlan/{world.plan.pk}",
        f"Observation/{world.sessions[0].pk}-pain",
    ):
        n, _ = queries_of(world.key1, f"/fhir/r4/{url}")
        assert n == SEARCH_QUERIES, url
