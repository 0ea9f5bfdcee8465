"""An emergency referral in a real browser: the first row of Today, a banner with its reasons on
the patient's page, and recorded as acted on from that banner. axe-core checks each page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from rehab import services
from rehab.clinical import levels as L
from rehab.models import ReferralAction
from tests.factories import (
    ClinicianFactory,
    PatientFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinician(db):
    return ClinicianFactory(
        user__username="priya",
        user__first_name="Priya",
        user__last_name="Patel",
        clinic__timezone="UTC",
    )


def screen(patient, **answers):
    return services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, **answers),
        actor=None,
        today=dt.datetime.now(dt.UTC).date(),
    )


@pytest.fixture
def ward(clinician):
    clinic = clinician.clinic
    # A plan paused by a fall: the flag that used to come first, and first by name too.
    fallen = PatientFactory(clinic=clinic, first_name="Anna", last_name="Abbott", timezone="UTC")
    screen(fallen)
    today = dt.datetime.now(dt.UTC).date()
    plan = services.plan_assign(
        patient=fallen, protocol=builtin_protocol(), actor=None, start_date=today, today=today
    )
    services.session_log(plan=plan, actor=None, date=today, today=today, **good_session(fall=True))
    mills = PatientFactory(clinic=clinic, first_name="George", last_name="Mills", timezone="UTC")
    screen(mills, suspected_dvt=True)
    mckenzie = PatientFactory(
        clinic=clinic,
        first_name="Ian",
        last_name="McKenzie",
        condition=L.CHRONIC_LOW_BACK_PAIN,
        timezone="UTC",
    )
    screen(mckenzie, saddle_anaesthesia=True)


@pytest.mark.usefixtures("clinician", "ward")
def test_the_emergency_referral_leads_today_and_its_banner_is_acted_on(
    page, live_server, sign_in, axe_check
):
    sign_in(page, "priya")
    rows = page.locator("table tbody tr")
    expect(rows.first).to_contain_text("McKenzie, Ian")
    expect(rows.first).to_contain_text("Emergency referral not acted on")
    expect(rows.nth(1)).to_contain_text("Mills, George")
    expect(rows.nth(1)).to_contain_text("Urgent referral not acted on")
    expect(rows.nth(2)).to_contain_text("Abbott, Anna")
    summary = page.get_by_role("region", name="Needs attention")
    expect(summary.get_by_role("link", name="1 Emergency referral not acted on")).to_be_visible()
    axe_check(page)

    rows.first.get_by_role("link", name="McKenzie, Ian").click()
    banner = page.get_by_role("region", name="Emergency referral: not yet recorded as acted on")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Refer to emergency services now.")
    expect(banner).to_contain_text("cauda equina")
    axe_check(page)

    # Nothing typed: the error is on the field, and nothing is recorded.
    banner.get_by_role("button", name="Record as acted on").click()
    banner = page.get_by_role("region", name="Emergency referral: not yet recorded as acted on")
    field = banner.get_by_label("What was done")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(banner).to_contain_text("Say what was done")
    axe_check(page)
    assert not ReferralAction.objects.exists()

    field.fill("Referred to A&E by ambulance")
    banner.get_by_role("button", name="Record as acted on").click()
    expect(page.get_by_text("Recorded: the emergency referral was acted on.")).to_be_visible()
    expect(
        page.get_by_role("region", name="Emergency referral: not yet recorded as acted on")
    ).to_have_count(0)
    screenings = page.get_by_role("region", name="Screenings", exact=True)
    expect(screenings).to_contain_text("by Priya Patel: Referred to A&E by ambulance")
    expect(page.get_by_role("region", name="Who viewed or changed this record")).to_contain_text(
        "Recorded a referral as acted on"
    )
    axe_check(page)

    page.goto(live_server.url + "/clinic/")
    expect(page.locator("table tbody tr").first).to_contain_text("Mills, George")
