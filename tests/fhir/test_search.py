"""Search: every parameter of every type, and paging through the next links."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import services
from rehab.models import Patient, Plan, SessionLog
from tests.factories import PatientFactory
from tests.fhir.conftest import assign_plan, entries, fhir_json, outcome

pytestmark = pytest.mark.django_db


def search(client, query: str) -> list[str]:
    return entries(fhir_json(client.get(f"/fhir/r4/{query}")))


def observations(*sessions) -> list[str]:
    return [
        f"Observation/{s.pk}-{part}" for s in sessions for part in ("pain", "minutes", "effort")
    ]


def test_patient_search_lists_the_clinics_patients_in_id_order(world):
    a, b = world.patient_a, world.patient_b
    assert search(world.key1, "Patient") == [f"Patient/{a.pk}", f"Patient/{b.pk}"]


def test_every_entry_has_its_full_url_and_match_mode(world):
    bundle = fhir_json(world.key1.get("/fhir/r4/Patient"))
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/fhir/r4/Patient/{world.patient_a.pk}"
    assert entry["search"] == {"mode": "match"}
    assert bundle["link"] == [{"relation": "self", "url": "http://testserver/fhir/r4/Patient"}]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("identifier=MRN-001", True),
        ("identifier={record}|MRN-001", True),
        ("identifier={ours}|{pk}", True),
        ("identifier={pk}", True),
        ("identifier=MRN-002", False),
        # Clinic two's system: its patient with the same number is not ours to see.
        ("identifier={other}|MRN-001", False),
        ("identifier=|MRN-001", False),
    ],
)
def test_patient_identifier(world, settings, query, found):
    base = settings.FHIR_SYSTEM_BASE
    query = query.format(
        record=f"{base}/sid/clinic/one/record-number",
        other=f"{base}/sid/clinic/two/record-number",
        ours=f"{base}/sid/patient-id",
        pk=world.patient_a.pk,
    )
    expected = [f"Patient/{world.patient_a.pk}"] if found else []
    assert search(world.key1, f"Patient?{query}") == expected


def test_patient_last_updated_ge_and_gt(world):
    a, b = world.patient_a, world.patient_b
    Patient.objects.filter(pk=a.pk).update(updated_at=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    Patient.objects.filter(pk=b.pk).update(updated_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    assert search(world.key1, "Patient?_lastUpdated=ge2026-03-01") == [
        f"Patient/{a.pk}",
        f"Patient/{b.pk}",
    ]
    assert search(world.key1, "Patient?_lastUpdated=gt2026-03-01") == [f"Patient/{b.pk}"]
    assert search(world.key1, "Patient?_lastUpdated=gt2026-03-01T12:00:00Z") == [f"Patient/{b.pk}"]
    assert search(world.key1, "Patient?_lastUpdated=ge2026-03-01T12:00:00%2B00:00") == [
        f"Patient/{a.pk}",
        f"Patient/{b.pk}",
    ]
    assert search(world.key1, "Patient?_lastUpdated=lt2026-03-02") == [f"Patient/{a.pk}"]
    assert search(world.key1, "Patient?_lastUpdated=le2026-03-01") == [f"Patient/{a.pk}"]
    assert search(world.key1, "Patient?_lastUpdated=2026-03-02") == [f"Patient/{b.pk}"]
    # Repeated: both bounds apply.
    assert search(world.key1, "Patient?_lastUpdated=ge2026-03-01&_lastUpdated=lt2026-03-02") == [
        f"Patient/{a.pk}"
    ]


def test_condition_search_by_patient(world):
    a, b = world.patient_a, world.patient_b
    assert search(world.key1, "Condition") == [f"Condition/{a.pk}", f"Condition/{b.pk}"]
    assert search(world.key1, f"Condition?patient={b.pk}") == [f"Condition/{b.pk}"]
    assert search(world.key1, f"Condition?patient=Patient/{b.pk}") == [f"Condition/{b.pk}"]
    assert search(world.key1, f"Condition?patient={a.pk},{b.pk}") == [
        f"Condition/{a.pk}",
        f"Condition/{b.pk}",
    ]


def test_careplan_and_service_request_search_by_patient_and_status(world):
    b = world.patient_b
    plan_b, _ = assign_plan(b, actor=None, start=b.local_today())
    services.plan_pause(plan=plan_b, actor=None, reason="Away")
    a_plan = world.plan
    for kind in ("CarePlan", "ServiceRequest"):
        assert search(world.key1, kind) == [f"{kind}/{a_plan.pk}", f"{kind}/{plan_b.pk}"]
        assert search(world.key1, f"{kind}?patient={b.pk}") == [f"{kind}/{plan_b.pk}"]
        assert search(world.key1, f"{kind}?status=active") == [f"{kind}/{a_plan.pk}"]
        assert search(world.key1, f"{kind}?status=on-hold") == [f"{kind}/{plan_b.pk}"]
        assert search(world.key1, f"{kind}?status=active,on-hold") == [
            f"{kind}/{a_plan.pk}",
            f"{kind}/{plan_b.pk}",
        ]
        assert search(world.key1, f"{kind}?status=completed") == []
        # A status FHIR has and we never use matches nothing; one it does not have is an error.
        assert search(world.key1, f"{kind}?status=draft") == []
        outcome(world.key1.get(f"/fhir/r4/{kind}?status=paused"), 400, "invalid")


def test_careplan_last_updated(world):
    Plan.objects.filter(pk=world.plan.pk).update(updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert search(world.key1, "CarePlan?_lastUpdated=gt2026-03-01") == []
    assert search(world.key1, "CarePlan?_lastUpdated=ge2026-03-01") == [f"CarePlan/{world.plan.pk}"]


def test_observation_search_by_patient_and_date(world):
    s1, s2, s3 = world.sessions
    assert search(world.key1, f"Observation?patient={world.patient_a.pk}") == observations(
        s1, s2, s3
    )
    assert search(world.key1, f"Observation?patient={world.patient_b.pk}") == []
    assert search(world.key1, f"Observation?date={s2.date}") == observations(s2)
    assert search(world.key1, f"Observation?date=ge{s2.date}") == observations(s2, s3)
    assert search(world.key1, f"Observation?date=gt{s2.date}") == observations(s3)
    assert search(world.key1, f"Observation?date=le{s2.date}") == observations(s1, s2)
    assert search(world.key1, f"Observation?date=lt{s2.date}") == observations(s1)
    assert search(world.key1, f"Observation?date=ge{s1.date}&date=lt{s3.date}") == observations(
        s1, s2
    )


def test_observation_last_updated_follows_a_next_morning_rating(world):
    s2 = world.sessions[1]
    SessionLog.objects.update(updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    services.session_add_next_morning_pain(
        session=s2, pain=1, actor=None, today=s2.date + dt.timedelta(days=1)
    )
    assert search(world.key1, "Observation?_lastUpdated=gt2026-03-01") == observations(s2)


def test_search_pages_through_next_links_without_gaps_or_repeats(world):
    """Each session gives three Observations, so pages of 4 end inside a session: the cursor
    names the session and how many of its resources were given."""
    more = PatientFactory(clinic=world.clinic1)
    _, extra = assign_plan(
        more, actor=None, start=more.local_today() - dt.timedelta(days=3), sessions=2
    )
    url = "/fhir/r4/Observation?_count=4"
    seen, pages = [], 0
    while url:
        bundle = fhir_json(world.key1.get(url))
        page = entries(bundle)
        assert len(page) <= 4
        seen += page
        pages += 1
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        assert pages < 10
    assert seen == observations(*world.sessions, *extra)
    assert pages == 4  # 15 resources: 4 + 4 + 4 + 3, the last page without a next link


def test_next_link_keeps_the_search(world):
    bundle = fhir_json(
        world.key1.get(f"/fhir/r4/Observation?patient={world.patient_a.pk}&_count=2")
    )
    [next_url] = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
    assert next_url.startswith("http://testserver/fhir/r4/Observation?")
    assert f"patient={world.patient_a.pk}" in next_url
    assert "_count=2" in next_url
    second = entries(fhir_json(world.key1.get(next_url.removeprefix("http://testserver"))))
    assert second == observations(world.sessions[0])[2:] + observations(world.sessions[1])[:1]


def test_count_above_the_maximum_is_served_as_the_maximum(world, settings):
    settings.API_MAX_PAGE_SIZE = 2
    bundle = fhir_json(world.key1.get("/fhir/r4/Observation?_count=50"))
    assert len(entries(bundle)) == 2


def test_default_page_size(world, settings):
    settings.FHIR_PAGE_SIZE = 5
    assert len(search(world.key1, "Observation")) == 5


@pytest.mark.parametrize(
    "query",
    [
        "Observation?_count=0",
        "Observation?_count=-1",
        "Observation?_count=many",
        "Observation?_count=2&_count=3",
        "Observation?_cursor=abc",
        "Observation?_cursor=1.2.3",
        "Observation?date=yesterday",
        "Observation?date=2026-02-30",
        "Observation?date=sa2026-03-01",
        "Observation?date=ge2026-03-01T10:00:00Z",
        "Patient?_lastUpdated=2026-03",
        "Patient?_lastUpdated=ge2026-03-01T25:00:00Z",
        "Patient?identifier=",
        "Patient?identifier=system|",
        "Condition?patient=Group/1",
    ],
)
def test_unreadable_search_values_are_400_outcomes(world, query):
    outcome(world.key1.get(f"/fhir/r4/{query}"), 400, "invalid")


@pytest.mark.parametrize(
    "query",
    [
        "Patient?name=Adams",
        "Patient?identifier:exact=MRN-001",
        "Observation?category=survey",
        "Patient?_sort=_id",
    ],
)
def test_parameters_we_do_not_support_are_refused_not_ignored(world, query):
    message = outcome(world.key1.get(f"/fhir/r4/{query}"), 400, "not-supported")
    assert "GET metadata lists" in message


def test_ids_that_cannot_be_ours_match_nothing(world):
    assert search(world.key1, "Condition?patient=abc") == []
    assert search(world.key1, f"Condition?patient={'9' * 19}") == []


def test_accept_header_does_not_matter(world):
    for accept in ("application/json", "application/fhir+json", "text/html", "*/*"):
        response = world.key1.get("/fhir/r4/Patient", HTTP_ACCEPT=accept)
        fhir_json(response)
