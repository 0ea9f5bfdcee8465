"""Clinic work in a real browser: a clinician logs a supervised session for a patient whose
screening allows supervised sessions only, enters an ODI total and writes a note. axe-core
checks every page on the way, the error pages too; nothing trips the Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rehab import services
from rehab.clinical import levels as L
from rehab.models import ClinicalNote, OutcomeScore, SessionLog
from tests.factories import ClinicianFactory, PatientFactory, builtin_protocol, clean_answers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinician(db):
    return ClinicianFactory(
        user__username="priya",
        user__first_name="Priya",
        user__last_name="Patel",
        clinic__timezone="UTC",
    )


def supervised_only_plan(clinic):
    """A low-back patient with a fall last year: the screening allows supervised sessions only."""
    patient = PatientFactory(
        clinic=clinic, condition=L.CHRONIC_LOW_BACK_PAIN, timezone="UTC", first_name="Ada"
    )
    today = timezone.now().date()
    start = today - timezone.timedelta(days=7)
    screening = services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, falls_past_12_months=1),
        actor=None,
        today=start,
    )
    assert screening.constraints["supervised_only"] is True
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=start,
        today=start,
    )


def test_a_clinician_logs_a_supervised_session_and_enters_an_odi_total(
    page, live_server, sign_in, axe_check, page_is_clean, clinician
):
    plan = supervised_only_plan(clinician.clinic)
    patient = plan.patient
    sign_in(page, "priya")
    page.goto(f"{live_server.url}/clinic/patients/{patient.pk}/")
    expect(page.get_by_text("Supervised sessions only", exact=False).first).to_be_visible()

    # The session: first with a mistake, then corrected.
    page.get_by_role("link", name="Log a supervised session").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a supervised session")
    axe_check(page)
    page_is_clean()
    page.get_by_label("Minutes walked backwards").fill("0")
    page.get_by_label("Pain before (NRS 0-10)").select_option("2")
    page.get_by_label("Session notes").fill("Steady on the rails.")
    page.get_by_role("button", name="Log the supervised session").click()
    expect(page.get_by_text("Enter at least 1 minute.")).to_be_visible()
    expect(page.get_by_label("Session notes")).to_have_value("Steady on the rails.")
    expect(page.get_by_label("Pain before (NRS 0-10)")).to_have_value("2")
    axe_check(page)
    page.get_by_label("Minutes walked backwards").fill("10")
    page.get_by_label("Worst pain during (NRS 0-10)").select_option("3")
    page.get_by_label("Pain just after (NRS 0-10)").select_option("2")
    page.get_by_label("Effort (Borg CR10, 0-10)").select_option("3")
    page.get_by_role("button", name="Log the supervised session").click()
    expect(page.get_by_text("supervised session of", exact=False)).to_be_visible()
    log = SessionLog.objects.get(plan=plan)
    assert (log.supervised, log.logged_by, log.minutes_done) == (True, clinician.user, 10)
    sessions = page.locator("#sessions")
    expect(sessions).to_contain_text("Supervised")
    expect(sessions).to_contain_text("Priya Patel")
    axe_check(page)

    # The ODI total: a licensed questionnaire, so only its total is entered.
    page.get_by_role("link", name="Oswestry Disability Index (ODI) (total)").click()
    axe_check(page)
    page.get_by_label("Total score (0 to 100)").fill("140")
    page.get_by_role("button", name="Record the score").click()
    expect(page.get_by_text("Enter 100 or less.")).to_be_visible()
    axe_check(page)
    page.get_by_label("Total score (0 to 100)").fill("34")
    page.get_by_role("button", name="Record the score").click()
    expect(page.locator("#outcomes")).to_contain_text("Oswestry Disability Index (ODI)")
    score = OutcomeScore.objects.get(patient=patient)
    assert (score.measure, score.scores, score.recorded_by) == (
        "odi",
        {"total": 34.0},
        clinician.user,
    )

    # A dated note, shown on the record.
    page.get_by_label("Note", exact=True).fill("Discussed pacing; review in two weeks.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#notes")).to_contain_text("Discussed pacing; review in two weeks.")
    assert ClinicalNote.objects.get(patient=patient).author == clinician.user
    axe_check(page)
    # The two refused forms above were 400s, which the console reports; the policy was kept.
    assert page.evaluate("window.__policyViolations || []") == []
