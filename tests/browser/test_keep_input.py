"""A patient's input is never lost, in a real browser at a phone's size, with a sign-in that
lasts seconds (a short SESSION_COOKIE_AGE): the browser itself drops the expired cookie, and
Django's CSRF cookie is the one that outlives it, as on a phone after a long walk."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from rehab import services
from rehab.models import KeptForm, QuestionnaireDraft, SessionLog
from tests.browser import test_portal
from tests.browser.test_portal import PHONE, assert_fits_the_screen, rate
from tests.factories import ClinicianFactory, PatientFactory, builtin_protocol, clean_answers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "is_mobile": True, "has_touch": True}


@pytest.fixture
def maria(db, live_server, page):
    """Maria, on the knee protocol since yesterday, has accepted her invitation on her phone."""
    clinician = ClinicianFactory(clinic__name="Riverside Physiotherapy", clinic__timezone="UTC")
    patient = PatientFactory(
        clinic=clinician.clinic, first_name="Maria", email="maria@example.org", timezone="UTC"
    )
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=yesterday
    )
    plan = services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=clinician.user,
        start_date=yesterday,
        schedule_days=list(range(7)),
        today=yesterday,
    )
    page.goto(live_server.url + test_portal.invitation_path(plan.patient))
    test_portal.choose_password(page)
    expect(page).to_have_url(f"{live_server.url}/portal/")
    return plan


PASSWORD = "a-long-walk-backwards"  # what maria chose on accepting her invitation
SHORT = 6  # seconds a sign-in lasts in these tests


def sign_in_again(page, *, remember: bool = False) -> None:
    page.get_by_label("username", exact=False).fill("maria@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    if remember:
        page.get_by_label("Keep me signed in on this device").check()
    page.get_by_role("button", name="Sign in").click()


def rate_the_walk(page) -> None:
    for name, value in (("pain_before", 2), ("pain_worst", 3), ("pain_after", 2), ("effort", 3)):
        rate(page, name, value)


def test_a_walk_saved_after_the_sign_in_ended_is_saved_after_signing_in_again(
    maria, live_server, page, settings, axe_check, page_is_clean
):
    settings.SESSION_COOKIE_AGE = SHORT
    # A fresh sign-in under the short limit.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/portal/login/")
    sign_in_again(page)
    expect(page).to_have_url(f"{live_server.url}/portal/")
    page.fill("#id_minutes_done", "27")
    rate_the_walk(page)
    page.fill("#id_notes", "Longer than my sign-in")
    page.wait_for_timeout((SHORT + 2) * 1000)  # the walk: the sign-in ends meanwhile
    page.get_by_role("button", name="Save my walk").click()

    expect(page).to_have_url(re.compile(r"/portal/login/\?next=/portal/log/$"))
    expect(page.get_by_text("We have kept what you filled in")).to_be_visible()
    assert not SessionLog.objects.exists()
    assert KeptForm.objects.count() == 1
    axe_check(page)
    assert_fits_the_screen(page)

    sign_in_again(page)
    expect(page.get_by_text("It is saved.")).to_be_visible()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    page_is_clean()
    axe_check(page)
    log = SessionLog.objects.get(plan=maria)
    assert (log.minutes_done, log.pain_worst, log.notes) == (27, 3, "Longer than my sign-in")
    assert not KeptForm.objects.exists()


def test_the_running_timer_keeps_the_sign_in_alive(maria, live_server, page, settings):
    settings.SESSION_COOKIE_AGE = SHORT  # the timer asks every 2 seconds
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/portal/login/")
    sign_in_again(page)
    expect(page.locator("#session-timer")).to_be_visible()
    with page.expect_response(re.compile(r"/portal/keepalive/$")) as first:
        page.click("#timer-start")
    assert first.value.status == 204
    page.wait_for_timeout((SHORT * 2) * 1000)  # twice as long as a sign-in lasts
    page.click("#timer-stop")
    rate_the_walk(page)
    page.get_by_role("button", name="Save my walk").click()
    # Saved at once: no sign-in page on the way.
    expect(page).to_have_url(re.compile(r"/portal/log/\d+/$"))
    assert SessionLog.objects.filter(plan=maria).count() == 1
    assert not KeptForm.objects.exists()


def test_keep_me_signed_in_outlasts_the_idle_limit(maria, live_server, page, settings, axe_check):
    settings.SESSION_COOKIE_AGE = 2
    settings.PORTAL_REMEMBER_DAYS = 1
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/portal/login/")
    expect(page.get_by_label("Keep me signed in on this device")).not_to_be_checked()
    axe_check(page)
    sign_in_again(page, remember=True)
    expect(page).to_have_url(f"{live_server.url}/portal/")
    page.wait_for_timeout(4000)
    page.goto(f"{live_server.url}/portal/progress/")
    expect(page).to_have_url(f"{live_server.url}/portal/progress/")


def test_the_knee_questionnaire_resumes_at_the_page_left(maria, live_server, page, axe_check):
    page.goto(f"{live_server.url}/portal/questionnaires/koos/")
    expect(page.get_by_text("Page 1 of 5", exact=True)).to_be_visible()
    axe_check(page)
    assert_fits_the_screen(page)
    for item in ("S1", "S2", "S3", "S4", "S5", "S6", "S7"):
        page.check(f"input[name='{item}'][value='1']")
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Page 2 of 5", exact=True)).to_be_visible()
    page.check("input[name='P1'][value='2']")
    page.get_by_role("button", name="Save and finish later").click()
    expect(page.get_by_text("Open the questionnaire again to carry on")).to_be_visible()
    carry_on = page.get_by_role("link", name=re.compile("Carry on with: Knee questionnaire"))
    expect(carry_on).to_contain_text("from page 2 of 5")
    axe_check(page)

    page.goto(f"{live_server.url}/portal/")
    page.goto(f"{live_server.url}/portal/progress/")
    carry_on.click()
    expect(page.get_by_text("Page 2 of 5", exact=True)).to_be_visible()
    expect(page.get_by_text("Welcome back. Your answers so far are saved")).to_be_visible()
    expect(page.locator("input[name='P1'][value='2']")).to_be_checked()
    axe_check(page)
    page.get_by_role("button", name="Previous page").click()
    expect(page.get_by_text("Page 1 of 5", exact=True)).to_be_visible()
    expect(page.locator("input[name='S7'][value='1']")).to_be_checked()
    draft = QuestionnaireDraft.objects.get(patient=maria.patient, measure="koos")
    assert draft.answers["P1"] == 2
    assert draft.page == 0
