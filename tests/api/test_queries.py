"""Every list endpoint costs the same number of queries for 1 row or 50 (a full page of 50)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from rehab import services
from rehab.models import Reminder
from tests.factories import ClinicFactory, PatientFactory, builtin_protocol, clean_answers

pytestmark = pytest.mark.django_db

LISTS = [
    "patients",
    "screenings",
    "protocols",
    "plans",
    "sessions",
    "decisions",
    "outcomes",
    "reminders",
    "audit-events",
]


def populate(clinic, n):
    """n patients, each with a screening, a plan, a logged session (and its evaluation's
    decision), an outcome score and a reminder."""
    protocol = builtin_protocol()
    for _ in range(n):
        patient = PatientFactory(clinic=clinic)
        start = patient.local_today() - dt.timedelta(days=2)
        services.screening_submit(
            patient=patient, answers=clean_answers(patient.condition), actor=None, today=start
        )
        plan = services.plan_assign(
            patient=patient, protocol=protocol, actor=None, start_date=start, today=start
        )
        session = services.session_log(
            plan=plan,
            actor=None,
            date=start,
            today=start,
            minutes_done=10,
            pain_before=1,
            pain_worst=2,
            pain_after=1,
            effort=3,
            setting="treadmill_both_handrails",
        )
        services.session_evaluate(session_id=session.pk)  # the worker's part, done
        services.outcome_record(patient=patient, measure="nprs", answers={"score": 4}, actor=None)
        Reminder.objects.create(
            patient=patient,
            plan=plan,
            due_date=start,
            channel="email",
            scheduled_for=dt.datetime.now(dt.UTC),
        )


def admin_client(clinic):
    from tests.factories import ClinicianFactory

    client = APIClient()
    client.force_login(ClinicianFactory(clinic=clinic, is_clinic_admin=True).user)
    return client


def count_queries(client, resource):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/v1/{resource}/?page_size=50")
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["results"])


@pytest.fixture(scope="module")
def counts(django_db_blocker, django_db_setup):
    """Query counts per list for a clinic with one patient and one with fifty, in one database
    (made once for the module: populating fifty patients is the slow part)."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            small, large = ClinicFactory(), ClinicFactory()
            populate(small, 1)
            populate(large, 50)
            result = {}
            for clinic in (small, large):
                client = admin_client(clinic)
                client.get("/api/v1/patients/")  # warm the session and content-type caches
                result[clinic.pk] = {r: count_queries(client, r) for r in LISTS}
            transaction.set_rollback(True)
    return result[small.pk], result[large.pk]


@pytest.mark.parametrize("resource", LISTS)
def test_a_list_costs_the_same_queries_for_one_row_or_fifty(counts, resource):
    small, large = counts
    (small_queries, small_rows), (large_queries, large_rows) = small[resource], large[resource]
    if resource not in ("protocols", "audit-events"):
        assert (small_rows, large_rows) == (1, 50)
    assert small_queries == large_queries
    assert large_queries == PINNED[resource]


# Every list: the session, its user, the clinician with the clinic (one join), the count, the
# page. Then one more, whatever the page size: the insert of the read's audit event (one for the
# response, naming the patients shown; the listing rows come with it, by trigger), or for
# protocols the prefetch of their levels. The audit trail pages by cursor: no count (6 before).
PINNED = {
    "patients": 6,
    "screenings": 6,
    "protocols": 6,
    "plans": 6,
    "sessions": 6,
    "decisions": 6,
    "outcomes": 6,
    "reminders": 6,
    "audit-events": 5,
}


def test_logging_a_session_through_the_api_costs_a_fixed_number_of_queries(world, api):
    from tests.api.test_api import session_body

    def post(day):
        with CaptureQueriesContext(connection) as ctx:
            response = api.post("/api/v1/sessions/", session_body(world, date=str(day)))
        assert response.status_code == 201, response.content
        return len(ctx.captured_queries)

    today = world.patient_a.local_today()
    # The key (with its clinic), then the service: savepoint pair, the plan named in the body
    # looked up once (scoped to the key's clinic, locked), insert the session (its evaluation
    # due in the same row), audit: 6. The progression evaluation is the worker's, and so is
    # marking the patient's stored dashboard need stale. The first request also records the
    # key's use (at most once a minute): 7. (Before the evaluation was deferred: 15 and 13.)
    assert post(today) == 7
    assert post(today - dt.timedelta(days=1)) == 6


@pytest.mark.django_db(transaction=True)
def test_a_page_of_patients_writes_its_audit_event_in_one_statement_without_a_transaction():
    """The page's read audit was a bulk insert of one row per patient, which Django wraps in
    BEGIN ... COMMIT: two more round trips per page. Now one INSERT of one event."""
    clinic = ClinicFactory()
    for _ in range(3):
        PatientFactory(clinic=clinic)
    client = admin_client(clinic)
    client.get("/api/v1/patients/")  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/patients/")
    assert len(response.json()["results"]) == 3
    statements = [q["sql"].split()[0].upper() for q in ctx.captured_queries]
    assert "BEGIN" not in statements
    assert "COMMIT" not in statements
    assert statements.count("INSERT") == 1
    assert len(statements) == PINNED["patients"]


def test_changing_a_patient_through_the_api_reads_no_clinic_of_its_own(world, api):
    # The patient comes from the key's clinic: the service's webhook check reads the events from
    # that clinic row, not from a query of its own (a clinic without endpoints pays nothing).
    patient = world.patient_a
    url = f"/api/v1/patients/{patient.pk}/"
    api.get(url)  # the key's last use written
    with CaptureQueriesContext(connection) as ctx:
        response = api.patch(url, {"phone": "+441632960123"}, format="json")
    assert response.status_code == 200, response.content
    assert not [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "rehab_clinic".')]
    # The key (with its clinic), the patient, the service: savepoints, the clinic's existence
    # (model validation), the record number's uniqueness (its savepoint pair), the update, the
    # audit event.
    assert len(ctx.captured_queries) == 10
