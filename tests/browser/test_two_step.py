"""Two-step sign-in in a real browser: a clinic that requires it sends a new clinician to set
up an authenticator, and the next sign-in asks for its code; axe finds nothing serious."""

from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db(transaction=True)


def code_from(secret_text: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed from the page."""
    totp = TOTP(b32decode("".join(secret_text.split())))
    totp.time = totp.time + 30 * steps_ahead
    return f"{totp.token():06d}"


def test_enrol_then_sign_in_with_the_code(page, live_server, sign_in, axe_check):
    clinician = ClinicianFactory(user__username="priya", clinic__require_two_step=True)
    sign_in(page, "priya")
    # The clinic requires it: the first page is the set-up, whatever was asked for.
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    expect(page.locator("figure.qr svg")).to_be_visible()
    axe_check(page)
    secret = page.locator("#two-step-secret").inner_text()

    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_label("Code from the app")).to_have_attribute("aria-invalid", "true")
    axe_check(page)

    page.get_by_label("Code from the app").fill(code_from(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    axe_check(page)
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_text("Recovery codes left")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "priya")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Type the code from your authenticator app"
    )
    axe_check(page)
    page.get_by_label("Code").fill("123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    axe_check(page)
    page.wait_for_timeout(1500)  # django-otp's wait after a wrong code
    # The enrolment used this 30-second step's code, and a code works once: the app's next one
    # (one step of clock difference is accepted).
    page.get_by_label("Code").fill(code_from(secret, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    expect(page.get_by_text(clinician.clinic.name)).to_be_visible()
