"""Hostile input through the API: every refusal is a 400 (or 413) in the error shape, never a
500, and nothing is saved. First the findings of issue 10 one by one, then a table of hostile
values sent to every write endpoint."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.db import connection
from rest_framework.test import APIClient

from rehab import services
from rehab.errors import RehabError
from rehab.models import OutcomeScore, Patient, Protocol, Report
from tests.factories import UserFactory, clean_answers

pytestmark = pytest.mark.django_db
R = "/api/v1"
HEADER_INJECTION = "Nina\r\nBcc: evil@attacker.test"
DEEP = "[" * 5000 + "]" * 5000


def raw_post(client, url, body: str, method: str = "post"):
    return getattr(client, method)(url, body, content_type="application/json")


def assert_refused(response, *fields: str, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    for field in fields:
        assert field in body["fields"], body
    return body


# --- Control characters ------------------------------------------------------------------------


def test_a_header_injection_in_a_patients_name_is_refused_in_words(api):
    before = Patient.objects.count()
    response = api.post(
        f"{R}/patients/", {"first_name": HEADER_INJECTION, "last_name": "X", "condition": "knee_oa"}
    )
    body = assert_refused(response, "first_name")
    assert "control character" in body["fields"]["first_name"][0]
    assert Patient.objects.count() == before


def test_a_control_character_in_an_edited_name_is_refused_and_the_name_kept(world, api):
    patient = world.patient_a
    response = api.patch(f"{R}/patients/{patient.pk}/", {"last_name": "Smith\x00"})
    assert_refused(response, "last_name")
    patient.refresh_from_db()
    assert "\x00" not in patient.last_name


@pytest.mark.parametrize(
    "value",
    [
        "Nina\u0085Bcc",  # C1 "next line": some mail and log readers break the line on it
        "Nina\x7f",
        "Nina\u2028Bcc",  # line separator
        "\u202eevil.exe",  # right-to-left override: shows text other than what is stored
        "tab\tinside",  # fine in a note, not in a name
    ],
)
def test_other_line_breaking_and_spoofing_characters_are_refused_in_a_name(api, value):
    response = api.post(
        f"{R}/patients/", {"first_name": value, "last_name": "X", "condition": "knee_oa"}
    )
    assert_refused(response, "first_name")


def test_a_note_keeps_its_line_breaks_and_tabs_but_not_other_controls(world, api):
    kept = api.post(f"{R}/decisions/{world.decision.pk}/reject/", {"note": "Line one\r\nline\ttwo"})
    assert kept.status_code == 200, kept.content
    assert kept.json()["note"] == "Line one\r\nline\ttwo"
    plan = world.plan
    body = {
        "plan": plan.pk,
        "date": str(world.patient_a.local_today()),
        "minutes_done": 10,
        "setting": plan.levels[0]["setting"],
        "pain_before": 1,
        "pain_worst": 1,
        "pain_after": 1,
        "effort": 3,
    }
    for notes in ("bell \x07", "lone \r return", "\u2029"):
        assert_refused(api.post(f"{R}/sessions/", {**body, "notes": notes}), "notes")
    assert api.post(f"{R}/sessions/", {**body, "notes": "ok\n\tfine"}).status_code == 201


def test_a_control_character_in_a_protocol_level_name_is_refused(world, api):
    copy = world.copy
    levels = api.get(f"{R}/protocols/{copy.pk}/").json()["levels"]
    levels[0]["name"] = "Level\x1b[31m"
    response = api.patch(f"{R}/protocols/{copy.pk}/", {"levels": levels})
    assert_refused(response, "levels[0].name")
    copy.refresh_from_db()
    assert copy.version == 1


def test_a_control_character_in_a_psfs_activity_is_refused(world, api):
    activities = [{"activity": f"Stairs{i}\r\nBcc: x", "score": 5} for i in range(3)]
    before = OutcomeScore.objects.count()
    response = api.post(
        f"{R}/outcomes/",
        {"patient": world.patient_a.pk, "measure": "psfs", "answers": {"activities": activities}},
    )
    assert_refused(response, "activities[0].activity")
    assert OutcomeScore.objects.count() == before


# --- Deep JSON and large bodies ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["patients", "screenings", "protocol"])
def test_deeply_nested_json_is_a_400_not_a_recursion_error(world, api, endpoint):
    if endpoint == "protocol":
        response = raw_post(api, f"{R}/protocols/{world.copy.pk}/", DEEP, method="patch")
    else:
        response = raw_post(api, f"{R}/{endpoint}/", DEEP)
    body = assert_refused(response)
    assert body["code"] == "parse_error"
    assert "nested" in body["message"]


def test_json_nested_deeper_than_the_limit_inside_a_field_is_refused(world, api):
    answers = clean_answers(world.patient_c.condition)
    nested: object = 1
    for _ in range(100):
        nested = {"a": nested}
    answers["extra"] = nested
    response = api.post(f"{R}/screenings/", {"patient": world.patient_c.pk, "answers": answers})
    assert_refused(response)


def test_a_body_over_the_size_limit_is_a_413_in_the_error_shape(api, settings):
    before = Patient.objects.count()
    body = json.dumps({"first_name": "A" * 10_000_000, "last_name": "B"})  # 10 MB
    response = raw_post(api, f"{R}/patients/", body)
    refused = assert_refused(response, status=413)
    assert refused["code"] == "request_too_large"
    assert Patient.objects.count() == before


# --- Unbounded text ----------------------------------------------------------------------------


def test_a_megabyte_psfs_activity_is_refused(world, api):
    before = OutcomeScore.objects.count()
    activities = [{"activity": "x" * 1_000_000, "score": 5}] + [
        {"activity": f"Walk {i}", "score": 5} for i in range(2)
    ]
    response = api.post(
        f"{R}/outcomes/",
        {"patient": world.patient_a.pk, "measure": "psfs", "answers": {"activities": activities}},
    )
    assert response.status_code in (400, 413)
    assert OutcomeScore.objects.count() == before


def test_a_psfs_activity_longer_than_the_portals_limit_is_refused_in_words(world, api):
    activities = [{"activity": "x" * 101, "score": 5}] + [
        {"activity": f"Walk {i}", "score": 5} for i in range(2)
    ]
    response = api.post(
        f"{R}/outcomes/",
        {"patient": world.patient_a.pk, "measure": "psfs", "answers": {"activities": activities}},
    )
    body = assert_refused(response, "activities[0].activity")
    assert "100 characters" in body["fields"]["activities[0].activity"][0]


def test_a_two_megabyte_protocol_summary_is_refused_and_the_summary_kept(world, api):
    copy = world.copy
    response = api.patch(f"{R}/protocols/{copy.pk}/", {"summary": "x" * 2_000_000})
    assert response.status_code in (400, 413)
    response = api.patch(f"{R}/protocols/{copy.pk}/", {"summary": "x" * (Protocol.SUMMARY_MAX + 1)})
    assert_refused(response, "summary")
    copy.refresh_from_db()
    assert len(copy.summary) <= Protocol.SUMMARY_MAX


def test_the_schema_gives_a_max_length_for_every_text_input(api):
    schema = api.get(f"{R}/schema/?format=json").json()
    missing = []
    for name, component in schema["components"]["schemas"].items():
        if not name.endswith("Request"):
            continue
        for prop, spec in component.get("properties", {}).items():
            free_text = spec.get("type") == "string" and not spec.keys() & {"enum", "format"}
            if free_text and not spec.keys() & {"maxLength", "pattern"}:
                missing.append(f"{name}.{prop}")
    assert missing == []


def test_every_text_column_has_a_length_known_to_the_model():
    """A text column without a limit is a door for a 2 MB field: each states its maximum."""
    unbounded = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_app_config("rehab").get_models()
        for field in model._meta.get_fields()
        if field.get_internal_type() == "TextField"
        and not any(getattr(v, "limit_value", None) for v in field.validators)
    ]
    assert unbounded == []


# --- Dates at the edge of the calendar ---------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_far_dates_are_refused_in_words_on_every_date_input(world, api, day):
    patient, plan = world.patient_a, world.plan
    cases = [
        (
            "patients/",
            {"first_name": "A", "last_name": "B", "condition": "knee_oa", "date_of_birth": day},
            "date_of_birth",
        ),
        (f"patients/{patient.pk}/", {"date_of_birth": day}, "date_of_birth"),
        (
            "sessions/",
            {
                "plan": plan.pk,
                "date": day,
                "minutes_done": 10,
                "setting": plan.levels[0]["setting"],
                "pain_before": 1,
                "pain_worst": 1,
                "pain_after": 1,
                "effort": 3,
            },
            "date",
        ),
        (
            "outcomes/",
            {"patient": patient.pk, "measure": "nprs", "answers": {"score": 3}, "taken_on": day},
            "taken_on",
        ),
        (
            "reports/",
            {"patient": patient.pk, "audience": "clinician", "period_start": day},
            "period_start",
        ),
        (
            "reports/",
            {"patient": patient.pk, "audience": "clinician", "period_end": day},
            "period_end",
        ),
        (
            "plans/",
            {"patient": world.patient_c.pk, "protocol": world.builtin.pk, "start_date": day},
            "start_date",
        ),
    ]
    for path, body, field in cases:
        method = api.patch if path.startswith("patients/") and path != "patients/" else api.post
        assert_refused(method(f"{R}/{path}", body), field)


def test_a_far_future_api_key_expiry_is_refused_by_the_service(world):
    far = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.UTC)
    with pytest.raises(RehabError) as refused:
        services.api_key_create(clinic=world.clinic1, name="EHR", actor=None, expires_at=far)
    assert "expires_at" in refused.value.fields


# --- Reports: a patient sees only the patient version ------------------------------------------


@pytest.fixture
def clinician_report(world):
    report = services.report_request(patient=world.patient_a, audience="clinician", actor=None)
    services.report_render(report_id=report.pk)
    return report


def _token_client(user) -> APIClient:
    user.set_password("a long pass phrase 1")
    user.save()
    token = APIClient().post(
        f"{R}/auth/token/", {"username": user.username, "password": "a long pass phrase 1"}
    )
    assert token.status_code in (200, 201), token.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    return client


@pytest.mark.parametrize("door", ["token", "session"])
def test_a_patient_never_gets_the_clinician_version_of_their_report(world, clinician_report, door):
    client = _token_client(world.patient_a.user) if door == "token" else world.clients["patient_a"]
    assert client.get(f"{R}/reports/{clinician_report.pk}/").status_code == 404
    assert client.get(f"{R}/reports/{clinician_report.pk}/download/").status_code == 404
    listed = [row["id"] for row in client.get(f"{R}/reports/").json()["results"]]
    assert clinician_report.pk not in listed
    assert world.report.pk in listed  # their own patient version stays theirs
    assert client.get(f"{R}/reports/{world.report.pk}/download/").status_code == 200


def test_a_patient_cannot_request_the_clinician_version_through_the_service(world):
    with pytest.raises(RehabError) as refused:
        services.report_request(
            patient=world.patient_a, audience="clinician", actor=world.patient_a.user
        )
    assert "audience" in refused.value.fields
    assert not Report.objects.filter(audience="clinician", requested_by=world.patient_a.user)


def test_clinicians_still_get_both_versions(world, api, clinician_report):
    assert api.get(f"{R}/reports/{clinician_report.pk}/").status_code == 200
    assert api.get(f"{R}/reports/{world.report.pk}/").status_code == 200


# --- Every write endpoint, every hostile value ---------------------------------------------------

HOSTILE = {
    "control": HEADER_INJECTION,
    "nul": "a\x00b",
    "escape": "\x1b[31mred",
    "lone_surrogate": "\ud800",
    "bidi": "\u202egnp.exe",
    "long_text": "x" * 5000,  # over every text limit (10 MB bodies: the size test above)
    "null": None,
    "list": [1, [2, [3]]],
    "object": {"a": {"b": {}}},
    "huge_int": 10**40,
    "float_inf": float("inf"),  # sent as the non-JSON Infinity some encoders write
    "bool": True,
    "far_future": "9999-12-31",
    "far_past": "0001-01-01",
}


def _write_endpoints(world) -> list[tuple[str, str, dict]]:
    """(method, path, a valid body) of every write endpoint; each hostile value replaces one
    field of the valid body at a time."""
    plan, patient = world.plan, world.patient_a
    level = plan.levels[0]
    return [
        (
            "post",
            "patients/",
            {
                "first_name": "A",
                "last_name": "B",
                "condition": "knee_oa",
                "date_of_birth": "1950-01-01",
                "email": "",
                "phone": "",
                "timezone": "UTC",
                "external_id": "",
                "reminder_channel": "email",
                "reminder_time": "09:00",
                "reminders_enabled": True,
            },
        ),
        (
            "patch",
            f"patients/{world.patient_b.pk}/",
            {
                "first_name": "A",
                "date_of_birth": "1950-01-01",
                "phone": "1",
                "timezone": "UTC",
                "external_id": "E",
                "reminder_time": "09:00",
            },
        ),
        (
            "post",
            "screenings/",
            {"patient": world.patient_c.pk, "answers": clean_answers(world.patient_c.condition)},
        ),
        ("post", f"protocols/{world.builtin.pk}/copy/", {"name": "Mine"}),
        (
            "patch",
            f"protocols/{world.copy.pk}/",
            {
                "name": "N",
                "summary": "S",
                "levels": [{**level, "interval": None}],
                "progression_settings": {},
            },
        ),
        (
            "post",
            "plans/",
            {
                "patient": world.patient_c.pk,
                "protocol": world.builtin.pk,
                "start_date": str(dt.date.today()),
                "schedule_days": [0],
                "auto_apply": False,
                "override_reason": "",
            },
        ),
        ("patch", f"plans/{plan.pk}/", {"auto_apply": True}),
        ("post", f"plans/{plan.pk}/pause/", {"reason": "r"}),
        ("post", f"plans/{plan.pk}/resume/", {"reason": "r", "override_reason": ""}),
        ("post", f"plans/{plan.pk}/complete/", {"reason": "r"}),
        ("post", f"plans/{plan.pk}/discontinue/", {"reason": "r"}),
        ("post", f"plans/{plan.pk}/set-level/", {"level": 1, "reason": "r"}),
        (
            "post",
            "sessions/",
            {
                "plan": plan.pk,
                "date": str(patient.local_today()),
                "minutes_done": 10,
                "speed_kmh": 1.0,
                "incline_pct": 0,
                "setting": level["setting"],
                "pain_before": 1,
                "pain_worst": 1,
                "pain_after": 1,
                "pain_next_morning": None,
                "effort": 3,
                "swelling": "none",
                "fall": False,
                "notes": "n",
            },
        ),
        ("post", f"sessions/{world.session.pk}/next-morning-pain/", {"pain_next_morning": 2}),
        ("post", f"decisions/{world.decision.pk}/approve/", {"note": "n"}),
        ("post", f"decisions/{world.decision.pk}/reject/", {"note": "n"}),
        (
            "post",
            "outcomes/",
            {
                "patient": patient.pk,
                "measure": "psfs",
                "answers": {"activities": [{"activity": "Stairs", "score": 5}] * 3},
                "taken_on": str(patient.local_today()),
            },
        ),
        (
            "post",
            "reports/",
            {
                "patient": patient.pk,
                "audience": "clinician",
                "period_start": "2026-01-01",
                "period_end": str(patient.local_today()),
            },
        ),
        ("post", "auth/token/", {"username": "nobody", "password": "wrong"}),
    ]


def _counts() -> tuple[int, ...]:
    """The number of rows of every table of ours, in one query."""
    tables = [m._meta.db_table for m in apps.get_app_config("rehab").get_models()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _nested(value):
    """The same hostile value one level down, where a JSON object is expected."""
    return {"x": value}


# Refused in any text field, one line or a note ("\r\n" is a note's line break).
TEXT_ATTACKS = ("nul", "escape", "lone_surrogate", "bidi", "long_text")
DEEP_MARK = "__deep__"


def test_no_hostile_value_in_any_field_of_any_write_endpoint_is_a_server_error(world, api):
    """About 1,000 requests: each hostile value in each field of each write endpoint, and one
    level down where a field takes an object. No answer is a 5xx; a 4xx saves nothing; hostile
    text in a text field is refused, never stored."""
    failures = []
    sent = 0
    before = _counts()
    for client in (api, world.clients["patient_a"]):
        client.raise_request_exception = False  # a 500 is a finding to list, not to stop on
    for method, path, valid in _write_endpoints(world):
        client = world.clients["patient_a"] if path == "auth/token/" else api
        for field in valid:
            for name, value in {**HOSTILE, "deep": DEEP_MARK}.items():
                body = {**valid, field: value}
                if isinstance(valid.get(field), dict):
                    body[field] = {**valid[field], **_nested(value)}
                raw = json.dumps(body).replace(f'"{DEEP_MARK}"', DEEP)
                response = raw_post(client, f"{R}/{path}", raw, method=method)
                sent += 1
                where = f"{method.upper()} {path} {field}={name}: {response.status_code}"
                if response.status_code >= 500:
                    failures.append(where)
                elif response.status_code >= 400:
                    counts = _counts()
                    changed = {k for k, v in counts.items() if before[k] != v}
                    # Reads may be audited and a refused retry key is kept; nothing else.
                    if changed - {"rehab_auditevent", "rehab_idempotencyrecord"}:
                        failures.append(f"{where} saved {changed}")
                    before = counts
                else:
                    before = _counts()
                    if name in TEXT_ATTACKS and isinstance(valid.get(field), str):
                        failures.append(f"{where} accepted")
    assert failures == []
    assert sent > 900


def test_a_user_with_a_control_character_in_their_name_cannot_be_made(db):
    from django.core.exceptions import ValidationError

    user = UserFactory.build(first_name="Ana\r\nBcc: x@example.org")
    with pytest.raises(ValidationError) as refused:
        user.full_clean(exclude=["password"])
    assert "first_name" in refused.value.message_dict
