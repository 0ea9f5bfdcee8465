"""The API as a clinic system uses it: the worked example of the README, the error shape,
idempotent retries, throttling, sync filters, audited reads, documentation."""

import datetime as dt
import re
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from freezegun import freeze_time
from rest_framework.test import APIClient

from rehab import services
from rehab.models import Alert, AuditEvent, IdempotencyRecord, Plan, SessionLog
from rehab.selectors.search import SEARCH_MAX_LENGTH
from tests.api.conftest import _key_client
from tests.factories import PatientFactory, clean_answers

pytestmark = pytest.mark.django_db
R = "/api/v1"


def test_worked_example_create_screen_assign_log_three_sessions_see_the_decision(world, api):
    """The README's curl example, step by step, over a week of the patient's time."""
    monday = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with freeze_time(monday):
        patient = api.post(
            f"{R}/patients/",
            {
                "first_name": "Jo",
                "last_name": "Bloggs",
                "condition": "knee_oa",
                "timezone": "Europe/London",
                "reminder_time": "08:30",
            },
        ).json()
        assert patient["reminder_time"] == "08:30"
        screening = api.post(
            f"{R}/screenings/", {"patient": patient["id"], "answers": clean_answers("knee_oa")}
        )
        assert screening.status_code == 201
        assert screening.json()["verdict"] == {
            "status": "cleared",
            "referral": "none",
            "reasons": [],
            "missing": [],
            "constraints": {},
        }
        protocol = api.get(f"{R}/protocols/?condition=knee_oa&builtin=true").json()["results"][0]
        plan = api.post(
            f"{R}/plans/",
            {"patient": patient["id"], "protocol": protocol["id"], "auto_apply": True},
        ).json()
        assert plan["current_level"] == 1
        assert plan["prescription"]["minutes"] == 10
    for n in (0, 2, 4):
        day = (monday + dt.timedelta(days=n)).date()
        with freeze_time(monday + dt.timedelta(days=n + 1)):  # logged the next morning
            response = api.post(
                f"{R}/sessions/",
                {
                    "plan": plan["id"],
                    "date": str(day),
                    "minutes_done": 10,
                    "pain_before": 2,
                    "pain_worst": 3,
                    "pain_after": 2,
                    "pain_next_morning": 2,
                    "effort": 3,
                    "setting": "treadmill_both_handrails",
                    "speed_kmh": 1.5,
                },
            )
            assert response.status_code == 201, response.content
    decisions = api.get(f"{R}/decisions/?plan={plan['id']}&ordering=-id").json()["results"]
    latest = decisions[0]
    # Three good sessions and the level's 7 days not yet over: hold, saying why.
    assert latest["outcome"] == "hold"
    assert [r["code"] for r in latest["reasons"]] == ["min_days"]
    with freeze_time(monday + dt.timedelta(days=7, hours=3)):
        api.post(
            f"{R}/sessions/",
            {
                "plan": plan["id"],
                "date": str((monday + dt.timedelta(days=6)).date()),
                "minutes_done": 10,
                "pain_before": 2,
                "pain_worst": 3,
                "pain_after": 2,
                "pain_next_morning": 1,
                "effort": 3,
                "setting": "treadmill_both_handrails",
            },
        )
    latest = api.get(f"{R}/decisions/?plan={plan['id']}&ordering=-id").json()["results"][0]
    assert latest["outcome"] == "advance"
    assert latest["status"] == "applied"
    assert api.get(f"{R}/plans/{plan['id']}/").json()["current_level"] == 2


def test_a_blocked_screening_refuses_the_plan_with_a_stable_code(world, api):
    answers = clean_answers("knee_oa", suspected_dvt=True)
    api.post(f"{R}/screenings/", {"patient": world.patient_c.pk, "answers": answers})
    response = api.post(
        f"{R}/plans/", {"patient": world.patient_c.pk, "protocol": world.builtin.pk}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "screening_blocked"
    assert "urgent" in body["message"]


def test_screening_answers_errors_name_the_answer(world, api):
    response = api.post(
        f"{R}/screenings/", {"patient": world.patient_c.pk, "answers": {"berg_score": "high"}}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "berg_score" in body["fields"]


def test_field_errors_of_a_bad_session_log(world, api):
    response = api.post(
        f"{R}/sessions/",
        {"plan": world.plan.pk, "date": "tomorrow", "minutes_done": 0, "pain_worst": 11},
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert {"date", "minutes_done", "pain_worst", "pain_before", "setting"} <= set(fields)


def test_logging_on_a_paused_plan_is_a_409_with_plan_paused(world, api):
    api.post(f"{R}/plans/{world.plan.pk}/pause/", {"reason": "Away"})
    response = api.post(f"{R}/sessions/", session_body(world))
    assert response.status_code == 409
    assert response.json()["code"] == "plan_paused"


def test_a_fall_logged_late_for_a_day_before_the_level_change_pauses_and_alerts(world, api):
    """The clinician moved the plan up yesterday; a clinic system records today a fall of the
    day before: the plan pauses at once and its clinicians are alerted (CLINICAL.md §4.1)."""
    today = world.patient_a.local_today()
    services.plan_set_level(
        plan=world.plan,
        level=2,
        actor=None,
        reason="Doing well",
        today=today - dt.timedelta(days=1),
    )
    fell_on = today - dt.timedelta(days=2)
    response = api.post(f"{R}/sessions/", session_body(world, date=str(fell_on), fall=True))
    assert response.status_code == 201, response.content
    assert api.get(f"{R}/plans/{world.plan.pk}/").json()["status"] == "paused"
    decision = response.json()["decision"]
    assert decision["outcome"] == "pause"
    assert decision["alert"] is True
    assert decision["reasons"][0]["code"] == "fall"
    alerted = Alert.objects.filter(decision_id=decision["id"], kind=Alert.Kind.PAUSE)
    assert alerted.exists()


def session_body(world, **overrides):
    body = {
        "plan": world.plan.pk,
        "date": str(world.patient_a.local_today()),
        "minutes_done": 10,
        "pain_before": 1,
        "pain_worst": 2,
        "pain_after": 1,
        "effort": 3,
        "setting": "treadmill_both_handrails",
    }
    body.update(overrides)
    return body


def test_a_retried_post_with_the_same_idempotency_key_creates_once(world, api):
    first = api.post(f"{R}/sessions/", session_body(world), HTTP_IDEMPOTENCY_KEY="abc-1")
    again = api.post(f"{R}/sessions/", session_body(world), HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert SessionLog.objects.filter(plan=world.plan).count() == 2  # the world's one + this one


def test_a_key_reused_for_another_body_is_refused(world, api):
    api.post(f"{R}/sessions/", session_body(world), HTTP_IDEMPOTENCY_KEY="abc-2")
    response = api.post(
        f"{R}/sessions/", session_body(world, notes="different"), HTTP_IDEMPOTENCY_KEY="abc-2"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_idempotency_keys_are_per_caller(world, api):
    other = world.clients["clinician1"]
    api.post(f"{R}/sessions/", session_body(world), HTTP_IDEMPOTENCY_KEY="same")
    response = other.post(
        f"{R}/sessions/", session_body(world), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    # Not a replay of the key's response: the clinician's own request ran (and met the day's log).
    assert response.status_code == 409
    assert response.json()["code"] == "session_duplicate"


def test_a_retry_while_the_first_request_runs_is_told_to_wait(world, api):
    IdempotencyRecord.objects.create(owner=f"key:{api_key_id(world)}", key="busy", fingerprint="x")
    response = api.post(
        f"{R}/plans/",
        {"patient": world.patient_c.pk, "protocol": world.builtin.pk},
        HTTP_IDEMPOTENCY_KEY="busy",
    )
    assert response.status_code in (409, 422)
    assert response.json()["code"].startswith("idempotency_")


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the tests' in-memory SQLite refuses a second writer instead of making it wait",
)
@pytest.mark.django_db(transaction=True)
def test_a_retry_sent_while_the_first_request_runs_waits_and_gets_its_response(world, monkeypatch):
    """A phone that times out and retries at once: the retry waits for the first request (whose
    transaction holds the key) and is answered with its response, not a 409 to retry later."""
    real = services.session_log
    inside, finish = threading.Event(), threading.Event()

    def slow(**kwargs):
        log = real(**kwargs)
        inside.set()  # the session written, its transaction still open
        finish.wait(10)
        return log

    monkeypatch.setattr(services, "session_log", slow)
    body = session_body(world)
    responses = {}

    def send(name):
        try:
            client = _key_client(world.key1)
            responses[name] = client.post(f"{R}/sessions/", body, HTTP_IDEMPOTENCY_KEY="race-1")
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert inside.wait(10)
    retry = threading.Thread(target=send, args=("retry",))
    retry.start()
    retry.join(0.5)
    assert retry.is_alive()  # waiting for the first, not answered yet
    finish.set()
    first.join(10)
    retry.join(10)
    assert responses["first"].status_code == responses["retry"].status_code == 201
    assert responses["retry"].json() == responses["first"].json()
    assert responses["retry"]["Idempotent-Replayed"] == "true"
    assert SessionLog.objects.filter(plan=world.plan).count() == 2  # the world's one + this one


def api_key_id(world):
    from rehab.models import ApiKey

    return ApiKey.objects.get(clinic=world.clinic1, name="EHR").pk


def test_idempotent_plan_assignment_creates_one_plan(world, api):
    body = {"patient": world.patient_c.pk, "protocol": world.builtin.pk}
    responses = [api.post(f"{R}/plans/", body, HTTP_IDEMPOTENCY_KEY="plan-c") for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Plan.objects.filter(patient=world.patient_c).count() == 1


def test_an_invalid_request_is_not_remembered_under_its_key(world, api):
    bad = api.post(
        f"{R}/sessions/", session_body(world, minutes_done=0), HTTP_IDEMPOTENCY_KEY="fix-me"
    )
    assert bad.status_code == 400
    good = api.post(
        f"{R}/sessions/", session_body(world, minutes_done=0), HTTP_IDEMPOTENCY_KEY="fix-me"
    )
    assert good.status_code == 400  # still validated afresh, not replayed from a stored answer
    assert "Idempotent-Replayed" not in good


def test_throttling_answers_429_with_retry_after(world, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "principal": "3/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        api = world.clients["key1"]
        codes = [api.get(f"{R}/patients/").status_code for _ in range(4)]
        last = api.get(f"{R}/patients/")
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert codes[:3] == [200, 200, 200]
    assert last.status_code == 429
    assert int(last["Retry-After"]) > 0
    assert last.json()["code"] == "throttled"


def test_updated_since_returns_only_what_changed(world, api):
    cutoff = world.patient_a.updated_at + dt.timedelta(microseconds=1)
    api.patch(f"{R}/patients/{world.patient_b.pk}/", {"phone": "123"})
    changed = api.get(f"{R}/patients/", {"updated_since": cutoff.isoformat()}).json()
    ids = [row["id"] for row in changed["results"]]
    assert world.patient_b.pk in ids
    assert world.patient_a.pk not in ids


def test_search_finds_by_every_word_as_the_dashboard_does(world, api):
    """Before, the API matched the whole string against the names and record number only, so
    "ann smith" or an e-mail found nobody; now every word must match one of them or the e-mail."""
    ann = PatientFactory(
        clinic=world.clinic1, first_name="Ann", last_name="Smith", email="ann@mail.test"
    )
    PatientFactory(clinic=world.clinic1, first_name="Anna", last_name="Jones")
    PatientFactory(clinic=world.clinic2, first_name="Ann", last_name="Smith")  # not theirs

    def found(search: str) -> list[int]:
        return [
            row["id"] for row in api.get(f"{R}/patients/", {"search": search}).json()["results"]
        ]

    assert found("ann smith") == [ann.pk]
    assert found("ANN@MAIL") == [ann.pk]
    assert found("smith nobody") == []


def test_a_search_longer_than_the_dashboards_is_refused_on_its_field(world, api):
    """Each word adds four conditions to the query: a search of a thousand words made SQLite
    give up ("Expression tree is too large") and answered 500. The limit is the dashboard's."""
    r = api.get(f"{R}/patients/", {"search": " ".join(["a"] * 1500)})
    assert r.status_code == 400
    assert "search" in r.json()["fields"]
    assert api.get(f"{R}/patients/", {"search": "a" * SEARCH_MAX_LENGTH}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "page_size=0",
        "page_size=101",
        "status=",
        "archived=maybe",
        "ordering=password",
        "patient=1.5",
        "patient=-1",
        "updated_since=yesterday",
    ],
)
def test_bad_list_parameters_are_400_with_the_parameter_named(world, api, query):
    resource = "patients" if query.startswith("archived") else "plans"
    response = api.get(f"{R}/{resource}/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["fields"]


def test_page_size_is_capped_and_pages_link_on(world, api):
    response = api.get(f"{R}/patients/?page_size=1").json()
    assert len(response["results"]) == 1
    assert "page=2" in response["next"]


def test_every_read_of_patient_data_is_audited_one_event_per_response(world):
    AuditEvent.objects.all().delete()
    listed = world.clients["key1"].get(f"{R}/patients/").json()["results"]
    world.clients["patient_a"].get(f"{R}/sessions/{world.session.pk}/")
    events = AuditEvent.objects.filter(action__endswith=".read")
    # The page of patients: one event naming each patient shown, in the order shown.
    page = events.get(action="patient.read")
    assert page.detail == {"patients": [row["id"] for row in listed]}
    assert {world.patient_a.pk, world.patient_b.pk} <= set(page.detail["patients"])
    assert (page.patient_ref, page.actor_label) == (None, "api-key:EHR")
    own = events.get(action="session.read")
    assert own.actor == world.patient_a.user
    assert own.patient_ref == world.patient_a.pk
    assert own.ip_address == "127.0.0.1"


def test_a_patient_listed_finds_the_list_read_in_their_own_audit_history(world):
    """ "Who read this patient's data": the API's patient filter finds the one event of a list
    response for each patient it showed, and not for a patient it did not show."""
    listed = world.clients["key1"].get(f"{R}/patients/?page_size=1").json()["results"]
    [shown] = [row["id"] for row in listed]
    other = world.patient_b.pk if shown == world.patient_a.pk else world.patient_a.pk
    world.clients["key1"].get(f"{R}/patients/")
    admin = world.clients["admin1"]

    def history(pk):
        rows = admin.get(f"{R}/audit-events/?patient={pk}&action=patient.read").json()["results"]
        return [(row["patient"], row["detail"].get("patients")) for row in rows]

    # The page of one names the patient as any event does; the page of all lists them.
    assert [patient for patient, _ in history(shown)] == [None, shown]
    assert shown in history(shown)[0][1]
    assert [patient for patient, _ in history(other)] == [None]


def test_reading_the_audit_trail_is_audited_per_patient_shown(world):
    admin = world.clients["admin1"]
    shown = admin.get(f"{R}/audit-events/?patient={world.patient_a.pk}").json()["results"]
    assert shown
    assert {row["patient"] for row in shown} == {world.patient_a.pk}
    reads = AuditEvent.objects.filter(action="audit.read")
    event = reads.get()
    assert (event.patient_ref, event.clinic, event.detail) == (
        world.patient_a.pk,
        world.clinic1,
        {"via": "api"},
    )
    assert event.actor.clinician.is_clinic_admin
    # One event per patient on the page; a page without patients still leaves one, unlinked.
    admin.get(f"{R}/audit-events/?patient={world.patient_b.pk}&action=nothing.here")
    assert reads.filter(patient_ref__isnull=True, clinic=world.clinic1).count() == 1
    admin.get(f"{R}/audit-events/{world.audit_event.pk}/")
    assert reads.count() == 3


def test_writes_through_a_key_are_audited_as_that_key(world, api):
    api.patch(f"{R}/patients/{world.patient_a.pk}/", {"phone": "555"})
    event = AuditEvent.objects.filter(action="patient.update").latest("at")
    assert event.actor_label == "api-key:EHR"
    assert event.api_key.name == "EHR"
    assert event.actor is None


def test_datetimes_carry_an_offset(world, api):
    row = api.get(f"{R}/patients/{world.patient_a.pk}/").json()
    assert re.search(r"(Z|[+-]\d\d:\d\d)$", row["created_at"])


def test_plan_shows_every_level_with_its_caps(world, api):
    answers = clean_answers("knee_oa", feels_unsteady=True)
    api.post(f"{R}/screenings/", {"patient": world.patient_c.pk, "answers": answers})
    plan = api.post(
        f"{R}/plans/", {"patient": world.patient_c.pk, "protocol": world.builtin.pk}
    ).json()
    assert plan["constraints"]["max_speed_kmh"] == 1.5
    assert all(level["speed_kmh"] <= 1.5 for level in plan["levels"])
    assert any(level["caps"] for level in plan["levels"])


def test_set_level_and_decisions_use_level_numbers_from_one(world, api):
    plan = api.post(f"{R}/plans/{world.plan.pk}/set-level/", {"level": 3, "reason": "Ahead"})
    assert plan.json()["current_level"] == 3
    decision = api.get(f"{R}/decisions/?plan={world.plan.pk}&ordering=-id").json()["results"][0]
    assert (decision["from_level"], decision["to_level"]) == (2, 3)


def test_outcome_changes_against_the_baseline(world, api):
    api.post(
        f"{R}/outcomes/",
        {"patient": world.patient_a.pk, "measure": "nprs", "answers": {"score": 2}},
    )
    changes = api.get(f"{R}/outcomes/changes/?patient={world.patient_a.pk}&measure=nprs").json()
    assert changes[0]["baseline"] == 5
    assert changes[0]["current"] == 2
    assert changes[0]["meaningful"] is True


def test_a_patient_logs_their_own_session_and_next_morning_pain(world):
    patient = world.clients["patient_a"]
    response = patient.post(f"{R}/sessions/", session_body(world), format="json")
    assert response.status_code == 201
    assert response.json()["patient"] == world.patient_a.pk
    morning = patient.post(
        f"{R}/sessions/{world.session.pk}/next-morning-pain/",
        {"pain_next_morning": 1},
        format="json",
    )
    assert morning.status_code == 200
    assert morning.json()["pain_next_morning"] == 1


def test_personal_token_for_a_patient(world):
    user = world.patient_a.user
    client = APIClient()
    refused = client.post(
        f"{R}/auth/token/", {"username": user.username, "password": "nope"}, format="json"
    )
    assert refused.status_code == 401
    token = client.post(
        f"{R}/auth/token/", {"username": user.username, "password": "pw"}, format="json"
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{R}/plans/").json()["count"] == 1
    assert client.get(f"{R}/screenings/").status_code == 403
    assert client.delete(f"{R}/auth/token/").status_code == 204
    assert client.get(f"{R}/plans/").status_code == 401


def test_schema_and_docs_are_served_without_a_cdn(client, db):
    schema = client.get(f"{R}/schema/?format=json")
    assert schema.status_code == 200
    spec = schema.json()
    assert set(spec["components"]["securitySchemes"]) >= {"ApiKey", "PersonalToken"}
    operation = spec["paths"]["/api/v1/sessions/"]["post"]
    assert {"201", "400", "401", "403", "404", "409", "422", "429"} <= set(operation["responses"])
    assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
    assert spec["components"]["schemas"]["SettingEnum"]["enum"]
    docs = client.get(f"{R}/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()
    assert "unpkg" not in docs.lower()
    assert "/static/drf_spectacular_sidecar/" in docs


def test_create_api_key_prints_the_key_last_and_stores_only_a_hash(world):
    out = StringIO()
    call_command("create_api_key", "--name", "Billing", "--clinic", "one", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    from rehab.models import ApiKey

    key = ApiKey.objects.get(name="Billing")
    assert raw not in key.key_hash
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get(f"{R}/patients/").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_create_api_key_needs_the_clinic_when_there_are_several(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--clinic"):
        call_command("create_api_key", "--name", "X", stdout=StringIO())


def test_a_key_whose_secret_contains_underscores_works(world, monkeypatch):
    import secrets

    from rehab import services

    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: "a_b_c_d")
    _, raw = services.api_key_create(clinic=world.clinic1, name="Underscores", actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get(f"{R}/patients/").status_code == 200


def test_revoke_api_key_command_shuts_the_key_out_at_once(world, api):
    from django.core.management.base import CommandError

    from rehab.models import ApiKey

    key = ApiKey.objects.get(clinic=world.clinic1, name="EHR")
    assert api.get(f"{R}/patients/").status_code == 200
    call_command("revoke_api_key", key.prefix, stdout=StringIO())
    response = api.get(f"{R}/patients/")
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]
    with pytest.raises(CommandError):
        call_command("revoke_api_key", "nope", stdout=StringIO())


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("0126-01-08T01:32:52.182+23:32", 200),
        ("0001-01-01T00:00:00+05:00", 400),
        ("9999-12-31T23:59:59-05:00", 400),
        ("2026-03-01T10:00:00+01:00", 200),
    ],
)
def test_updated_since_with_any_offset_is_answered_not_crashed(world, api, value, status):
    from urllib.parse import quote

    response = api.get(f"{R}/plans/?updated_since={quote(value)}")
    assert response.status_code == status


@pytest.mark.parametrize("bad_id", [2**63, -1, 0, 10**30])
def test_out_of_range_ids_in_a_body_are_400_not_500(world, api, bad_id):
    response = api.post(f"{R}/screenings/", {"patient": bad_id, "answers": {}})
    assert response.status_code == 400
    assert "patient" in response.json()["fields"]


def test_an_id_too_long_for_the_database_in_a_path_is_404(world, api):
    assert api.get(f"{R}/patients/{'9' * 30}/").status_code == 404
    assert api.get(f"{R}/patients/{2**63 - 1}/").status_code == 404


def test_text_longer_than_documented_is_refused_even_with_surrounding_spaces(world, api):
    response = api.post(f"{R}/protocols/{world.builtin.pk}/copy/", {"name": "\n" + "V" * 200})
    assert response.status_code == 400
    assert "name" in response.json()["fields"]


def test_a_blank_copy_name_falls_back_to_a_sensible_one(world, api):
    response = api.post(f"{R}/protocols/{world.builtin.pk}/copy/", {"name": "   "})
    assert response.status_code == 201
    assert response.json()["name"].startswith(world.builtin.name)


@pytest.mark.parametrize(
    "query",
    [
        "page=false&page=",
        "page=0",
        "page=2&page=3",
        "page_size=5&page_size=6",
        "status=active&status=paused",
        "ordering=id&ordering=-id",
    ],
)
def test_repeated_or_malformed_paging_and_filters_are_400(world, api, query):
    assert api.get(f"{R}/plans/?{query}").status_code == 400


def test_a_page_past_the_last_is_404(world, api):
    assert api.get(f"{R}/plans/?page=99").status_code == 404


@pytest.mark.parametrize("value", [2590, 1.5, True, ["x"], {"a": 1}])
def test_text_fields_take_strings_only(world, api, value):
    response = api.post(f"{R}/plans/{world.plan.pk}/complete/", {"reason": value})
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minutes_done", "10"),
        ("minutes_done", 10.0),
        ("pain_worst", True),
        ("speed_kmh", "1.5"),
        ("fall", "yes"),
        ("fall", 1),
        ("plan", "1"),
    ],
)
def test_numbers_booleans_and_ids_must_have_their_json_type(world, api, field, value):
    response = api.post(f"{R}/sessions/", session_body(world, **{field: value}))
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_the_schema_documents_every_status_a_report_download_can_answer(client, db):
    spec = client.get(f"{R}/schema/?format=json").json()
    responses = spec["paths"]["/api/v1/reports/{id}/download/"]["get"]["responses"]
    assert {"200", "401", "403", "404", "409", "429"} <= set(responses)


def test_a_record_number_another_request_took_a_moment_ago_is_a_409_not_a_500(
    world, api, monkeypatch
):
    # Two clinic systems create one record number at the same instant: both pass the service's
    # uniqueness check before either commits, and the database's constraint refuses the second.
    # The check is skipped here to be that second request.
    from rehab.services import patients as patient_services

    body = {"first_name": "Jo", "last_name": "Bloggs", "condition": "knee_oa"}
    first = api.post(f"{R}/patients/", {**body, "external_id": "MRN-77"}, format="json")
    assert first.status_code == 201
    monkeypatch.setattr(patient_services, "_check_patient", lambda patient, **kwargs: None)

    second = api.post(f"{R}/patients/", {**body, "external_id": "MRN-77"}, format="json")

    assert second.status_code == 409, second.content
    assert "external_id" in second.json()["fields"]
    assert world.clinic1.patients.filter(external_id="MRN-77").count() == 1
