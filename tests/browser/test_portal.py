"""The patient's side in a real browser at a phone's size: accept the invitation, walk with the
timer and log it, report a fall, add next-morning pain, download the report. axe-core checks
every page on the way for serious or critical accessibility violations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from rehab import services
from rehab.models import Plan, SessionLog
from tests.factories import ClinicianFactory, PatientFactory, builtin_protocol, clean_answers

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "is_mobile": True, "has_touch": True}


@pytest.fixture
def plan(db):
    """Maria, screened and on the knee protocol since yesterday, with a portal account."""
    clinician = ClinicianFactory(clinic__name="Riverside Physiotherapy", clinic__timezone="UTC")
    patient = PatientFactory(
        clinic=clinician.clinic, first_name="Maria", email="maria@example.org", timezone="UTC"
    )
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=yesterday
    )
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=clinician.user,
        start_date=yesterday,
        schedule_days=list(range(7)),
        today=yesterday,
    )


def invitation_path(patient) -> str:
    """Invites the patient and returns the path of the link in the e-mail they receive."""
    services.patient_invite(patient=patient, actor=None)
    return re.search(r"https?://[^/]+(/portal/invite/\S+/)", mail.outbox[-1].body).group(1)


def choose_password(page) -> None:
    page.get_by_label("Choose a password").fill("a-long-walk-backwards")
    page.get_by_label("Type the same password again").fill("a-long-walk-backwards")
    page.get_by_role("button", name="Save my password and start").click()


@pytest.fixture
def maria(plan, live_server, page):
    """Maria has accepted her invitation on her phone, which signed her in."""
    page.goto(live_server.url + invitation_path(plan.patient))
    choose_password(page)
    expect(page).to_have_url(f"{live_server.url}/portal/")
    return plan


def assert_fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px"


def rate(page, name: str, value: int) -> None:
    page.check(f"input[name='{name}'][value='{value}']")


def test_accepting_the_invitation_signs_maria_in_to_today(plan, live_server, page, axe_check):
    path = invitation_path(plan.patient)
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Maria")
    axe_check(page)
    assert_fits_the_screen(page)
    choose_password(page)
    expect(page).to_have_url(f"{live_server.url}/portal/")
    expect(page.get_by_text("Stay safe").first).to_be_visible()
    axe_check(page)
    assert_fits_the_screen(page)
    plan.patient.refresh_from_db()
    assert plan.patient.user is not None
    # The link works once.
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Welcome, Maria")


def test_a_session_walked_with_the_timer_is_logged(
    maria, live_server, page, axe_check, page_is_clean
):
    page.add_init_script("window.RETROWALK_TIMER_SCALE = 120;")
    page.goto(f"{live_server.url}/portal/")
    expect(page.locator("#session-timer")).to_be_visible()
    page.click("#timer-start")
    expect(page.locator("#timer-phase")).to_contain_text(re.compile("Walk (backwards|forwards)"))
    page.wait_for_timeout(1500)
    page.click("#timer-stop")
    expect(page.locator("#log-form-message")).to_contain_text("Now tell us how it went")
    minutes = int(page.input_value("#id_minutes_done"))
    assert minutes >= 1
    page_is_clean()  # the timer (Web Audio, wake lock) ran under the Content-Security-Policy
    axe_check(page)
    for name, value in (("pain_before", 2), ("pain_worst", 3), ("pain_after", 2), ("effort", 3)):
        rate(page, name, value)
    page.get_by_role("button", name="Save my walk").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    axe_check(page)
    assert_fits_the_screen(page)
    log = SessionLog.objects.get(plan=maria)
    assert log.minutes_done == minutes
    assert log.pain_worst == 3


def test_a_fall_pauses_the_plan_with_a_clear_message(maria, live_server, page, axe_check):
    page.goto(f"{live_server.url}/portal/")
    for name, value in (("pain_before", 2), ("pain_worst", 4), ("pain_after", 3), ("effort", 4)):
        rate(page, name, value)
    page.get_by_label("I fell").check()
    page.get_by_role("button", name="Save my walk").click()
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Stop exercising now")
    expect(alert).to_contain_text("Riverside Physiotherapy")
    axe_check(page)
    maria.refresh_from_db()
    assert maria.status == Plan.Status.PAUSED
    page.goto(f"{live_server.url}/portal/")
    expect(page.get_by_text(re.compile("on hold", re.I)).first).to_be_visible()
    expect(page.locator("#session-timer")).to_have_count(0)


def test_next_morning_pain_is_added_the_day_after(maria, live_server, page, axe_check):
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    log = services.session_log(
        plan=maria,
        actor=None,
        date=yesterday,
        today=yesterday,
        minutes_done=10,
        pain_before=2,
        pain_worst=3,
        pain_after=2,
        effort=3,
        setting=maria.current_prescription().level.setting,
    )
    page.goto(f"{live_server.url}/portal/")
    card = page.locator(".morning-card")
    expect(card).to_be_visible()
    axe_check(page)
    card.locator("input[value='1']").check()
    card.get_by_role("button", name="Save my morning pain").click()
    log.refresh_from_db()
    assert log.pain_next_morning == 1
    page.goto(f"{live_server.url}/portal/")
    expect(page.locator(".morning-card")).to_have_count(0)


def test_the_progress_report_is_made_and_downloaded(maria, live_server, page, axe_check):
    page.goto(f"{live_server.url}/portal/progress/")
    axe_check(page)
    assert_fits_the_screen(page)
    page.goto(f"{live_server.url}/portal/reports/")
    page.get_by_role("button", name="Make my progress report").click()
    link = page.get_by_role("link", name=re.compile("Download the PDF")).first
    expect(link).to_be_visible()
    axe_check(page)
    with page.expect_download() as download_info:
        link.click()
    with open(download_info.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
