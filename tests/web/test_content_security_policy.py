"""Every route of the dashboard and the portal, generated from the URL configuration, answers
with a Content-Security-Policy that allows no inline script, and every HTML page it renders
carries nothing that policy would block (no inline script or style, no event-handler
attribute). A new route fails here until it is given its arguments below, so it cannot go
unchecked."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from rehab import services
from rehab.models import Report
from tests.factories import (
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

# Routes anyone may open: asked for without signing in.
PUBLIC = {"login", "password_reset", "password_reset_done", "password_reset_confirm"}
PUBLIC |= {"password_reset_complete", "invite_accept", "calendar_feed"}


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class InlineFinder(HTMLParser):
    """Collects what a policy without 'unsafe-inline' blocks: <script> without src, <style>
    elements, style="" and on*="" attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f'<{tag} {name}="{value}">')


def assert_strict(response, what: str) -> None:
    directives = policy(response)
    assert directives["default-src"] == ["'self'"], what
    scripts = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in scripts, what
    assert "'unsafe-eval'" not in scripts, what
    assert directives.get("object-src") == ["'none'"], what
    assert directives.get("frame-ancestors") == ["'none'"], what
    if response["Content-Type"].startswith("text/html"):
        finder = InlineFinder()
        finder.feed(response.content.decode())
        found = sorted(set(finder.found))
        assert not found, f"{what} has inline content the policy blocks: {found[:5]}"


def routes(urlconf: str):
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield pattern.name, pattern.pattern.converters

    return list(walk(get_resolver(urlconf).url_patterns))


@pytest.fixture
def clinic_with_history(db):
    """A clinic admin, a patient two weeks into a plan with sessions, decisions, a score,
    reports (one still being prepared) and a portal account; a clinic copy of a protocol."""
    admin = ClinicianFactory(is_clinic_admin=True, clinic__timezone="UTC")
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=14)
    patient = PatientFactory(clinic=admin.clinic, timezone="UTC", user=UserFactory())
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=start
    )
    protocol = builtin_protocol(patient.condition)
    plan = services.plan_assign(
        patient=patient, protocol=protocol, actor=admin.user, start_date=start, today=start
    )
    for days_ago in (12, 10, 8, 5, 3, 1):
        session = services.session_log(
            plan=plan,
            actor=None,
            date=today - dt.timedelta(days=days_ago),
            today=today,
            **good_session(),
        )
        services.session_evaluate(session_id=session.pk)  # the worker's part, done
    services.outcome_record(patient=patient, measure="nprs", answers={"score": 4}, actor=None)
    services.report_request(patient=patient, audience="patient", actor=None)
    services.report_request(patient=patient, audience="clinician", actor=None)
    # A report still being made: the pages that poll for it load their script.
    pending = services.report_request(patient=patient, audience="clinician", actor=None)
    Report.objects.filter(pk=pending.pk).update(status=Report.Status.PENDING)
    services.protocol_copy(protocol=protocol, clinic=admin.clinic, actor=admin.user)
    # A webhook endpoint, added last: nothing above is sent to it.
    services.webhook_endpoint_create(
        clinic=admin.clinic, actor=None, url="https://hooks.example.org/in", events=["plan.paused"]
    )
    return admin, patient, plan


def arguments(name: str, admin, patient, plan) -> dict:
    """The arguments each route is opened with: objects of the clinic with history."""
    report = patient.reports.first()
    copy = admin.clinic.protocols.first()
    endpoint = admin.clinic.webhook_endpoints.first()
    return {
        "clinicians:patient": {"pk": patient.pk},
        "clinicians:decision_approve": {"pk": plan.decisions.first().pk},
        "clinicians:decision_reject": {"pk": plan.decisions.first().pk},
        "clinicians:report_request": {"pk": patient.pk},
        "clinicians:note_add": {"pk": patient.pk},
        "clinicians:session_new": {"pk": patient.pk},
        "clinicians:outcome_new": {"pk": patient.pk, "measure": "koos"},
        "clinicians:report_status": {"pk": report.pk},
        "clinicians:report_download": {"pk": report.pk},
        "clinicians:patient_edit": {"pk": patient.pk},
        "clinicians:patient_export": {"pk": patient.pk},
        "clinicians:patient_erase": {"pk": patient.pk},
        "clinicians:screening_new": {"pk": patient.pk},
        "clinicians:screening_result": {"pk": patient.screenings.first().pk},
        "clinicians:referral_act": {"pk": patient.screenings.first().pk},
        "clinicians:plan_assign": {"pk": patient.pk},
        "clinicians:plan_manage": {"pk": plan.pk},
        "clinicians:patient_invite": {"pk": patient.pk},
        "clinicians:protocol": {"pk": copy.based_on_id},
        "clinicians:protocol_copy": {"pk": copy.based_on_id},
        "clinicians:protocol_edit": {"pk": copy.pk},
        "clinicians:team_member": {"pk": admin.pk},
        "clinicians:api_key_revoke": {"pk": 1},
        "clinicians:webhook": {"pk": endpoint.pk},
        "clinicians:webhook_rotate": {"pk": endpoint.pk},
        "clinicians:webhook_delete": {"pk": endpoint.pk},
        "clinicians:webhook_deliveries": {"pk": endpoint.pk},
        "clinicians:webhook_delivery_retry": {"pk": endpoint.pk, "delivery_id": 1},  # POST only
        "clinicians:password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
        "patients:password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
        "patients:invite_accept": {"token": "not-a-real-invitation"},
        "patients:session_saved": {"pk": plan.sessions.first().pk},
        "patients:next_morning": {"pk": plan.sessions.first().pk},
        "patients:questionnaire": {"measure": "koos"},
        "patients:report_download": {"pk": patient.reports.filter(audience="patient")[0].pk},
        "patients:calendar_feed": {"token": "not-a-real-calendar-link"},
    }.get(name, {})


@pytest.mark.parametrize("door", ["clinicians", "patients"])
def test_every_route_sends_a_policy_without_inline_script(client, clinic_with_history, door):
    admin, patient, plan = clinic_with_history
    opened = 0
    for name, converters in routes(f"{door}.urls"):
        qualified = f"{door}:{name}"
        kwargs = arguments(qualified, admin, patient, plan)
        assert set(kwargs) == set(converters), f"give {qualified} its arguments in this test"
        client.logout()
        if name not in PUBLIC:
            client.force_login(admin.user if door == "clinicians" else patient.user)
        response = client.get(reverse(qualified, kwargs=kwargs))
        assert_strict(response, qualified)
        opened += 1
    assert opened >= 19


def test_pages_shown_after_an_action_carry_no_inline_script(client, clinic_with_history):
    """The pages that show a new secret once (an API key, a webhook's signing secret, a calendar
    link) have a copy button; its script must come from a file too."""
    admin, patient, _ = clinic_with_history
    client.force_login(admin.user)
    response = client.post(reverse("clinicians:api_keys"), {"name": "Records system"})
    assert response.status_code == 201
    assert_strict(response, "a new API key")
    response = client.post(
        reverse("clinicians:webhooks"),
        {"url": "https://hooks.example.org/2", "events": ["plan.paused"]},
    )
    assert response.status_code == 201
    assert_strict(response, "a new webhook endpoint's secret")
    endpoint = admin.clinic.webhook_endpoints.first()
    response = client.post(
        reverse("clinicians:webhook_rotate", args=[endpoint.pk]), {"overlap_hours": 1}
    )
    assert b"whsec_" in response.content
    assert_strict(response, "a rotated webhook secret")
    client.force_login(patient.user)
    response = client.post(reverse("patients:calendar_create"))
    assert b"calendar-copy" in response.content
    assert_strict(response, "a new calendar link")


def test_the_api_docs_allow_their_own_style_by_nonce_and_no_inline_script(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    directives = policy(response)
    assert "'unsafe-inline'" not in directives.get("script-src", directives["default-src"])
    assert not any("unsafe" in value for value in directives.get("style-src", []))
    page = response.content.decode()
    nonce = next(v for v in directives["style-src"] if v.startswith("'nonce-"))[7:-1]
    assert f'<style nonce="{nonce}">' in page
    finder = InlineFinder()
    finder.feed(page.replace(f'<style nonce="{nonce}">', ""))
    assert not finder.found
    # The bootstrap script the page loads comes from this server, not from the page itself.
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_admin_sends_the_policy_too(admin_client):
    response = admin_client.get("/admin/")
    assert_strict(response, "the admin")
