"""The dashboard's patient page: who may open it, what each section shows, the audit of the
visit itself, and a query count that does not grow with the patient's history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from freezegun import freeze_time

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.audit import AuditAction, audit_reads, audit_record
from rehab.clinical import screening as clinical_screening
from rehab.models import AuditEvent, Plan, ProgressionDecision, Reminder
from tests.factories import (
    TODAY,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_frozen")]


@pytest.fixture
def _frozen():
    with freeze_time("2026-03-02 12:00:00"):  # TODAY, noon in London (GMT in March)
        yield


def url(patient) -> str:
    return reverse("clinicians:patient", args=[patient.pk])


def plan_for(clinic, *, start: dt.date = TODAY, answers=None, auto_apply=False, **patient_kw):
    """A patient of `clinic`, screened and on the built-in protocol from `start`."""
    patient = PatientFactory(clinic=clinic, **patient_kw)
    services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, **(answers or {})),
        actor=None,
        today=start,
    )
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=start,
        auto_apply=auto_apply,
        today=start,
    )


def log(plan, day: dt.date, **overrides):
    """A session logged, and its deferred evaluation run as the worker would."""
    session = services.session_log(
        plan=plan, actor=None, date=day, today=TODAY, **good_session(**overrides)
    )
    services.session_evaluate(session_id=session.pk)
    return session


def section(html: str, section_id: str) -> str:
    """The HTML of one <section id=...> of the page."""
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


# --- Who may open it ----------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, clinic):
    patient = PatientFactory(clinic=clinic)
    response = client.get(url(patient))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("clinicians:login"))
    assert not AuditEvent.objects.filter(action="patient.view").exists()


def test_another_clinics_patient_is_not_found(dashboard, stranger):
    assert dashboard.get(url(stranger)).status_code == 404
    assert not AuditEvent.objects.filter(patient=stranger).exists()


def test_a_patient_signed_in_is_sent_to_the_portal(client, clinic):
    patient = PatientFactory(clinic=clinic, user=UserFactory())
    client.force_login(patient.user)
    response = client.get(url(patient))
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:today")


def test_the_page_only_answers_get(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    assert dashboard.post(url(patient)).status_code == 405


# --- Header, plan and actions ----------------------------------------------------------------


def test_header_shows_the_patients_details_and_offers_a_portal_invite(dashboard, clinic):
    patient = PatientFactory(
        clinic=clinic,
        first_name="Maeve",
        last_name="O'Brien",
        date_of_birth=dt.date(1960, 3, 3),  # 66 tomorrow
        email="maeve@example.org",
        phone="+44 7700 900123",
        timezone="Europe/Dublin",
        external_id="MRN-4471",
    )
    html = dashboard.get(url(patient)).content.decode()
    assert "<h1>Maeve O&#x27;Brien</h1>" in html
    details = section(html, "details")
    assert "Knee osteoarthritis" in details
    assert "65 (born 3 Mar 1960)" in details
    assert "maeve@example.org" in details
    assert "+44 7700 900123" in details
    assert "Europe/Dublin" in details
    assert "MRN-4471" in details
    assert re.search(r"<dt>Portal account</dt><dd>No</dd>", details)
    assert f'action="{reverse("clinicians:patient_invite", args=[patient.pk])}"' in html
    assert reverse("clinicians:patient_edit", args=[patient.pk]) in html
    assert reverse("clinicians:screening_new", args=[patient.pk]) in html
    # No plan yet: the page offers one.
    assert reverse("clinicians:plan_assign", args=[patient.pk]) in html


@pytest.mark.parametrize(
    ("has_account", "email"), [(True, "a@example.org"), (False, "")], ids=["account", "no-email"]
)
def test_no_invite_without_an_email_or_with_an_account_already(
    dashboard, clinic, has_account, email
):
    patient = PatientFactory(
        clinic=clinic, email=email, user=UserFactory() if has_account else None
    )
    html = dashboard.get(url(patient)).content.decode()
    assert reverse("clinicians:patient_invite", args=[patient.pk]) not in html
    assert re.search(rf"<dt>Portal account</dt><dd>{'Yes' if has_account else 'No'}</dd>", html)


def test_open_plan_shows_level_capped_prescription_and_constraints(dashboard, clinic):
    plan = plan_for(clinic, answers={"feels_unsteady": True})  # fall risk: capped levels
    prescription = plan.current_prescription()
    assert prescription.caps  # the test needs a capped level to mean anything
    html = dashboard.get(url(plan.patient)).content.decode()
    summary = section(html, "plan")
    assert escape(plan.protocol_name) in summary
    name = plan.levels[0]["name"]
    assert name.startswith("Level 1: ")  # shown once, not "Level 1 of 11: Level 1: ..."
    assert f"Level 1 of {len(plan.levels)}: {escape(name.removeprefix('Level 1: '))}<" in summary
    assert escape(prescription.level.describe().capitalize()) in summary
    for cap in prescription.caps:
        assert escape(cap.capitalize()) in summary
    assert "Supervised sessions only" in summary
    assert "Off: advances and regressions wait" in summary
    assert reverse("clinicians:plan_manage", args=[plan.pk]) in summary
    assert reverse("clinicians:plan_assign", args=[plan.patient.pk]) not in html


# --- Safety and decisions ----------------------------------------------------------------------


def test_a_fall_pauses_the_plan_and_puts_a_safety_banner_first(dashboard, clinic):
    plan = plan_for(clinic, start=TODAY - dt.timedelta(days=3))
    log(plan, TODAY - dt.timedelta(days=1), fall=True, notes="Tripped on the mat")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    html = dashboard.get(url(plan.patient)).content.decode()
    banner = section(html, "safety")
    assert "Plan paused after a safety event" in banner
    pause = plan.decisions.get(outcome=ProgressionDecision.Outcome.PAUSE)
    assert "fall" in pause.reason_codes
    for reason in pause.reasons:  # the pause's own reasons, not the holds it also found
        assert (escape(reason["text"]) in banner) == (reason["outcome"] == "pause")
    assert html.index("Plan paused after a safety event") < html.index('id="details"')
    # The fall invalidated the screening: the banner says a new one comes first.
    assert reverse("clinicians:screening_new", args=[plan.patient.pk]) in banner
    sessions = section(html, "sessions")
    assert "Fall" in sessions
    assert "Tripped on the mat" in sessions


def test_a_plan_paused_by_the_clinician_is_not_called_a_safety_event(dashboard, clinic):
    plan = plan_for(clinic)
    services.plan_pause(plan=plan, actor=None, reason="Away on holiday")
    html = dashboard.get(url(plan.patient)).content.decode()
    assert "Plan paused after a safety event" not in html
    assert "Away on holiday" in section(html, "paused")


def pending_decision(clinic) -> ProgressionDecision:
    """A plan whose sessions earn an advance, waiting for approval."""
    plan = plan_for(clinic, start=TODAY - dt.timedelta(days=30))
    for days_ago in range(21, 0, -2):
        log(plan, TODAY - dt.timedelta(days=days_ago), pain_next_morning=2)
    decision = plan.decisions.get(status=ProgressionDecision.Status.PENDING)
    assert decision.outcome == ProgressionDecision.Outcome.ADVANCE
    return decision


def test_a_decision_awaiting_approval_shows_a_banner_and_both_buttons(dashboard, clinic):
    decision = pending_decision(clinic)
    levels = decision.plan.levels
    html = dashboard.get(url(decision.plan.patient)).content.decode()
    assert "A decision awaits your approval" in html
    assert html.index("A decision awaits your approval") < html.index('id="details"')
    decisions = section(html, "decisions")
    assert f"From {escape(levels[0]['name'])} to {escape(levels[1]['name'])}" in decisions
    assert "Awaiting approval" in decisions
    for reason in decision.reasons:
        assert escape(reason["text"]) in decisions
    assert reverse("clinicians:decision_approve", args=[decision.pk]) in decisions
    assert reverse("clinicians:decision_reject", args=[decision.pk]) in decisions
    assert f'<label for="reject-note-{decision.pk}">' in decisions


def test_decided_decisions_have_no_buttons_and_name_who_decided(dashboard, clinic, clinician):
    decision = pending_decision(clinic)
    services.decision_reject(decision=decision, actor=clinician.user, note="Wait for review")
    decisions = section(dashboard.get(url(decision.plan.patient)).content.decode(), "decisions")
    assert "Rejected" in decisions
    assert "Priya Patel" in decisions
    assert "Wait for review" in decisions
    assert reverse("clinicians:decision_approve", args=[decision.pk]) not in decisions


# --- Sessions and charts -------------------------------------------------------------------------


def test_sessions_timeline_lists_each_session_with_its_pains(dashboard, clinic):
    plan = plan_for(clinic, start=TODAY - dt.timedelta(days=10))
    log(
        plan, TODAY - dt.timedelta(days=4), pain_before=1, pain_worst=6, pain_after=4, speed_kmh=1.7
    )
    services.session_add_next_morning_pain(
        session=plan.sessions.get(), pain=5, actor=None, today=TODAY
    )
    log(plan, TODAY - dt.timedelta(days=2), near_fall=True, dizziness=True, notes="<b>wobbly</b>")
    sessions = section(dashboard.get(url(plan.patient)).content.decode(), "sessions")
    rows = re.findall(r"<tr>.*?</tr>", sessions, re.S)[1:]  # after the header
    assert len(rows) == 2
    newest, oldest = rows
    assert "Sat 28 Feb 2026" in newest
    assert "Near fall" in newest
    assert "Dizziness" in newest
    assert "&lt;b&gt;wobbly&lt;/b&gt;" in newest  # a patient's words are text, not markup
    assert "Thu 26 Feb 2026" in oldest
    cells = re.findall(r'<td class="num">(.*?)</td>', oldest, re.S)
    # minutes, speed, before, worst, after, next morning, effort
    assert cells == ["30", "1.7", "1", "6", "4", "5", "3"]
    assert escape(plan.levels[0]["name"]) in oldest
    assert "Treadmill, holding both handrails" in oldest


def test_charts_are_inline_svg_with_a_caption_and_the_data_in_words(dashboard, clinic):
    plan = plan_for(clinic, start=TODAY - dt.timedelta(days=10))
    log(plan, TODAY - dt.timedelta(days=5), pain_worst=5)
    log(plan, TODAY - dt.timedelta(days=3), pain_worst=2, speed_kmh=None)
    charts = section(dashboard.get(url(plan.patient)).content.decode(), "charts")
    figures = re.findall(r'<figure class="chart".*?</figure>', charts, re.S)
    assert [re.search(r"<figcaption[^>]*>(.*?)</figcaption>", f).group(1) for f in figures] == [
        "Pain (0-10)",
        "Minutes walked backwards",
        "Speed (km/h)",
    ]
    pain, minutes, speed = figures
    assert '<svg role="img"' in pain or ('role="img"' in pain and "<svg" in pain)
    assert "<script" not in pain
    assert "Worst during: from 5 to 2, lowest 2, highest 5." in pain
    assert '<details class="chart-data">' in pain
    assert "1 day without a value" in speed  # the session without a speed
    assert "Minutes: from 30 to 30" in minutes


def test_without_recent_sessions_the_page_says_so_instead_of_empty_charts(dashboard, clinic):
    plan = plan_for(clinic)
    charts = section(dashboard.get(url(plan.patient)).content.decode(), "charts")
    assert "<svg" not in charts
    assert "No sessions logged in the last 12 weeks." in charts


# --- Screenings, outcomes, reminders --------------------------------------------------------


def test_screenings_show_their_verdict_reasons_and_constraints(dashboard, clinic):
    plan = plan_for(clinic, answers={"beta_blockers": True})
    screenings = section(dashboard.get(url(plan.patient)).content.decode(), "screenings")
    assert "Cleared with modifications" in screenings
    assert escape(clinical_screening.REASON_TEXT["beta_blockers"]) in screenings
    assert "Effort guided by perceived exertion (RPE), not heart rate" in screenings
    assert "Yes, until 31 May 2026" in screenings


def test_outcomes_show_scores_and_the_change_against_baseline_in_words(dashboard, clinic):
    patient = PatientFactory(clinic=clinic)
    for days_ago, score in ((40, 8), (20, 6), (1, 3)):
        services.outcome_record(
            patient=patient,
            measure="nprs",
            answers={"score": score},
            actor=None,
            taken_on=TODAY - dt.timedelta(days=days_ago),
            today=TODAY,
        )
    services.outcome_record(
        patient=patient, measure="odi", answers={"total": 40}, actor=None, today=TODAY
    )
    outcomes = section(dashboard.get(url(patient)).content.decode(), "outcomes")
    nprs = outcomes.split("Oswestry")[0]
    assert "Numeric Pain Rating Scale" in nprs
    assert re.search(r"8 to 3 \(-5\):\s*<strong>a meaningful improvement</strong>", nprs)
    assert "meaningful change: 2 points or 30 %" in nprs
    assert re.findall(r'<th scope="row">(.*?)</th>', nprs) == [
        "1 Mar 2026",
        "10 Feb 2026",
        "21 Jan 2026",
    ]
    odi = outcomes.split("Oswestry")[1]
    assert "One score so far" in odi


def test_reminders_show_their_delivery_results(dashboard, clinic):
    plan = plan_for(clinic)
    Reminder.objects.create(
        patient=plan.patient,
        plan=plan,
        due_date=TODAY,
        channel="sms",
        scheduled_for=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
        status=Reminder.Status.FAILED,
        detail="SMS gateway answered 503",
    )
    Reminder.objects.create(
        patient=plan.patient,
        plan=plan,
        due_date=TODAY - dt.timedelta(days=2),
        channel="email",
        scheduled_for=dt.datetime(2026, 2, 28, 9, tzinfo=dt.UTC),
        status=Reminder.Status.SENT,
        sent_at=dt.datetime(2026, 2, 28, 9, 0, 4, tzinfo=dt.UTC),
    )
    reminders = section(dashboard.get(url(plan.patient)).content.decode(), "reminders")
    failed, sent = re.findall(r"<tr>.*?</tr>", reminders, re.S)[1:]
    assert "2 Mar 2026" in failed
    assert "<td>SMS</td>" in failed
    assert "Failed" in failed
    assert "SMS gateway answered 503" in failed
    assert "<td>E-mail</td>" in sent
    assert "Sent" in sent
    assert "28 Feb 2026 09:00" in sent  # the clinic's time (London, GMT in February)


# --- Audit ---------------------------------------------------------------------------------------


def test_opening_the_page_records_the_view_and_the_trails_read_and_shows_them(
    dashboard, clinic, clinician
):
    patient = PatientFactory(clinic=clinic)
    before = AuditEvent.objects.count()
    html = dashboard.get(url(patient), REMOTE_ADDR="203.0.113.7").content.decode()
    assert AuditEvent.objects.count() == before + 3
    view, trail_read, notes_read = AuditEvent.objects.order_by("id")[before:]
    for event, action in (
        (view, "patient.view"),
        (trail_read, "audit.read"),
        (notes_read, "note.read"),  # the page shows the clinical notes
    ):
        assert (event.action, event.patient, event.actor, event.clinic) == (
            action,
            patient,
            clinician.user,
            clinic,
        )
        assert event.ip_address == "203.0.113.7"
    assert trail_read.detail == notes_read.detail == {"via": "dashboard"}
    trail = section(html, "audit")
    assert clinician.user.username in trail
    assert "Opened the patient page" in trail
    assert "Read the record&#x27;s audit trail" in trail
    assert "203.0.113.7" in trail


def test_the_trail_says_every_action_in_words_even_the_systems(dashboard, clinic):
    # A reminder's send was shown as its stored code ("reminder.sent"); every action has words.
    patient = PatientFactory(clinic=clinic)
    audit_record(actor=None, action=AuditAction.REMINDER_SENT, patient=patient)
    trail = section(dashboard.get(url(patient)).content.decode(), "audit")
    assert "Sent a reminder" in trail
    assert "reminder.sent" not in trail


def test_the_trail_shows_only_this_patients_events(dashboard, clinic):
    patient, other = PatientFactory(clinic=clinic), PatientFactory(clinic=clinic)
    services.patient_update(patient=other, actor=None, phone="123")
    trail = section(dashboard.get(url(patient)).content.decode(), "audit")
    assert "Changed the patient" not in trail
    # The header, this visit, its trail read and its notes read.
    assert len(re.findall(r"<tr>", trail)) == 4


def test_the_trail_shows_the_lists_the_patient_was_seen_in_and_not_the_others(
    dashboard, clinic, clinician
):
    """A list read is one event naming every patient shown: each of them finds it in their own
    trail (AuditListing), a patient left off the list does not, and the trail keeps its
    newest-first order across events naming the patient and list reads."""
    patient, also, left_off = (PatientFactory(clinic=clinic) for _ in range(3))
    audit_record(actor=None, action=AuditAction.REMINDER_SENT, patient=patient)
    audit_reads(
        actor=clinician.user,
        action=AuditAction.PATIENT_LIST,
        patients=[patient, also],
        clinic=clinic,
    )
    trail = section(dashboard.get(url(patient)).content.decode(), "audit")
    assert trail.index("Saw the patient in a list") < trail.index("Sent a reminder")
    assert "Saw the patient in a list" in section(
        dashboard.get(url(also)).content.decode(), "audit"
    )
    assert "Saw the patient in a list" not in section(
        dashboard.get(url(left_off)).content.decode(), "audit"
    )


def test_the_trail_shows_the_latest_events_of_both_kinds_capped(clinic, clinician):
    patient = PatientFactory(clinic=clinic)
    other = PatientFactory(clinic=clinic)
    cap = selectors.PATIENT_PAGE_AUDIT_EVENTS
    for _ in range(cap):
        audit_record(actor=None, action=AuditAction.REMINDER_SENT, patient=patient)
        audit_reads(
            actor=None, action=AuditAction.PATIENT_LIST, patients=[patient, other], clinic=clinic
        )
    page = selectors.patient_page(principal=principal_for_user(clinician.user), patient=patient)
    shown = [row.event.pk for row in page.audit_events]
    newest = AuditEvent.objects.filter(clinic=clinic).order_by("-at", "-id")[:cap]
    assert shown == [event.pk for event in newest]
    assert {row.event.action for row in page.audit_events} == {"reminder.sent", "patient.list"}


# --- Query count ---------------------------------------------------------------------------------


def busy_patient(clinic):
    """60 sessions, several decisions (pending, rejected, noted), outcomes, reminders, reports."""
    plan = plan_for(clinic, start=TODAY - dt.timedelta(days=70))
    for days_ago in range(60, 0, -1):
        log(plan, TODAY - dt.timedelta(days=days_ago), pain_worst=3 + days_ago % 3)
        pending = plan.decisions.filter(status="pending").first()
        if pending is not None and days_ago % 10 == 0:
            services.decision_reject(decision=pending, actor=None)
    for days_ago, score in ((60, 7), (30, 5), (2, 3)):
        services.outcome_record(
            patient=plan.patient,
            measure="nprs",
            answers={"score": score},
            actor=None,
            taken_on=TODAY - dt.timedelta(days=days_ago),
            today=TODAY,
        )
    services.outcome_record(
        patient=plan.patient, measure="odi", answers={"total": 30}, actor=None, today=TODAY
    )
    for days_ago in range(25):
        Reminder.objects.create(
            patient=plan.patient,
            plan=plan,
            due_date=TODAY - dt.timedelta(days=days_ago),
            channel="email",
            scheduled_for=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
            status=Reminder.Status.SENT,
        )
    for _ in range(3):
        services.report_request(patient=plan.patient, audience="clinician", actor=None)
    # Several decisions: the holds whose reasons changed (an unchanged one is not stored again).
    assert plan.decisions.count() >= 4
    return plan.patient


def few_sessions_patient(clinic):
    plan = plan_for(clinic, start=TODAY - dt.timedelta(days=10))
    for days_ago in (5, 3, 1):
        log(plan, TODAY - dt.timedelta(days=days_ago))
    return plan.patient


PAGE_QUERIES = 15  # session, user, clinician + clinic, patient, the view's audit rows (the visit,
# the trail's read and the notes' read, one insert), and one capped query per section: plans,
# sessions, decisions, screenings (with their referral's acted-on record), referrals not acted on
# (the banners), outcomes, reminders, reports, clinical notes, audit trail.


def test_the_page_costs_the_same_queries_for_3_or_60_sessions(dashboard, clinic):
    few, busy = few_sessions_patient(clinic), busy_patient(clinic)
    dashboard.get(url(few))  # the session's first request refreshes its expiry: not counted
    counts = {}
    for name, patient in (("few", few), ("busy", busy)):
        with CaptureQueriesContext(connection) as queries:
            response = dashboard.get(url(patient))
        assert response.status_code == 200
        counts[name] = len(queries)
    assert counts == {"few": PAGE_QUERIES, "busy": PAGE_QUERIES}
    html = response.content.decode()
    assert len(re.findall(r"<tr>", section(html, "sessions"))) == 1 + 30  # capped
    assert len(re.findall(r"<tr>", section(html, "reminders"))) == 1 + 20
