"""The permission matrix: every endpoint for every kind of caller.

Clinic 1 owns every record here, all of them patient A's. Staff of clinic 1 (clinician, clinic
admin, API key) may do everything but read the audit trail, which is for clinic admins; clinic 2
gets 404 for every clinic-1 record and 400 for a clinic-1 id in a payload (the same answer as
for an id that does not exist); patient A reaches their own plan, logs, decisions, scores,
reminders and reports; patient B gets 404 for A's rows; no credential, or a revoked key, is 401.
"""

import datetime as dt

import pytest

from tests.factories import clean_answers

pytestmark = pytest.mark.django_db

R = "/api/v1"
STAFF1 = ("clinician1", "admin1", "key1")
STAFF2 = ("clinician2", "key2")


def today(w):
    return w.patient_a.local_today()


# name: (method, url, body, (staff1, staff2, patient_a, patient_b))
ENDPOINTS = {
    "patient list": ("get", lambda w: f"{R}/patients/", None, (200, 200, 200, 200)),
    "patient create": (
        "post",
        lambda w: f"{R}/patients/",
        lambda w: {"first_name": "N", "last_name": "M", "condition": "knee_oa"},
        (201, 201, 403, 403),
    ),
    "patient detail": (
        "get",
        lambda w: f"{R}/patients/{w.patient_a.pk}/",
        None,
        (200, 404, 200, 404),
    ),
    "patient update": (
        "patch",
        lambda w: f"{R}/patients/{w.patient_a.pk}/",
        lambda w: {"phone": "+44 1"},
        (200, 404, 403, 403),
    ),
    "patient archive": (
        "post",
        lambda w: f"{R}/patients/{w.patient_a.pk}/archive/",
        None,
        (200, 404, 403, 403),
    ),
    "screening list": ("get", lambda w: f"{R}/screenings/", None, (200, 200, 403, 403)),
    "screening create": (
        "post",
        lambda w: f"{R}/screenings/",
        lambda w: {"patient": w.patient_c.pk, "answers": clean_answers(w.patient_c.condition)},
        (201, 400, 403, 403),
    ),
    "screening detail": (
        "get",
        lambda w: f"{R}/screenings/{w.screening.pk}/",
        None,
        (200, 404, 403, 403),
    ),
    "protocol list": ("get", lambda w: f"{R}/protocols/", None, (200, 200, 403, 403)),
    "protocol detail (built-in)": (
        "get",
        lambda w: f"{R}/protocols/{w.builtin.pk}/",
        None,
        (200, 200, 403, 403),
    ),
    "protocol detail (own copy)": (
        "get",
        lambda w: f"{R}/protocols/{w.copy.pk}/",
        None,
        (200, 404, 403, 403),
    ),
    "protocol copy": (
        "post",
        lambda w: f"{R}/protocols/{w.builtin.pk}/copy/",
        lambda w: {},
        (201, 201, 403, 403),
    ),
    "protocol update": (
        "patch",
        lambda w: f"{R}/protocols/{w.copy.pk}/",
        lambda w: {"name": "Ours"},
        (200, 404, 403, 403),
    ),
    "plan list": ("get", lambda w: f"{R}/plans/", None, (200, 200, 200, 200)),
    "plan create": (
        "post",
        lambda w: f"{R}/plans/",
        lambda w: {"patient": w.patient_c.pk, "protocol": w.builtin.pk},
        (201, 400, 403, 403),
    ),
    "plan detail": ("get", lambda w: f"{R}/plans/{w.plan.pk}/", None, (200, 404, 200, 404)),
    "plan update": (
        "patch",
        lambda w: f"{R}/plans/{w.plan.pk}/",
        lambda w: {"auto_apply": True},
        (200, 404, 403, 403),
    ),
    "plan pause": (
        "post",
        lambda w: f"{R}/plans/{w.plan.pk}/pause/",
        lambda w: {},
        (200, 404, 403, 403),
    ),
    "plan resume": (
        "post",
        lambda w: f"{R}/plans/{w.plan.pk}/resume/",
        lambda w: {},
        (409, 404, 403, 403),
    ),  # reachable; the active plan is not paused
    "plan complete": (
        "post",
        lambda w: f"{R}/plans/{w.plan.pk}/complete/",
        lambda w: {},
        (200, 404, 403, 403),
    ),
    "plan discontinue": (
        "post",
        lambda w: f"{R}/plans/{w.plan.pk}/discontinue/",
        lambda w: {"reason": "Moved away"},
        (200, 404, 403, 403),
    ),
    "plan set level": (
        "post",
        lambda w: f"{R}/plans/{w.plan.pk}/set-level/",
        lambda w: {"level": 1, "reason": "Flare-up"},
        (200, 404, 403, 403),
    ),
    "session list": ("get", lambda w: f"{R}/sessions/", None, (200, 200, 200, 200)),
    "session create": (
        "post",
        lambda w: f"{R}/sessions/",
        lambda w: {
            "plan": w.plan.pk,
            "date": str(today(w)),
            "minutes_done": 10,
            "pain_before": 1,
            "pain_worst": 2,
            "pain_after": 1,
            "effort": 3,
            "setting": "treadmill_both_handrails",
        },
        (201, 400, 201, 400),
    ),
    "session detail": (
        "get",
        lambda w: f"{R}/sessions/{w.session.pk}/",
        None,
        (200, 404, 200, 404),
    ),
    "session next-morning pain": (
        "post",
        lambda w: f"{R}/sessions/{w.session.pk}/next-morning-pain/",
        lambda w: {"pain_next_morning": 1},
        (200, 404, 200, 404),
    ),
    "decision list": ("get", lambda w: f"{R}/decisions/", None, (200, 200, 200, 200)),
    "decision detail": (
        "get",
        lambda w: f"{R}/decisions/{w.decision.pk}/",
        None,
        (200, 404, 200, 404),
    ),
    "decision approve": (
        "post",
        lambda w: f"{R}/decisions/{w.decision.pk}/approve/",
        lambda w: {},
        (200, 404, 403, 403),
    ),
    "decision reject": (
        "post",
        lambda w: f"{R}/decisions/{w.decision.pk}/reject/",
        lambda w: {"note": "Not yet"},
        (200, 404, 403, 403),
    ),
    "outcome list": ("get", lambda w: f"{R}/outcomes/", None, (200, 200, 200, 200)),
    "outcome create": (
        "post",
        lambda w: f"{R}/outcomes/",
        lambda w: {"patient": w.patient_a.pk, "measure": "nprs", "answers": {"score": 3}},
        (201, 400, 201, 400),
    ),
    "outcome detail": (
        "get",
        lambda w: f"{R}/outcomes/{w.outcome.pk}/",
        None,
        (200, 404, 200, 404),
    ),
    "outcome changes": (
        "get",
        lambda w: f"{R}/outcomes/changes/?patient={w.patient_a.pk}&measure=nprs",
        None,
        (200, 404, 200, 404),
    ),
    "reminder list": ("get", lambda w: f"{R}/reminders/", None, (200, 200, 200, 200)),
    "reminder detail": (
        "get",
        lambda w: f"{R}/reminders/{w.reminder.pk}/",
        None,
        (200, 404, 200, 404),
    ),
    "report list": ("get", lambda w: f"{R}/reports/", None, (200, 200, 200, 200)),
    "report request": (
        "post",
        lambda w: f"{R}/reports/",
        lambda w: {"patient": w.patient_a.pk, "audience": "patient"},
        (202, 400, 202, 400),
    ),
    "report status": ("get", lambda w: f"{R}/reports/{w.report.pk}/", None, (200, 404, 200, 404)),
    "report download": (
        "get",
        lambda w: f"{R}/reports/{w.report.pk}/download/",
        None,
        (200, 404, 200, 404),
    ),
    "audit list": ("get", lambda w: f"{R}/audit-events/", None, (403, 403, 403, 403)),
    "audit detail": (
        "get",
        lambda w: f"{R}/audit-events/{w.audit_event.pk}/",
        None,
        (403, 403, 403, 403),
    ),
}
# Clinic administrators are the one exception to "staff of clinic 1 alike".
ADMIN_ONLY = {"audit list": 200, "audit detail": 200}

PRINCIPALS = ("anonymous", "revoked_key", *STAFF1, *STAFF2, "patient_a", "patient_b")


def expected(endpoint: str, principal: str) -> int:
    staff1, staff2, patient_a, patient_b = ENDPOINTS[endpoint][3]
    if principal in ("anonymous", "revoked_key"):
        return 401
    if principal == "admin1" and endpoint in ADMIN_ONLY:
        return ADMIN_ONLY[endpoint]
    if principal in STAFF1:
        return staff1
    if principal in STAFF2:
        return staff2
    return patient_a if principal == "patient_a" else patient_b


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_permission_matrix(world, endpoint, principal):
    method, url, body, _ = ENDPOINTS[endpoint]
    client = world.clients[principal]
    kwargs = {"format": "json"}
    if body is not None:
        kwargs["data"] = body(world)
    response = getattr(client, method)(url(world), **kwargs)
    want = expected(endpoint, principal)
    assert response.status_code == want, response.content[:400]
    if want >= 400:
        payload = response.json()
        assert set(payload) == {"code", "message", "fields"}
        assert payload["message"]
    if want == 401:
        assert response.get("WWW-Authenticate") == "Api-Key"


LISTS = ["patients", "screenings", "plans", "sessions", "decisions", "outcomes", "reminders"]


@pytest.mark.parametrize("resource", LISTS)
def test_another_clinic_sees_an_empty_list_and_a_zero_count(world, resource):
    response = world.clients["clinician2"].get(f"{R}/{resource}/")
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "resource", ["patients", "plans", "sessions", "decisions", "outcomes", "reminders"]
)
def test_a_patient_lists_only_their_own_rows(world, resource):
    own = world.clients["patient_a"].get(f"{R}/{resource}/").json()
    other = world.clients["patient_b"].get(f"{R}/{resource}/").json()
    assert own["count"] >= 1
    key = "id" if resource == "patients" else "patient"
    assert {row[key] for row in own["results"]} == {world.patient_a.pk}
    assert all(row[key] == world.patient_b.pk for row in other["results"])


def test_filters_do_not_leak_another_clinics_rows(world):
    response = world.clients["key2"].get(f"{R}/sessions/?patient={world.patient_a.pk}")
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_an_expired_key_is_refused(world, db):
    from rehab import services

    key, raw = services.api_key_create(
        clinic=world.clinic1,
        name="Temp",
        actor=None,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    key.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    key.save()
    response = world.clients["anonymous"].get(f"{R}/patients/", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


@pytest.mark.parametrize(
    "header", ["Api-Key", "Api-Key rw_x_y", "Api-Key a b", "Api-Key " + "x" * 80]
)
def test_malformed_or_unknown_keys_are_401_not_500(world, header):
    response = world.clients["anonymous"].get(f"{R}/patients/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
