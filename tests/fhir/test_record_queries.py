"""Query counts of the rest of the record pinned: a page costs the same for 1 resource as for a
full page, and $everything the same whatever the number of rows."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import services
from rehab.models import SessionLog
from tests.fhir.conftest import entries
from tests.fhir.test_queries import EVERYTHING_QUERIES, SEARCH_QUERIES, queries_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(world, record):
    """Patient A with 12 outcome scores, patient B with 12 sessions with a fall, 12 ready
    reports of A."""
    from tests.fhir.conftest import ready_report

    a = world.patient_a
    for n in range(12):
        services.outcome_record(patient=a, measure="nprs", answers={"score": n % 11}, actor=None)
        ready_report(a, audience="clinician")
    # Sessions with a fall (and every other one chest pain) on B's plan, written as rows: the
    # service would pause the plan at the first.
    base = record.unsafe
    SessionLog.objects.bulk_create(
        SessionLog(
            plan_id=base.plan_id,
            patient_id=base.patient_id,
            date=base.date - dt.timedelta(days=n + 1),
            level_index=0,
            minutes_done=5,
            pain_before=1,
            pain_worst=2,
            pain_after=1,
            effort=3,
            setting=base.setting,
            fall=True,
            chest_pain=n % 2 == 0,
        )
        for n in range(12)
    )
    world.key1.get("/fhir/r4/Patient?_count=1")  # the key's last use written
    return world


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        ("Goal", 2),
        ("QuestionnaireResponse", 10),
        ("AdverseEvent", 10),
        ("DocumentReference", 10),
        # Within the sessions' Observations (13 sessions: 39).
        ("Observation", 30),
    ],
)
def test_search_queries_do_not_grow_with_the_page(many, kind, count):
    small, small_bundle = queries_of(many.key1, f"/fhir/r4/{kind}?_count=1")
    full, full_bundle = queries_of(many.key1, f"/fhir/r4/{kind}?_count={count}")
    assert len(entries(small_bundle)) == 1
    assert len(entries(full_bundle)) == count
    assert small == full == SEARCH_QUERIES


def test_a_page_reaching_the_outcome_scores_costs_one_query_and_one_event_more(many):
    a = many.patient_a.pk
    # A's 3 sessions (9 Observations) then their scores: 10 and 20 resources.
    for count in (10, 20):
        n, bundle = queries_of(many.key1, f"/fhir/r4/Observation?patient={a}&_count={count}")
        assert len(entries(bundle)) == count
        # The key; the sessions; the scores; an event for each table shown.
        assert n == SEARCH_QUERIES + 2
    # A code no session Observation has: the sessions are not even asked.
    n, bundle = queries_of(many.key1, f"/fhir/r4/Observation?patient={a}&code=nprs&_count=5")
    assert len(entries(bundle)) == 5
    assert n == SEARCH_QUERIES


def test_questionnaires_cost_the_key_only(many):
    n, bundle = queries_of(many.key1, "/fhir/r4/Questionnaire")
    assert len(entries(bundle)) == 6
    assert n == 1


def test_audit_events_cost_a_fixed_number(many, record):
    record.admin.get("/fhir/r4/Patient?_count=1")
    small, _ = queries_of(record.admin, "/fhir/r4/AuditEvent?_count=1")
    full, bundle = queries_of(record.admin, "/fhir/r4/AuditEvent?_count=20")
    assert len(entries(bundle)) == 20
    # The session and its user; the clinician (with the clinic); the rows; the event.
    assert small == full == 5


def test_everything_queries_do_not_grow_with_the_record(many, record):
    a, b = many.patient_a, many.patient_b
    few, few_bundle = queries_of(many.key1, f"/fhir/r4/Patient/{b.pk}/$everything")
    lots, lots_bundle = queries_of(many.key1, f"/fhir/r4/Patient/{a.pk}/$everything")
    kinds = {e["resource"]["resourceType"] for e in few_bundle["entry"]}
    assert {"AdverseEvent", "QuestionnaireResponse", "Goal"} <= kinds
    assert len(entries(lots_bundle)) >= 60
    assert few == lots == EVERYTHING_QUERIES
