"""Every page of both doors, with data on it, through axe-core: no serious or critical
violation, and no Content-Security-Policy violation or console error. Portal pages must also
fit a 360 px phone and a desktop window at 200 % zoom (a 640 px wide viewport) without
scrolling sideways. The API docs render under the same policy."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from rehab import services
from rehab.models import Protocol, WebhookDelivery, WebhookEndpoint
from tests.browser.conftest import assert_page_is_clean, watch_policy
from tests.factories import (
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinic_with_history(db):
    """A clinic admin, a patient two weeks into a plan with sessions, a decision, an outcome
    score, a report and a portal account; and the clinic's own copy of a protocol."""
    admin = ClinicianFactory(is_clinic_admin=True, clinic__timezone="UTC", user__username="lead")
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=14)
    patient = PatientFactory(
        clinic=admin.clinic, timezone="UTC", user=UserFactory(username="pat"), phone="+447700900"
    )
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=start
    )
    protocol = builtin_protocol(patient.condition)
    plan = services.plan_assign(
        patient=patient, protocol=protocol, actor=admin.user, start_date=start, today=start
    )
    for days_ago in (12, 10, 8, 5, 3, 1):
        services.session_log(
            plan=plan,
            actor=None,
            date=today - dt.timedelta(days=days_ago),
            today=today,
            pain_next_morning=2,
            **good_session(),
        )
    services.outcome_record(patient=patient, measure="nprs", answers={"score": 4}, actor=None)
    services.report_request(patient=patient, audience="patient", actor=None)
    services.report_request(patient=patient, audience="clinician", actor=None)
    services.protocol_copy(protocol=protocol, clinic=admin.clinic, actor=admin.user)
    services.clinical_note_add(
        patient=patient, actor=admin.user, noted_on=patient.local_today(), text="Seen in clinic."
    )
    return admin, patient, plan


def webhook_with_log(clinic):
    """An endpoint failing since yesterday, with a failed, a waiting and a sent delivery."""
    endpoint, _ = services.webhook_endpoint_create(
        clinic=clinic,
        actor=None,
        url="https://hooks.example.org/in",
        events=["plan.paused", "session.logged"],
        description="Patient record system",
    )
    now = dt.datetime.now(dt.UTC)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now - dt.timedelta(days=1))
    log = [
        ("failed", 500, "The endpoint answered 500."),
        ("pending", None, "No answer within 10 s."),
        ("succeeded", 204, ""),
    ]
    for n, (status, code, error) in enumerate(log):
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event="plan.paused",
            message_id=f"msg_page_{n}",
            payload={},
            status=status,
            attempts=2,
            last_attempt_at=now,
            last_status_code=code,
            last_duration_ms=120,
            last_error=error,
            next_attempt_at=now + dt.timedelta(minutes=5) if status == "pending" else None,
            created_at=now - dt.timedelta(hours=n),
            retry_until=now + dt.timedelta(hours=24),
        )
    return endpoint


def test_every_dashboard_page_passes_axe(
    page, live_server, sign_in, axe_check, clinic_with_history, page_is_clean
):
    admin, patient, plan = clinic_with_history
    copy = Protocol.objects.get(clinic=admin.clinic)
    screening = patient.screenings.first()
    endpoint = webhook_with_log(admin.clinic)
    sign_in(page, "lead")
    for path in (
        "/clinic/",
        "/clinic/?flag=attention&q=a",
        f"/clinic/patients/{patient.pk}/",
        "/clinic/patients/new/",
        f"/clinic/patients/{patient.pk}/edit/",
        f"/clinic/patients/{patient.pk}/screening/",
        f"/clinic/screenings/{screening.pk}/",
        f"/clinic/plans/{plan.pk}/",
        f"/clinic/patients/{patient.pk}/sessions/new/",
        *(
            f"/clinic/patients/{patient.pk}/outcomes/{measure}/"
            for measure in ("nprs", "koos", "rmdq", "psfs", "odi", "womac")
        ),
        "/clinic/protocols/",
        f"/clinic/protocols/{copy.based_on_id}/",
        f"/clinic/protocols/{copy.pk}/edit/",
        "/clinic/team/",
        f"/clinic/team/{admin.pk}/",
        "/clinic/api-keys/",
        "/clinic/webhooks/",
        f"/clinic/webhooks/{endpoint.pk}/",
        f"/clinic/webhooks/{endpoint.pk}/rotate-secret/",
        f"/clinic/webhooks/{endpoint.pk}/delete/",
        f"/clinic/webhooks/{endpoint.pk}/deliveries/",
        "/clinic/team/two-step/",
        "/clinic/team/clinic/",
        "/clinic/data/retention/",
        f"/clinic/patients/{patient.pk}/erase/",
        "/clinic/account/two-step/",
        "/clinic/account/two-step/set-up/",
        "/clinic/password-reset/",
    ):
        page.goto(live_server.url + path)
        assert page.title(), path
        axe_check(page)
        page_is_clean()


@pytest.mark.parametrize("width", [360, 640])
def test_every_portal_page_passes_axe_and_fits_the_screen(
    browser, live_server, axe_check, clinic_with_history, width
):
    _, patient, _ = clinic_with_history
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems = watch_policy(page)
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("input[name=username]", "pat")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    for path in (
        "/portal/",
        "/portal/log/",
        f"/portal/log/{patient.sessions.first().pk}/",
        "/portal/progress/",
        "/portal/questionnaires/nprs/",
        "/portal/questionnaires/psfs/",
        "/portal/questionnaires/koos/",
        "/portal/reports/",
        "/portal/reminders/",
        "/portal/password-reset/",
    ):
        page.goto(live_server.url + path)
        axe_check(page)
        assert_page_is_clean(page, problems)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{path} scrolls sideways at {width}px: {scroll_width}px"
    context.close()


def test_the_api_docs_render_under_the_policy(page, live_server, page_is_clean):
    """Swagger UI: its bootstrap script comes from the server, its inline style has a nonce."""
    page.goto(live_server.url + "/api/v1/docs/")
    # The whole schema is parsed in the page: slow on a busy machine.
    title = page.locator(".swagger-ui .info .title")
    expect(title).to_contain_text("Retrowalk API", timeout=60_000)
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # an operation opens, with its parameters
    expect(page.locator(".opblock-body").first).to_be_visible()
    page_is_clean()
