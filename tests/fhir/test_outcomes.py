"""Outcome measures: each recorded score an Observation (LOINC where the term exists, our code
always) derived from its QuestionnaireResponse, which answers one of our Questionnaires."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab.clinical import outcomes as O
from rehab.models import OutcomeScore
from tests.fhir.conftest import KOOS_ANSWERS, entries, fhir_json, outcome

pytestmark = pytest.mark.django_db


def read(client, url: str) -> dict:
    return fhir_json(client.get(f"/fhir/r4/{url}"))


def search(client, query: str) -> list[str]:
    return entries(fhir_json(client.get(f"/fhir/r4/{query}")))


def codings(concept: dict) -> list[tuple[str, str]]:
    return [(c["system"].rsplit("/", 1)[-1], c["code"]) for c in concept["coding"]]


def test_koos_is_one_observation_with_a_component_per_subscale(world, record):
    body = read(world.key1, f"Observation/{record.koos.pk}-outcome")
    assert codings(body["code"]) == [("loinc.org", "72091-2"), ("outcome-measure", "koos")]
    assert body["status"] == "final"
    assert body["category"][0]["coding"][0]["code"] == "survey"
    assert body["subject"] == {"reference": f"Patient/{world.patient_a.pk}"}
    assert body["effectiveDateTime"] == record.koos.taken_on.isoformat()
    assert body["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{record.koos.pk}"}]
    by_loinc = {c["code"]["coding"][0]["code"]: c for c in body["component"]}
    assert list(by_loinc) == ["72102-7", "72101-9", "72100-1", "72099-5", "72098-7"]
    assert by_loinc["72102-7"]["valueQuantity"] == {
        "value": record.koos.scores["pain"],
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert by_loinc["72100-1"]["code"]["coding"][1]["code"] == "koos-adl"
    # Sport/Rec had no answers: absent, with the reason, not a made-up 0.
    sport = by_loinc["72099-5"]
    assert "valueQuantity" not in sport
    assert sport["dataAbsentReason"]["text"] == "too few items answered to score"


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        ("nprs", [("loinc.org", "72514-3"), ("outcome-measure", "nprs")]),
        ("odi", [("loinc.org", "97909-6"), ("outcome-measure", "odi")]),
        # No LOINC term we could confirm: our code only, never dressed up as a standard one.
        ("psfs", [("outcome-measure", "psfs")]),
        ("rmdq", [("outcome-measure", "rmdq")]),
    ],
)
def test_a_single_score_is_the_value_coded_in_loinc_where_the_term_exists(
    world, record, measure, expected
):
    score = getattr(record, measure)
    body = read(world.key1, f"Observation/{score.pk}-outcome")
    assert codings(body["code"]) == expected
    assert body["valueQuantity"]["value"] == score.scores["total"]
    assert "component" not in body


def test_womac_has_our_code_only(world, record):
    from rehab import services

    womac = services.outcome_record(
        patient=world.patient_a, measure="womac", answers={"total": 40}, actor=None
    )
    body = read(world.key1, f"Observation/{womac.pk}-outcome")
    assert codings(body["code"]) == [("outcome-measure", "womac")]
    assert body["valueQuantity"]["value"] == 40


def test_questionnaire_response_holds_the_koos_answers_by_printed_part(world, record):
    body = read(world.key1, f"QuestionnaireResponse/{record.koos.pk}")
    assert body["status"] == "completed"
    assert body["questionnaire"].endswith("/Questionnaire/koos|1")
    assert body["subject"] == {"reference": f"Patient/{world.patient_a.pk}"}
    assert body["author"] == {"display": "Ada Lee"}
    assert body["basedOn"] == [{"reference": f"CarePlan/{world.plan.pk}"}]
    parts = [group["linkId"] for group in body["item"]]
    # Sport/Rec was not answered: no empty group.
    assert parts == ["symptoms", "stiffness", "pain", "function-daily-living", "quality-of-life"]
    answers = {
        item["linkId"]: item["answer"][0]["valueInteger"]
        for group in body["item"]
        for item in group["item"]
    }
    assert answers == KOOS_ANSWERS


def test_questionnaire_response_of_psfs_rmdq_nprs_and_odi(world, record):
    psfs = read(world.key1, f"QuestionnaireResponse/{record.psfs.pk}")
    assert [
        (
            group["item"][0]["answer"][0]["valueString"],
            group["item"][1]["answer"][0]["valueInteger"],
        )
        for group in psfs["item"]
    ] == [("Climbing stairs", 4), ("Gardening", 6), ("Walking the dog", 5)]
    rmdq = read(world.key1, f"QuestionnaireResponse/{record.rmdq.pk}")
    assert [item["linkId"] for item in rmdq["item"]] == list(O.RMDQ_ITEMS)
    assert rmdq["item"][0]["answer"] == [{"valueBoolean": True}]
    assert rmdq["item"][1]["answer"] == [{"valueBoolean": False}]
    nprs = read(world.key1, f"QuestionnaireResponse/{record.nprs.pk}")
    assert nprs["item"] == [{"linkId": "score", "answer": [{"valueInteger": 4}]}]
    odi = read(world.key1, f"QuestionnaireResponse/{record.odi.pk}")
    assert odi["item"] == [{"linkId": "total", "answer": [{"valueDecimal": 30.0}]}]


def _link_ids(items: list[dict]) -> set[str]:
    found = set()
    for item in items:
        found.add(item["linkId"])
        found |= _link_ids(item.get("item", []))
    return found


def test_each_response_answers_items_its_questionnaire_has(world, record):
    for score in (record.koos, record.psfs, record.rmdq, record.nprs, record.odi):
        response = read(world.key1, f"QuestionnaireResponse/{score.pk}")
        url, _, version = response["questionnaire"].partition("|")
        [questionnaire] = [
            entry["resource"]
            for entry in fhir_json(world.key1.get(f"/fhir/r4/Questionnaire?url={url}"))["entry"]
        ]
        assert (questionnaire["id"], questionnaire["version"]) == (score.measure, version)
        assert _link_ids(response["item"]) <= _link_ids(questionnaire["item"])


def test_questionnaires_are_our_instrument_definitions(world, settings):
    assert search(world.key1, "Questionnaire") == [f"Questionnaire/{m}" for m in O.MEASURES]
    koos = read(world.key1, "Questionnaire/koos")
    assert koos["url"] == f"{settings.FHIR_SYSTEM_BASE}/Questionnaire/koos"
    assert koos["status"] == "active"
    items = {item["linkId"]: item for group in koos["item"] for item in group["item"]}
    assert items["S4"]["text"] == "Can you straighten your knee fully?"
    assert items["S4"]["type"] == "integer"
    assert items["S4"]["item"][0]["text"].startswith("0 = Always; 1 = Often")
    assert len([code for code in items if not code.endswith("-intro")]) == 42
    rmdq = read(world.key1, "Questionnaire/rmdq")
    assert {item["type"] for item in rmdq["item"]} == {"boolean"}
    # Licensed, not embedded: the one item we hold, said as such.
    odi = read(world.key1, "Questionnaire/odi")
    assert [item["linkId"] for item in odi["item"]] == ["total"]
    assert "licensed" in odi["description"]


def test_questionnaires_need_credentials_but_are_not_patient_data(world):
    outcome(world.anonymous.get("/fhir/r4/Questionnaire/koos"), 401, "login")
    # A patient's token reads them too (they are the forms the patient fills in).
    fhir_json(world.token_a.get("/fhir/r4/Questionnaire/koos"))
    outcome(world.key1.get("/fhir/r4/Questionnaire/sf36"), 404, "not-found")


def test_questionnaire_search_by_url_and_version(world, settings):
    url = f"{settings.FHIR_SYSTEM_BASE}/Questionnaire/rmdq"
    assert search(world.key1, f"Questionnaire?url={url}") == ["Questionnaire/rmdq"]
    assert search(world.key1, f"Questionnaire?url={url}|1") == ["Questionnaire/rmdq"]
    assert search(world.key1, f"Questionnaire?url={url}|2") == []
    assert search(world.key1, "Questionnaire?url=http://example.org/q") == []
    bundle = fhir_json(world.key1.get("/fhir/r4/Questionnaire?_count=4"))
    assert len(entries(bundle)) == 4
    [next_url] = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
    rest = entries(fhir_json(world.key1.get(next_url.removeprefix("http://testserver"))))
    assert rest == ["Questionnaire/odi", "Questionnaire/womac"]


def outcome_ids(*scores) -> list[str]:
    return [f"Observation/{s.pk}-outcome" for s in scores]


def sessions(world, part: str) -> list[str]:
    return [f"Observation/{s.pk}-{part}" for s in world.sessions]


def test_observation_search_gives_the_sessions_then_the_outcome_scores(world, record):
    a = world.patient_a
    found = search(world.key1, f"Observation?patient={a.pk}&_count=100")
    assert found[: 3 * len(world.sessions)] == [
        f"Observation/{s.pk}-{part}"
        for s in world.sessions
        for part in ("pain", "minutes", "effort")
    ]
    assert found[3 * len(world.sessions) :] == outcome_ids(
        record.nprs, record.koos, record.psfs, record.odi
    )


@pytest.mark.parametrize(
    ("code", "parts", "measures"),
    [
        ("72514-3", ["pain"], ["nprs"]),
        ("http://loinc.org|72514-3", ["pain"], ["nprs"]),
        ("55411-3", ["minutes"], []),
        ("borg-cr10", ["effort"], []),
        ("72091-2", [], ["koos"]),
        ("koos", [], ["koos"]),
        ("97909-6,psfs", [], ["psfs", "odi"]),
        ("72514-3,55411-3", ["pain", "minutes"], ["nprs"]),
        # A LOINC code under another system is not it.
        ("http://example.org|72514-3", [], []),
        ("12345-6", [], []),
    ],
)
def test_observation_code_finds_session_and_outcome_observations(
    world, record, code, parts, measures
):
    found = search(world.key1, f"Observation?patient={world.patient_a.pk}&code={code}")
    expected = [
        f"Observation/{s.pk}-{part}"
        for s in world.sessions
        for part in ("pain", "minutes", "effort")
        if part in parts
    ]
    expected += outcome_ids(
        *(getattr(record, m) for m in ("nprs", "koos", "psfs", "odi") if m in measures)
    )
    assert found == expected


def test_observation_code_of_our_session_system(world, settings):
    system = f"{settings.FHIR_SYSTEM_BASE}/CodeSystem/session-observation"
    assert search(world.key1, f"Observation?code={system}|borg-cr10") == sessions(world, "effort")


def test_observation_code_repeated_must_match_both(world, record):
    assert search(world.key1, "Observation?code=72514-3&code=55411-3") == []
    a = world.patient_a.pk
    assert search(
        world.key1, f"Observation?patient={a}&code=72514-3,55411-3&code=55411-3"
    ) == sessions(world, "minutes")


def test_observation_date_and_status_apply_to_both_tables(world, record):
    a = world.patient_a
    last = world.sessions[-1]
    found = search(world.key1, f"Observation?patient={a.pk}&date=ge{last.date}")
    expected = [f"Observation/{last.pk}-{p}" for p in ("pain", "minutes", "effort")]
    expected += outcome_ids(
        *(s for s in (record.nprs, record.koos, record.psfs, record.odi) if s.taken_on >= last.date)
    )
    assert found == expected
    assert search(world.key1, f"Observation?patient={a.pk}&status=final&_count=100") == search(
        world.key1, f"Observation?patient={a.pk}&_count=100"
    )
    assert search(world.key1, "Observation?status=amended") == []
    outcome(world.key1.get("/fhir/r4/Observation?status=done"), 400, "invalid")
    outcome(world.key1.get("/fhir/r4/Observation?code=loinc|"), 400, "invalid")


def test_observation_last_updated_of_an_outcome_score_is_when_it_was_recorded(world, record):
    OutcomeScore.objects.update(created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    OutcomeScore.objects.filter(pk=record.odi.pk).update(
        created_at=dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    )
    found = search(world.key1, "Observation?code=odi,nprs&_lastUpdated=gt2026-03-01")
    assert found == outcome_ids(record.odi)


def test_pages_cross_from_the_sessions_to_the_outcome_scores_without_gaps(world, record):
    a = world.patient_a
    url = f"/fhir/r4/Observation?patient={a.pk}&_count=4"
    seen, cursors = [], []
    while url:
        bundle = fhir_json(world.key1.get(url))
        seen += entries(bundle)
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        if url:
            cursors.append(url.rsplit("_cursor=", 1)[1])
            url = url.removeprefix("http://testserver")
        assert len(cursors) < 10
    assert seen == search(world.key1, f"Observation?patient={a.pk}&_count=100")
    assert len(seen) == 3 * len(world.sessions) + 4
    # The cursor names the second table once the page ends inside it.
    assert cursors[-1].startswith("1%3A")


def test_questionnaire_response_search(world, record):
    a, b = world.patient_a, world.patient_b
    ours = [
        f"QuestionnaireResponse/{s.pk}" for s in (record.nprs, record.koos, record.psfs, record.odi)
    ]
    assert search(world.key1, f"QuestionnaireResponse?patient={a.pk}") == ours
    assert search(world.key1, f"QuestionnaireResponse?patient={b.pk}") == [
        f"QuestionnaireResponse/{record.rmdq.pk}"
    ]
    assert search(world.key1, "QuestionnaireResponse?status=completed") == [
        *ours,
        f"QuestionnaireResponse/{record.rmdq.pk}",
    ]
    assert search(world.key1, "QuestionnaireResponse?status=in-progress") == []
    OutcomeScore.objects.update(created_at=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    OutcomeScore.objects.filter(pk=record.rmdq.pk).update(
        created_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    )
    assert search(world.key1, "QuestionnaireResponse?authored=2026-03-02") == [
        f"QuestionnaireResponse/{record.rmdq.pk}"
    ]
    assert search(world.key1, "QuestionnaireResponse?_lastUpdated=lt2026-03-02") == ours
    bundle = fhir_json(world.key1.get("/fhir/r4/QuestionnaireResponse?_count=2"))
    assert len(entries(bundle)) == 2
    assert [link["relation"] for link in bundle["link"]] == ["self", "next"]


@pytest.mark.parametrize("cursor", ["2:1", "9:1", "1:x", ":1"])
def test_a_cursor_naming_no_table_of_the_type_is_a_400(world, cursor):
    outcome(world.key1.get(f"/fhir/r4/Observation?_cursor={cursor}"), 400, "invalid")
