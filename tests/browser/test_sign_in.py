"""Signing in to the dashboard in a real browser, and the lockout after repeated failures."""

import pytest
from playwright.sync_api import expect

from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_clinician_signs_in_with_email_and_sees_today(page, live_server, sign_in, axe_check):
    clinician = ClinicianFactory(user__email="priya@example.org")
    page.goto(live_server.url + "/clinic/login/")
    axe_check(page)
    sign_in(page, "priya@example.org")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    expect(page.get_by_text(clinician.clinic.name)).to_be_visible()
    axe_check(page)


def test_repeated_wrong_passwords_lock_the_account(page, live_server, sign_in, settings):
    settings.AXES_ENABLED = True
    ClinicianFactory(user__username="locked")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, "locked", password="wrong")
    sign_in(page, "locked")  # the right password, too late
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many sign-in attempts")
