"""The clinician's day in a real browser: screen, assign, approve, report. axe-core checks every
page on the way for serious or critical accessibility violations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from rehab import services
from rehab.clinical import levels as L
from rehab.models import Patient, Plan, ProgressionDecision, Report
from tests.browser.conftest import fill_screening
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
    return ClinicianFactory(user__username="priya", clinic__timezone="UTC")


def test_a_red_flag_blocks_the_plan_with_an_emergency_referral(
    page, live_server, sign_in, axe_check, clinician
):
    patient = PatientFactory(clinic=clinician.clinic, condition=L.CHRONIC_LOW_BACK_PAIN)
    sign_in(page, "priya")
    page.goto(f"{live_server.url}/clinic/patients/{patient.pk}/")
    axe_check(page)
    page.get_by_role("link", name="New screening").click()
    # Red flags come first.
    expect(page.locator("fieldset.screening-group").first).to_contain_text("Red flags")
    axe_check(page)
    fill_screening(page, clean_answers(patient.condition, saddle_anaesthesia=True))
    page.get_by_role("button", name="See the verdict").click()
    expect(page.get_by_role("alert")).to_contain_text("Refer to emergency services now")
    expect(page.get_by_text("Verdict: Blocked.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Assign"))).to_have_count(0)
    axe_check(page)


def test_a_new_clean_patient_is_screened_and_assigned_a_protocol(
    page, live_server, sign_in, axe_check, clinician
):
    builtin_protocol(L.KNEE_OA)
    sign_in(page, "priya")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New patient").click()
    axe_check(page)
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Condition").select_option(L.KNEE_OA)
    page.get_by_label("E-mail address").fill("ada@example.org")
    page.get_by_role("button", name=re.compile("Save|Add|Create")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Safety screening: Ada Okafor")
    fill_screening(page, clean_answers(L.KNEE_OA))
    page.get_by_role("button", name="See the verdict").click()
    expect(page.get_by_text("Verdict: Cleared.")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Assign a protocol").click()
    page.get_by_role("button", name="Show its levels").click()
    expect(page.get_by_role("table").first).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Assign the protocol").click()
    patient = Patient.objects.get(last_name="Okafor")
    plan = Plan.objects.get(patient=patient)
    assert plan.status == Plan.Status.ACTIVE
    expect(page.get_by_text(plan.protocol_name).first).to_be_visible()
    axe_check(page)


def test_a_pending_advance_is_approved_from_the_patient_page(
    page, live_server, sign_in, axe_check, clinician
):
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=30)
    patient = PatientFactory(clinic=clinician.clinic, timezone="UTC")
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=start
    )
    plan = services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=start,
        today=start,
    )
    # Every planned day of the last three weeks: walks on rest days are not planned sessions, so
    # a fixed every-other-day pattern would earn an advance on some weekdays and not on others.
    for days_ago in range(21, 0, -1):
        day = today - dt.timedelta(days=days_ago)
        if day.weekday() in plan.schedule_days:
            services.session_log(
                plan=plan, actor=None, date=day, today=today, pain_next_morning=2, **good_session()
            )
    decision = plan.decisions.get(status=ProgressionDecision.Status.PENDING)

    sign_in(page, "priya")
    # Today lists the patient with the decision waiting; the row leads to the patient page.
    expect(page.get_by_text("Awaiting approval").first).to_be_visible()
    axe_check(page)
    page.locator(f"main a[href='/clinic/patients/{patient.pk}/']").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(patient.full_name)
    axe_check(page)
    page.get_by_role("button", name=re.compile("^Approve")).click()
    decision.refresh_from_db()
    plan.refresh_from_db()
    assert decision.status == ProgressionDecision.Status.APPROVED
    assert decision.decided_by == clinician.user
    assert plan.current_level == decision.to_level
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)


def test_a_report_is_requested_and_downloaded(page, live_server, sign_in, axe_check, clinician):
    today = dt.datetime.now(dt.UTC).date()
    patient = PatientFactory(clinic=clinician.clinic, timezone="UTC")
    yesterday = today - dt.timedelta(days=1)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=yesterday
    )
    plan = services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=yesterday,
        today=yesterday,
    )
    services.session_log(plan=plan, actor=None, date=yesterday, today=today, **good_session())
    sign_in(page, "priya")
    page.goto(f"{live_server.url}/clinic/patients/{patient.pk}/#reports")
    page.get_by_role("button", name="Request report").click()
    link = page.get_by_role("link", name=re.compile("Download PDF"))
    expect(link).to_be_visible()
    axe_check(page)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert Report.objects.get(patient=patient).status == Report.Status.READY
