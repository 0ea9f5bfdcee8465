"""What a rendered report says about a real plan: the worker gathers it (services.report_render)
and the PDF is read back with pypdf, as a clinician filing it would read it."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from freezegun import freeze_time
from pypdf import PdfReader

from rehab import services
from rehab.clinical import levels as L
from rehab.models import Plan, ProgressionDecision, Report
from tests.factories import TODAY, ClinicianFactory, active_plan, good_session

pytestmark = pytest.mark.django_db
LATER = TODAY + dt.timedelta(days=14)  # a Monday two weeks into the plan
RENDER_QUERIES = 10


def render(patient, audience: str = "clinician", **period) -> str:
    report = request(patient, audience, **period)
    with freeze_time(f"{LATER.isoformat()} 12:00"):
        assert services.report_render(report_id=report.pk) == Report.Status.READY
    report.refresh_from_db()
    reader = PdfReader(io.BytesIO(services.report_path(report).read_bytes()))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def request(patient, audience: str = "clinician", **period) -> Report:
    with freeze_time(f"{LATER.isoformat()} 12:00"):
        return services.report_request(patient=patient, audience=audience, actor=None, **period)


def week_rows(text: str) -> list[str]:
    """The "Week of" labels of the calendar grid ("2 Mar", "9 Mar")."""
    grid = text.split("Week of Mon Tue Wed Thu Fri Sat Sun", 1)[1].split("Legend:", 1)[0]
    return re.findall(r"(?:^| )(\d{1,2} [A-Z][a-z]{2}) \d", grid)


def test_the_period_starts_at_the_plans_start_without_weeks_of_rest_before_it():
    plan = active_plan()  # started on TODAY; the default period reaches 12 weeks back
    text = render(plan.patient)
    assert "Period 2 Mar 2026 to 16 Mar 2026" in text
    assert week_rows(text) == ["2 Mar", "9 Mar", "16 Mar"]
    assert "Dec" not in " ".join(week_rows(text))


def test_the_default_period_is_the_plans_so_the_report_lists_say_what_the_pdf_covers():
    plan = active_plan()
    report = request(plan.patient)
    assert (report.period_start, report.period_end) == (TODAY, LATER)
    # Asked for explicitly, an earlier start is kept; the PDF still starts at the plan's start.
    report = request(plan.patient, period_start=TODAY - dt.timedelta(weeks=4))
    assert report.period_start == TODAY - dt.timedelta(weeks=4)
    text = render(plan.patient, period_start=TODAY - dt.timedelta(weeks=4))
    assert "Period 2 Mar 2026 to 16 Mar 2026" in text


def test_days_after_the_plan_ended_are_blank_and_not_missed():
    plan = active_plan()
    with freeze_time("2026-03-09 18:00"):  # the plan ends on its second Monday
        services.plan_discontinue(plan=plan, actor=None, reason="Moved away")
    text = render(plan.patient)
    # Mon 2, Wed 4, Fri 6 and Mon 9 were planned; the days after the 9th were not the plan's.
    assert "0 of 4 planned sessions done, 4 missed" in text
    assert re.search(r"16 Mar (?!\d+ (Missed|Rest|Done))", text)


def test_adherence_is_the_one_rule_paused_days_and_an_unlogged_today_are_not_missed():
    plan = active_plan()  # Monday, Wednesday and Friday from Mon 2 Mar; rendered Mon 16 Mar
    assert sorted(plan.schedule_days) == [0, 2, 4]

    def walk(day: int) -> None:
        on = TODAY + dt.timedelta(days=day)
        with freeze_time(f"{on.isoformat()} 18:00"):
            services.session_log(plan=plan, actor=None, date=on, today=on, **good_session())

    walk(0)
    walk(1)  # a Tuesday: done, but not a planned session
    walk(2)
    services.plan_pause(plan=plan, actor=None, today=TODAY + dt.timedelta(days=3))
    services.plan_resume(plan=plan, actor=None, today=TODAY + dt.timedelta(days=7))
    walk(9)
    text = render(plan.patient)
    # Done: Mon 2, Wed 4, Wed 11. Missed: Mon 9, Fri 13. Fri 6 was paused; today (Mon 16) is
    # not over. Before the one rule: "4 of 8 planned sessions done, 4 missed".
    assert "3 of 5 planned sessions done, 2 missed" in text
    assert "Sessions on rest days, not counted: 1." in text
    assert "6 Paused" in text
    assert "16 To come" in text
    patient_text = render(plan.patient, "patient")
    assert "You did 3 of 5 planned sessions (60 %)." in patient_text
    assert "You also walked on 1 rest day." in patient_text


def test_level_change_reasons_are_the_pages_words_never_codes():
    plan = active_plan()
    stored = {
        "code": "criteria_met",
        "text": "All 3 sessions in the window stayed at or below 5/10 worst pain.",
        "outcome": "advance",
    }
    ProgressionDecision.objects.create(
        plan=plan,
        evaluated_on=TODAY + dt.timedelta(days=7),
        trigger=ProgressionDecision.Trigger.SESSION,
        outcome="advance",
        from_level=0,
        to_level=1,
        reasons=[stored],
        status=ProgressionDecision.Status.APPLIED,
        applied_on=TODAY + dt.timedelta(days=7),
    )
    clinician = render(plan.patient)
    assert "All 3 sessions in the window stayed at or below 5/10 worst pain." in clinician
    patient = render(plan.patient, audience="patient")
    assert "Because your pain stayed low and you managed the sessions." in patient
    for text in (clinician, patient):
        assert "criteria_met" not in text
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text)


def test_the_header_identifies_the_patient_by_record_number_and_birth_date():
    plan = active_plan()
    plan.patient.external_id = "RW-0042"
    plan.patient.date_of_birth = dt.date(1951, 5, 4)
    plan.patient.save()
    text = render(plan.patient)
    assert f"{plan.patient.full_name} · Record no. RW-0042 · Born 4 May 1951" in text


def test_references_are_the_protocols_only_each_with_its_claim():
    plan = active_plan()
    text = render(plan.patient)
    references = text.split("References", 1)[1]
    assert (
        "Alghadir AH et al. 2019, BMC Musculoskelet Disord 20:159. Supports: In knee "
        "osteoarthritis, 10 min of supervised backward walking" in references
    )
    assert "Roos 2012" not in references  # a patellofemoral protocol's reference
    assert "Ozden 2024" not in references  # a knee arthroplasty protocol's


def test_the_clinician_is_the_person_who_assigned_the_plan():
    clinician = ClinicianFactory(user__first_name="Sam", user__last_name="Okafor")
    plan = active_plan(actor=clinician.user)
    assert "Clinician Sam Okafor" in render(plan.patient)


def test_a_plan_assigned_through_an_api_key_names_the_clinic_system():
    plan = active_plan()
    key, _ = services.api_key_create(clinic=plan.clinic, name="EHR bridge", actor=None)
    Plan.objects.filter(pk=plan.pk).delete()
    plan = services.plan_assign(
        patient=plan.patient,
        protocol=plan.protocol,
        actor=key,
        start_date=TODAY,
        today=TODAY,
    )
    assert plan.assigned_by is None
    assert "Clinician Assigned by EHR bridge (the clinic's system)" in render(plan.patient)


def test_a_plan_assigned_by_the_system_says_so(settings):
    settings.SYSTEM_NAME = "Retrowalk"
    plan = active_plan()  # no actor: the seeding command's way
    assert "Clinician Assigned by Retrowalk" in render(plan.patient)


def test_next_morning_pain_and_effort_of_logged_sessions_are_charted():
    plan = active_plan()
    with freeze_time(f"{TODAY.isoformat()} 18:00"):
        log = services.session_log(
            plan=plan,
            actor=None,
            date=TODAY,
            minutes_done=10,
            pain_before=2,
            pain_worst=3,
            pain_after=2,
            effort=6,
            setting=L.TREADMILL_BOTH_HANDRAILS,
            speed_kmh=1.5,
        )
    with freeze_time(f"{(TODAY + dt.timedelta(days=1)).isoformat()} 08:00"):
        services.session_add_next_morning_pain(session=log, actor=None, pain=4)
    text = render(plan.patient)
    assert "Next morning: one value, 4." in text
    assert "Effort (Borg CR10): one value, 6." in text


def test_levels_capped_by_the_screening_are_named_as_prescribed():
    plan = active_plan(feels_unsteady=True)  # fall-risk constraints: at most 1.5 km/h
    services.plan_set_level(
        plan=plan, level=1, actor=None, reason="Steady on the rails.", today=TODAY
    )
    text = render(plan.patient)
    assert "Current level: Level 2: 10 min at 1.5 km/h, both rails" in text
    assert "Level 1: 10 min at 1.5 km/h, both rails to Level 2: 10 min at 1.5 km/h" in text
    assert "2.0 km/h" not in text


def _render_queries(plan) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with freeze_time(f"{LATER.isoformat()} 12:00"):
        report = services.report_request(patient=plan.patient, audience="clinician", actor=None)
        with CaptureQueriesContext(connection) as queries:
            assert services.report_render(report_id=report.pk) == Report.Status.READY
    return len(queries)


def test_rendering_costs_the_same_queries_for_few_or_many_sessions():
    few, many = active_plan(), active_plan()
    for plan, days in ((few, 2), (many, 12)):
        for n in range(days):
            services.session_log(
                plan=plan,
                actor=None,
                date=TODAY + dt.timedelta(days=n),
                today=TODAY + dt.timedelta(days=n),
                minutes_done=10,
                pain_before=2,
                pain_worst=3,
                pain_after=2,
                effort=3,
                setting=L.TREADMILL_BOTH_HANDRAILS,
                speed_kmh=1.5,
            )
    # claim, the report with its patient, clinic, plan and protocol, the sessions, the level
    # changes, the outcome measures, who assigned the plan (its assignment's audit event, no
    # clinician being recorded), the period's clinical notes (the clinician's version), the ready
    # update, the render's audit insert
    assert _render_queries(few) == _render_queries(many) == RENDER_QUERIES
