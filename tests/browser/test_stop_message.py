"""The stop message after a fall, on a phone: the clinic's number is a link to tap and call,
large enough to hit, and the page passes axe-core."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from rehab import services
from rehab.models import Plan
from tests.factories import (
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "is_mobile": True, "has_touch": True}


@pytest.fixture
def plan(db):
    clinician = ClinicianFactory(
        clinic__name="Riverside Physiotherapy",
        clinic__timezone="UTC",
        clinic__phone="+44 (0)161 496 0000",
    )
    patient = PatientFactory(
        clinic=clinician.clinic,
        first_name="Maria",
        timezone="UTC",
        user=UserFactory(username="maria"),
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


def test_the_fall_message_has_a_tap_to_call_link(plan, live_server, page, sign_in, axe_check):
    sign_in(page, "maria", door="patients")
    page.goto(f"{live_server.url}/portal/log/")
    for name, value in (("pain_before", 2), ("pain_worst", 4), ("pain_after", 3), ("effort", 4)):
        page.check(f"input[name='{name}'][value='{value}']")
    page.get_by_label("I fell").check()
    page.get_by_role("button", name="Save my walk").click()

    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Stop exercising now")
    call = alert.get_by_role("link", name="Call Riverside Physiotherapy: +44 (0)161 496 0000")
    expect(call).to_be_visible()
    expect(call).to_have_attribute("href", "tel:+441614960000")
    box = call.bounding_box()
    assert box["height"] >= 24
    assert box["width"] >= 24
    assert box["x"] + box["width"] <= PHONE["width"]  # whole on the screen, nothing cut off
    axe_check(page)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED

    # Today, on hold, says the same way to call.
    page.goto(f"{live_server.url}/portal/")
    call = page.get_by_role("link", name="Call Riverside Physiotherapy: +44 (0)161 496 0000")
    expect(call).to_have_attribute("href", "tel:+441614960000")
    axe_check(page)
