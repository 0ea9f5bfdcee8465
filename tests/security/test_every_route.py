"""Every route of the project, called with another clinic's and another patient's ids.

The routes come from the URL configuration itself (tests/security/routes.py walks the resolver
through every include, router and admin registration), so a route added tomorrow is called
tomorrow without anyone adding it here. Each route is called by five callers of clinic A:

    clinician      a clinician's browser session (not an administrator)
    clinic_admin   a clinic administrator's browser session
    api_key        the clinic's API key (Authorization: Api-Key ...)
    patient        patient P1's portal session
    patient_token  patient P1's personal API token (Authorization: Token ...)

with every method (GET, then POST, PUT, PATCH and DELETE with a plausible body). A parameter
that names a record is filled with the other side's record: clinic B's for the clinic's callers,
patient P2's (of the same clinic; clinic B's where a patient has no such record) for the
patient's. Each answer must be what POLICIES says for that route and caller (404, or the door's
documented answer to the wrong kind of caller: a redirect to the right door or its sign-in, a
403 where an action is not open to that caller), never a 2xx or a 500; no row of the other side
may change (a snapshot of every table's rows reachable from clinic B, or from P2, by foreign
key, before and after); and no answer may carry the other side's names, record numbers or
contact details. A route without parameters is called too (GET also with the other side's ids in
the query string, and the bodies carry them): any answer but a 500, with the same two checks.
Each route with a record id is also called once with the caller's OWN ids (`test_own_ids_...`):
that call must reach the view (not 404), or the 404s above would prove nothing.

Extending it. A new route needs nothing when its parameters and door are known. Otherwise the
route's test FAILS and says what it needs:
- "no filler for parameter X": a parameter named `pk` takes the record its URL segment names
  (OBJECT_SEGMENTS: `/gadget-feeds/<pk>/` needs "gadget-feeds": "gadget_feed" there, and a
  "gadget_feed" in the world of tests/security/conftest.py, own and other); `<noun>_id` /
  `<noun>_pk` take the "<noun>" record directly; anything else (tokens, slugs, vocabulary)
  goes in PARAMETERS (a record, or a function of the two sides) or VOCABULARY (a value that
  names no record, such as a format or a questionnaire's code: the route is then checked like
  one without parameters).
- "no caller policy": add the door (a path glob) to POLICIES with each caller's answer.
- An admin page of a new model needs a row of that model on the other side in the world, or the
  model in NOT_TENANT_DATA when its rows belong to no clinic.

The admin's pages are called with GET only: the admin refuses all five callers (none is staff)
before it looks at the method or the id.

The figures for the issue note are in the id of `test_the_walk_covers_every_route`
(`pytest tests/security --collect-only | grep covers`): N routes x M callers = K checks.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import html
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from rest_framework.test import APIClient

from rehab.models import Clinic, Patient, User
from tests.security.conftest import Scope, reset_token, reset_uid, snapshot_difference
from tests.security.routes import Route, all_routes

# --- Callers ---------------------------------------------------------------------------------

STAFF = ("clinician", "clinic_admin", "api_key")
PATIENTS = ("patient", "patient_token")
CALLERS = (*STAFF, *PATIENTS)
METHODS = ("get", "post", "put", "patch", "delete")
# The admin refuses every caller here before it looks at the method (or the id): GET stands
# for all. Everything else gets every method.
DOOR_METHODS = [("/admin/*", ("get",))]


def methods_for(route: Route) -> tuple[str, ...]:
    for glob, methods in DOOR_METHODS:
        if fnmatch.fnmatchcase(route.path, glob):
            return methods
    return METHODS


# --- What a parameter is filled with -----------------------------------------------------------

# `.../<segment>/<pk>/...`: the record the segment before `pk` names.
OBJECT_SEGMENTS = {
    "patients": "patient",
    "screenings": "screening",
    "plans": "plan",
    "sessions": "session",
    "log": "session",
    "decisions": "decision",
    "outcomes": "outcome",
    "reminders": "reminder",
    "reports": "report",
    "audit-events": "audit_event",
    "protocols": "protocol",
    "team": "clinician",
    "api-keys": "api_key",
    "webhooks": "webhook_endpoint",
}

# Rows of these models belong to no clinic or patient; the admin's pages of them are refused to
# every caller here all the same.
# (An audit chain's head names its clinic by number only and holds hashes, no patient data.)
NOT_TENANT_DATA = {
    "auth.Group",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    "rehab.AuditChain",
}


def _admin_row(route: Route, side: Side, own: Side) -> object:
    """/admin/<app>/<model>/<object_id>/...: a row of that model on the other side."""
    app_label, model_name = route.segments[1:3]
    model = apps.get_model(app_label, model_name)._meta.concrete_model
    if model._meta.label in NOT_TENANT_DATA:
        return 999999
    rows = side.before.get(model._meta.label)
    if not rows:
        raise LookupError(
            f"no {model._meta.label} row belongs to the other side: add one to the world "
            "(tests/security/conftest.py) or list the model in NOT_TENANT_DATA"
        )
    return min(rows)


# (path glob, parameter) -> the key of a record in the world, or a function of
# (route, the side whose ids are used, the caller's own side) giving the value.
PARAMETERS: dict[tuple[str, str], str | Callable] = {
    # A reset link is the other account's id with a token made for the caller's own account.
    ("*/password-reset/<uidb64>/<token>/", "uidb64"): lambda r, side, own: reset_uid(
        side.objects["user"]
    ),
    ("*/password-reset/<uidb64>/<token>/", "token"): lambda r, side, own: reset_token(
        own.objects["user"]
    ),
    # A link's token is its own credential: the other side's are the spent or replaced ones.
    ("/portal/invite/<token>/", "token"): "invite_token",
    ("/portal/calendar/<token>.ics", "token"): "calendar_token",
    ("/admin/r/<content_type_id>/<object_id>/", "content_type_id"): lambda r, side, own: (
        ContentType.objects.get_for_model(Patient).pk
    ),
    ("/admin/r/<content_type_id>/<object_id>/", "object_id"): "patient",
    ("/admin/*/*/<object_id>/*", "object_id"): _admin_row,
    ("/admin/*/*/<id>/*", "id"): _admin_row,
    ("/admin/*/*/<pk>/*", "pk"): _admin_row,
    ("/api/v1/webhooks/*", "delivery_id"): "webhook_delivery",
    ("/clinic/webhooks/*", "delivery_id"): "webhook_delivery",
    # The FHIR door: a route per resource type, its id the row's (a session's Observation adds
    # the part it is).
    ("/fhir/r4/Patient/<resource_id>*", "resource_id"): "patient",
    ("/fhir/r4/Condition/<resource_id>", "resource_id"): "patient",
    ("/fhir/r4/CarePlan/<resource_id>", "resource_id"): "plan",
    ("/fhir/r4/ServiceRequest/<resource_id>", "resource_id"): "plan",
    ("/fhir/r4/Observation/<resource_id>", "resource_id"): lambda r, side, own: (
        f"{side.objects['session'].pk}-pain"
    ),
    ("/fhir/r4/Goal/<resource_id>", "resource_id"): "plan",
    ("/fhir/r4/QuestionnaireResponse/<resource_id>", "resource_id"): "outcome",
    ("/fhir/r4/AdverseEvent/<resource_id>", "resource_id"): lambda r, side, own: (
        f"{side.objects['session'].pk}-chest-pain"
    ),
    ("/fhir/r4/DocumentReference/<resource_id>", "resource_id"): "report",
    ("/fhir/r4/AuditEvent/<resource_id>", "resource_id"): "audit_event",
}

# Parameters that name no record (the same for every caller).
VOCABULARY = {
    ("/api/v1/*", "format"): "json",
    ("/portal/questionnaires/<measure>/", "measure"): "nprs",
    ("/clinic/patients/<pk>/outcomes/<measure>/", "measure"): "nprs",
    ("/admin/<app_label>/", "app_label"): "rehab",
    ("/admin/<url>", "url"): "no-such-page/",
    # Our Questionnaires are definitions, the same for every caller.
    ("/fhir/r4/Questionnaire/<resource_id>", "resource_id"): "koos",
}


def _lookup(table: dict, route: Route, param: str):
    for (glob, name), value in table.items():
        if name == param and fnmatch.fnmatchcase(route.path, glob):
            return value
    return None


def filler(route: Route, param: str) -> str | Callable | None:
    """How `param` of `route` is filled: a record key, a function, or None when unknown."""
    found = _lookup(PARAMETERS, route, param)
    if found is not None:
        return found
    if param == "pk":
        marker = route.segments.index("<pk>") if "<pk>" in route.segments else -1
        if marker <= 0:
            # `<pk>` glued to something (`<pk>.<format>`): the segment before that one.
            marker = next((i for i, s in enumerate(route.segments) if s.startswith("<pk>")), 0)
        return OBJECT_SEGMENTS.get(route.segments[marker - 1]) if marker > 0 else None
    for suffix in ("_id", "_pk"):
        if param.endswith(suffix):
            noun = param.removesuffix(suffix)
            return noun if noun in OBJECT_SEGMENTS.values() else None
    return None


def record_params(route: Route) -> list[str]:
    return [p for p in route.params if _lookup(VOCABULARY, route, p) is None]


# --- What each caller must get ------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    words: str
    statuses: frozenset[int]
    location: str = ""  # a redirect must go here (its start)
    absent: bytes = b""  # the page must not hold this

    def problem(self, response, body: bytes) -> str:
        status = response.status_code
        if status == 405:
            return ""  # the view does not take this method; decided before any lookup
        if status not in self.statuses:
            return f"answered {status}, expected {self.words}"
        if self.location and not response.get("Location", "").startswith(self.location):
            return f"redirected to {response.get('Location')}, expected {self.words}"
        if self.absent and self.absent in body:
            return f"the page holds {self.absent!r}, expected {self.words}"
        return ""


NOT_FOUND = Expect("404", frozenset({404}))
FORBIDDEN = Expect("403 (not open to this kind of caller)", frozenset({403}))
NOT_YOURS = Expect("404, or 403 where the action is not open to patients", frozenset({403, 404}))
GONE = Expect("404 or 410 (a spent or replaced link)", frozenset({404, 410}))
DEAD_LINK = Expect("the 'link is not valid' page", frozenset({200}), absent=b'name="new_password1"')
# Not a 500 (a readiness check may well answer 503).
ANY = Expect("any answer but a 500", frozenset(range(100, 600)) - {500})


def redirect(to: str) -> Expect:
    return Expect(f"a redirect to {to}", frozenset({302}), location=to)


def everyone(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(CALLERS, expect)


DASHBOARD = {
    "clinician": NOT_FOUND,
    "clinic_admin": NOT_FOUND,
    "api_key": redirect("/clinic/login/"),  # no session: the dashboard's sign-in
    "patient": redirect("/portal/"),  # a patient belongs in the portal
    "patient_token": redirect("/clinic/login/"),
}
PORTAL = {
    "clinician": redirect("/clinic/"),
    "clinic_admin": redirect("/clinic/"),
    "api_key": redirect("/portal/login/"),
    "patient": NOT_FOUND,
    "patient_token": redirect("/portal/login/"),
}
API = {**dict.fromkeys(STAFF, NOT_FOUND), **dict.fromkeys(PATIENTS, NOT_YOURS)}

# Routes with a record id: (path glob, {caller: what they get}); the first glob that matches.
POLICIES: list[tuple[str, dict[str, Expect]]] = [
    ("*/password-reset/<uidb64>/<token>/", everyone(DEAD_LINK)),
    ("/portal/invite/<token>/", everyone(GONE)),
    ("/portal/calendar/<token>.ics", everyone(NOT_FOUND)),
    ("/clinic/team/*", {**DASHBOARD, "clinician": FORBIDDEN}),  # clinic administrators only
    ("/clinic/api-keys/*", {**DASHBOARD, "clinician": FORBIDDEN}),
    # A patient's erasure and the retention review: clinic administrators only.
    ("/clinic/patients/*/erase/", {**DASHBOARD, "clinician": FORBIDDEN}),
    ("/clinic/data/*", {**DASHBOARD, "clinician": FORBIDDEN}),
    ("/clinic/webhooks/*", {**DASHBOARD, "clinician": FORBIDDEN}),
    ("/clinic/*", DASHBOARD),
    ("/portal/*", PORTAL),
    ("/api/v1/audit-events/*", {**everyone(FORBIDDEN), "clinic_admin": NOT_FOUND}),
    # Clinic administrators and the clinic's systems only.
    (
        "/api/v1/webhooks/*",
        {**everyone(FORBIDDEN), "clinic_admin": NOT_FOUND, "api_key": NOT_FOUND},
    ),
    ("/api/v1/*", API),
    # The audit trail is for clinic administrators only (as the API's).
    ("/fhir/r4/AuditEvent/*", {**everyone(FORBIDDEN), "clinic_admin": NOT_FOUND}),
    # Writes of a Patient: the clinic's staff and systems only, so a patient's login gets a 403
    # for any id (decided before any lookup), as the API's staff-only actions.
    ("/fhir/r4/Patient/<resource_id>", API),
    # Read-only, and open to patients on their own records: another's is a 404 for everyone.
    ("/fhir/r4/*", everyone(NOT_FOUND)),
    # The operators' admin: none of these callers is staff, so every page is its sign-in.
    ("/admin/*", everyone(redirect("/admin/login/"))),
]

# Who calls a route with their own ids, to show that the route reaches a record at all.
CONTROL_CALLERS = [
    ("/clinic/*", "clinic_admin"),
    ("/portal/*", "patient"),
    ("/api/v1/*", "clinic_admin"),
    ("/fhir/r4/AuditEvent/*", "clinic_admin"),
    ("/fhir/r4/*", "api_key"),
    ("/admin/*", None),  # no caller here is staff: nothing to reach
]


def policy(route: Route) -> dict[str, Expect] | None:
    if not record_params(route):
        return everyone(ANY)
    for glob, expectations in POLICIES:
        if fnmatch.fnmatchcase(route.path, glob):
            return expectations
    return None


def plan_problems(route: Route) -> list[str]:
    """What the walk needs to know about this route and does not."""
    problems = [
        f"{route.path}: no filler for parameter {param!r} (see OBJECT_SEGMENTS, PARAMETERS, "
        "VOCABULARY in tests/security/test_every_route.py)"
        for param in route.params
        if _lookup(VOCABULARY, route, param) is None and filler(route, param) is None
    ]
    if policy(route) is None:
        problems.append(f"{route.path}: no caller policy (add its door to POLICIES)")
    return problems


# --- The two sides --------------------------------------------------------------------------------


@dataclass
class Side:
    objects: dict
    scope: Scope | None  # every row of this side
    before: dict  # its snapshot as the world was built (each test starts from there)
    strings: tuple[str, ...]  # what shows this side's people on a page

    @classmethod
    def of(cls, objects: dict, scope: Scope | None = None, strings=()) -> Side:
        return cls(objects, scope, scope.snapshot() if scope else {}, tuple(strings))


@pytest.fixture(scope="module")
def sides(world, django_db_blocker) -> dict[str, Side]:
    clinic_b = Q(clinician__clinic=world.clinic_b) | Q(patient__clinic=world.clinic_b)
    p2 = world.p2.patient
    clinic_scope = Scope(
        {
            Clinic: Clinic.objects.filter(pk=world.clinic_b.pk),
            User: User.objects.filter(clinic_b),
        }
    )
    patient_scope = Scope(
        {
            Clinic: Clinic.objects.filter(pk=world.clinic_b.pk),
            Patient: Patient.objects.filter(pk=p2.pk),
            User: User.objects.filter(clinic_b | Q(patient=p2)),
        }
    )
    return {
        "own": Side.of(world.own),
        "other_clinic": Side.of(world.other_clinic, clinic_scope, world.other_clinic_strings),
        "other_patient": Side.of(world.other_patient, patient_scope, world.other_patient_strings),
    }


def other_side(sides, caller: str) -> Side:
    return sides["other_patient"] if caller in PATIENTS else sides["other_clinic"]


# --- Calling --------------------------------------------------------------------------------------


def client_for(world, caller: str) -> APIClient:
    client = APIClient()
    if caller in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[caller]
    elif caller == "api_key":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.api_key}")
    elif caller == "patient_token":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.p1.objects['api_token']}")
    return client


def fill(route: Route, side: Side, own: Side) -> dict[str, object]:
    values = {}
    for param in route.params:
        vocabulary = _lookup(VOCABULARY, route, param)
        if vocabulary is not None:
            values[param] = vocabulary
            continue
        how = filler(route, param)
        if how is None:
            pytest.fail("\n".join(plan_problems(route)))
        if callable(how):
            values[param] = how(route, side, own)
            continue
        if how not in side.objects:
            pytest.fail(
                f"{route.path}: parameter {param!r} names a {how!r}, and the world "
                "(tests/security/conftest.py) has none"
            )
        value = side.objects[how]
        values[param] = getattr(value, "pk", value)
    return values


# Per-route bodies where the plausible one needs more than the shared fields (an action name).
BODIES = {
    "clinicians:plan_manage": {"action": "pause", "pause-reason": "Security walk"},
    "clinicians:team_member": {"action": "deactivate"},
}


def body_for(route: Route, side: Side, *, api: bool) -> dict:
    """A body most of the project's forms and endpoints accept, with the other side's ids
    wherever a payload names a record."""
    ids = ("patient", "plan", "protocol", "screening", "session", "decision", "report")
    data = {key: side.objects[key].pk for key in ids}
    data.update(
        audience="patient",
        measure="nprs",
        reason="Security walk",
        note="Security walk",
        level=1,
        pain=1,
        pain_next_morning=1,
        first_name="Probe",
        last_name="Walker",
        name="Security walk",
        email="nobody@example.org",
        condition="knee_oa",
        timezone="Europe/London",
        date=dt.date.today().isoformat(),
        minutes_done=10,
        pain_before=1,
        pain_worst=2,
        pain_after=1,
        effort=3,
        setting="treadmill_both_handrails",
        auto_apply=True,
    )
    if api:
        data["answers"] = {"score": 3}
    else:
        data["score"] = 3
    data.update(BODIES.get(route.name, {}))
    return data


def query_probe(side: Side) -> dict:
    """The other side's ids where the project's pages and filters read them from the query."""
    objects = side.objects
    return {
        "patient": objects["patient"].pk,
        "measure": "nprs",
        "plan": objects["plan"].pk,
        "protocol": objects["protocol"].pk,
        "from": objects["screening"].pk,
    }


def read_body(response) -> bytes:
    if response.streaming:
        # Reading to the end closes the response: the test client's wrapper does it with the
        # connection cleanup unhooked. A second close() would send request_finished with it
        # hooked, which on PostgreSQL closes the connection under the test's transaction.
        return b"".join(response.streaming_content)
    return response.content


def leaked(body: bytes, strings: tuple[str, ...]) -> list[str]:
    found = []
    for text in strings:
        if text.encode() in body or html.escape(text).encode() in body:
            found.append(text)
    return found


def walk(world, route: Route, caller: str, side: Side, own: Side, *, ids: Side):
    """Call `route` with every method as `caller`, the URL's records taken from `ids`; yields
    (what was called, response, body)."""
    url = route.url(fill(route, ids, own))
    api = route.path.startswith("/api/")
    data = body_for(route, side, api=api)
    calls = [("get", {})]
    if not record_params(route) or ids is own:
        calls.append(("get", query_probe(side)))
    calls += [(method, data) for method in methods_for(route) if method != "get"]
    client = client_for(world, caller)
    for method, payload in calls:
        label = f"{method.upper()} {url}" + (f"?{payload}" if method == "get" and payload else "")
        try:
            if method == "get":
                response = client.get(url, payload)
            else:
                response = getattr(client, method)(
                    url, payload, format="json" if api else "multipart"
                )
        except Exception as exc:
            raise AssertionError(f"{label} as {caller} raised {exc!r}") from exc
        yield label, response, read_body(response)


@pytest.fixture
def fresh(settings, world):
    # The report files live in the world's folder. (Each test's throttling budgets start anew
    # on their own: tests/conftest.py gives every test its own cache key prefix.)
    settings.MEDIA_ROOT = world.media_root


# --- The tests ------------------------------------------------------------------------------------

ROUTES = all_routes()
STRANGE_URLS = "tests.security.strange_urls"
CASES = [
    pytest.param(route, caller, id=f"{route.path} as {caller}")
    for route in ROUTES
    for caller in CALLERS
]


def _control_caller(route: Route) -> str | None:
    for glob, caller in CONTROL_CALLERS:
        if fnmatch.fnmatchcase(route.path, glob):
            return caller
    return "missing"


CONTROLS = [
    pytest.param(route, _control_caller(route), id=f"{route.path} as {_control_caller(route)}")
    for route in ROUTES
    if record_params(route) and _control_caller(route) is not None
]


def _figures() -> str:
    requests = 0
    for route in ROUTES:
        per_caller = len(methods_for(route)) + (0 if record_params(route) else 1)
        requests += per_caller * len(CALLERS)
    controls = sum(len(methods_for(case.values[0])) + 1 for case in CONTROLS)
    return (
        f"{len(ROUTES)} routes x {len(CALLERS)} callers = {len(CASES)} checks, "
        f"{requests} requests; {len(CONTROLS)} own-id controls, {controls} requests"
    )


@pytest.mark.parametrize("figures", [_figures()])
def test_the_walk_covers_every_route(figures):
    """Every pattern of the URL configuration is walked, and the walk knows how to fill each
    one's parameters and what each caller must get."""
    routes = all_routes()
    assert {case.values[0].route for case in CASES} == {route.route for route in routes}
    problems = [problem for route in routes for problem in plan_problems(route)]
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "caller"), CASES)
def test_other_sides_ids_reach_nothing(world, sides, fresh, route, caller):
    problems = plan_problems(route)
    assert not problems, "\n".join(problems)
    expect = policy(route)[caller]
    side = other_side(sides, caller)
    for label, response, body in walk(world, route, caller, side, sides["own"], ids=side):
        problem = expect.problem(response, body)
        if problem:
            problems.append(f"{label}: {problem}")
        found = leaked(body, side.strings)
        if found:
            problems.append(f"{label}: the answer shows the other side's {found}")
    changes = snapshot_difference(side.before, side.scope.snapshot())
    if changes:
        problems.append(f"the other side's rows changed: {changes[:10]}")
    assert not problems, f"{route.path} as {caller}:\n" + "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "caller"), CONTROLS)
def test_own_ids_reach_the_route(world, sides, fresh, route, caller):
    """The same route with the caller's own ids answers something other than 404: the filler
    names records of the right kind, so the other side's 404 means something. The other side's
    ids still ride in the query and the body, and must change nothing and show nothing."""
    assert caller != "missing", f"{route.path}: no caller in CONTROL_CALLERS for its door"
    side = other_side(sides, caller)
    statuses, problems = [], []
    for label, response, body in walk(world, route, caller, side, sides["own"], ids=sides["own"]):
        statuses.append(f"{label} -> {response.status_code}")
        if response.status_code >= 500:
            problems.append(f"{label}: answered {response.status_code}")
        found = leaked(body, side.strings)
        if found:
            problems.append(f"{label}: the answer shows the other side's {found}")
    if all(s.endswith(("-> 404", "-> 405")) for s in statuses):
        problems.append(
            "no method reaches the view with the caller's own ids:\n" + "\n".join(statuses)
        )
    changes = snapshot_difference(side.before, side.scope.snapshot())
    if changes:
        problems.append(f"the other side's rows changed: {changes[:10]}")
    assert not problems, f"{route.path} as {caller}:\n" + "\n".join(problems)


@pytest.mark.django_db
def test_a_format_suffix_is_no_route_of_the_api(world, fresh):
    """The router used to add `.json` variants of every route, whose actions did not take the
    `format` argument they were given: POST /api/v1/patients.json was a 500. JSON is the API's
    only format, so the variants are gone."""
    client = client_for(world, "api_key")
    for method, url in [
        ("post", "/api/v1/patients.json"),
        ("patch", f"/api/v1/patients/{world.p1.patient.pk}.json"),
        ("post", f"/api/v1/plans/{world.p1.objects['plan'].pk}/pause.json"),
    ]:
        response = getattr(client, method)(url, {"reason": "x"}, format="json")
        assert response.status_code == 404, (method, url, response.status_code)


def test_the_walk_names_what_it_does_not_know():
    """A route the tables do not describe is not skipped: its test fails, naming the route and
    what to add (tests/security/strange_urls.py holds a few such routes)."""
    problems = {route.path: plan_problems(route) for route in all_routes(STRANGE_URLS)}
    assert problems["/clinic/gadgets/<gadget>/"] == [
        "/clinic/gadgets/<gadget>/: no filler for parameter 'gadget' (see OBJECT_SEGMENTS, "
        "PARAMETERS, VOCABULARY in tests/security/test_every_route.py)"
    ]
    assert "no filler for parameter 'pk'" in problems["/api/v1/gadget-feeds/<pk>/"][0]
    assert problems["/fhir/Observation/<patient_id>/"] == [
        "/fhir/Observation/<patient_id>/: no caller policy (add its door to POLICIES)"
    ]
    assert problems["/clinic/patients/<patient_id>/notes/"] == []
    assert problems["/readyz"] == []
