"""The portal's My progress page: charts with text alternatives, the walking calendar, the level
history in plain words, only the patient's own data, and a query count that does not grow with
the number of sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.models import AuditEvent, Plan
from tests.factories import (
    TODAY,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

pytestmark = pytest.mark.django_db
URL = "/portal/progress/"
MON, WED, FRI = 0, 2, 4


def plan_from(start: dt.date, *, auto_apply: bool = False, **patient_kw) -> Plan:
    """A patient with a portal account, screened and on the built-in knee protocol from
    `start` (walking Monday, Wednesday and Friday)."""
    patient = PatientFactory(user=UserFactory(), **patient_kw)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=start
    )
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=start,
        schedule_days=[MON, WED, FRI],
        auto_apply=auto_apply,
        today=start,
    )


def walk(plan: Plan, day: dt.date, **overrides):
    """A good session, logged the next morning with its next-morning pain."""
    values = {"pain_next_morning": 2, **good_session(), **overrides}
    return services.session_log(
        plan=plan, actor=None, date=day, today=day + dt.timedelta(days=1), **values
    )


def signed_in(client, plan: Plan):
    client.force_login(plan.patient.user)
    return client


def test_the_url_name_is_the_portals():
    assert reverse("patients:progress") == URL


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("patients:login"))


def test_a_patient_without_a_plan_is_told_so_calmly(client):
    patient = PatientFactory(user=UserFactory())
    client.force_login(patient.user)
    response = client.get(URL)
    assert response.status_code == 200
    assert "You do not have a walking plan yet" in response.content.decode()


def test_charts_are_scalable_svgs_with_text_alternatives(client):
    plan = plan_from(TODAY)
    walk(plan, TODAY, pain_before=1, pain_worst=4, pain_after=3, minutes_done=12)
    walk(plan, TODAY + dt.timedelta(days=2), pain_before=2, pain_worst=5, pain_after=2)
    with freeze_time("2026-03-05 12:00"):
        html = signed_in(client, plan).get(URL).content.decode()

    assert html.count('<figure class="chart">') == 3
    assert html.count('role="img"') == 3
    assert 'viewBox="0 0 300 240"' in html
    # Labels drawn at 13 units in a 300-unit drawing: at least 12 px on a 360 px phone.
    assert 'font-size="13px"' in html
    for title in ("Pain (0-10)", "Minutes walked backwards", "Speed (km/h)"):
        assert f"<figcaption>{title}</figcaption>" in html
    # The visible sentence says what the chart shows, values included.
    assert "Pain (0-10) from 2 Mar to 4 Mar 2026." in html
    assert "Worst during: from 4 to 5, lowest 4, highest 5." in html
    # And the numbers themselves are there as a table.
    assert "<summary>Show the numbers behind the charts</summary>" in html
    assert '<th scope="row">2 Mar 2026</th>' in html


def test_the_calendar_marks_walked_missed_rest_and_planned_days(client):
    plan = plan_from(TODAY)  # Monday 2 March
    for day in (2, 4, 7, 9):  # Mon, Wed, Sat (not planned), Mon
        walk(plan, dt.date(2026, 3, day))
    with freeze_time("2026-03-13 12:00"):  # Friday, not walked yet today
        response = signed_in(client, plan).get(URL)
    calendar = response.context["calendar"]
    states = {d.day: d.state for week in calendar.weeks for d in week}

    assert calendar.first == dt.date(2026, 2, 16)  # Monday, three weeks before this one
    assert [d.day.weekday() for d in calendar.weeks[0]] == list(range(7))
    assert states[dt.date(2026, 2, 27)] == "outside"  # before the plan started
    assert states[dt.date(2026, 3, 2)] == "done"
    assert states[dt.date(2026, 3, 3)] == "rest"
    assert states[dt.date(2026, 3, 6)] == "missed"
    assert states[dt.date(2026, 3, 7)] == "done"  # a walk on a rest day is done...
    assert states[dt.date(2026, 3, 11)] == "missed"
    assert states[dt.date(2026, 3, 13)] == "planned"  # today: still time to walk
    assert states[dt.date(2026, 3, 15)] == "rest"
    # ...but not a planned session: it makes up for neither missed day (before the one rule the
    # page said "4 of 5" beside two missed days).
    assert (calendar.done, calendar.planned, calendar.extra) == (3, 5, 1)
    html = response.content.decode()
    assert "You walked 3 of 5 planned sessions in the last 4 weeks." in html
    assert "You also walked on 1 rest day." in html
    assert '<th scope="col"><abbr title="Monday">Mon</abbr></th>' in html
    assert ">Your walking days from 16 February to 15 March 2026</caption>" in html
    assert 'aria-current="date"' in html
    # Text, not colour alone: each day has a mark and a word.
    assert '<span class="visually-hidden">missed</span>' in html
    assert '<span class="visually-hidden">walked</span>' in html


def test_a_paused_plan_does_not_count_its_days_as_missed(client):
    plan = plan_from(TODAY)
    walk(plan, TODAY)
    with freeze_time("2026-03-03 09:00"):
        services.plan_pause(plan=plan, actor=None, reason="Away on holiday.")
    with freeze_time("2026-03-09 12:00"):
        response = signed_in(client, plan).get(URL)
    states = {d.day: d.state for week in response.context["calendar"].weeks for d in week}
    assert states[dt.date(2026, 3, 4)] == "paused"
    assert states[dt.date(2026, 3, 6)] == "paused"
    assert response.context["calendar"].planned == 1
    assert "3 March 2026</time>: your physiotherapist paused your plan." in (
        response.content.decode()
    )


def test_an_advance_is_explained_in_plain_words(client):
    plan = plan_from(TODAY, auto_apply=True)
    for day in (2, 4, 6, 9):
        walk(plan, dt.date(2026, 3, day))
    plan.refresh_from_db()
    assert plan.current_level == 1  # the rules moved the plan up on 10 March
    level_two = plan.levels[1]["name"].split(": ", 1)[1]

    with freeze_time("2026-03-11 12:00"):
        html = signed_in(client, plan).get(URL).content.decode()

    assert (
        '<time datetime="2026-03-10">10 March 2026</time>: moved up to level 2 '
        f"({level_two}) because your pain stayed low and you managed the sessions."
    ) in html
    assert "you started your plan at level 1" in html
    assert "criteria_met" not in html  # never a code


def test_a_pause_after_a_fall_is_explained_without_jargon(client):
    plan = plan_from(TODAY)
    walk(plan, TODAY, fall=True)
    with freeze_time("2026-03-03 12:00"):
        html = signed_in(client, plan).get(URL).content.decode()
    assert "your plan was paused because you told us about a fall." in html
    assert "your plan is paused for now" in html


def test_a_clinicians_level_change_is_told_with_their_note(client):
    plan = plan_from(TODAY)
    services.plan_set_level(
        plan=plan, level=2, actor=None, reason="Walking well in clinic.", today=TODAY
    )
    with freeze_time("2026-03-03 12:00"):
        html = signed_in(client, plan).get(URL).content.decode()
    assert "your physiotherapist moved you up to level 3" in html
    assert "Their note: “Walking well in clinic.”" in html


def test_a_level_capped_by_the_health_check_is_told_as_prescribed(client):
    patient = PatientFactory(user=UserFactory())
    services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, feels_unsteady=True),  # at most 1.5 km/h
        actor=None,
        today=TODAY,
    )
    plan = services.plan_assign(
        patient=patient, protocol=builtin_protocol(patient.condition), actor=None, today=TODAY
    )
    services.plan_set_level(plan=plan, level=1, actor=None, reason="Steady on the rails.")
    with freeze_time("2026-03-03 12:00"):
        html = signed_in(client, plan).get(URL).content.decode()
    assert "moved you up to level 2 (10 min at 1.5 km/h, both rails)" in html
    assert "2.0 km/h" not in html


def test_the_page_shows_only_the_patients_own_plan(client):
    mine = plan_from(TODAY)
    walk(mine, TODAY, minutes_done=12)
    other = plan_from(TODAY)
    walk(other, TODAY, minutes_done=17)
    with freeze_time("2026-03-03 12:00"):
        response = signed_in(client, mine).get(URL)
    assert response.context["plan"] == mine
    assert [p.minutes for p in response.context["points"]] == [12]
    assert "Minutes: one value, 12." in response.content.decode()


def test_the_visit_is_audited(client):
    plan = plan_from(TODAY)
    with freeze_time("2026-03-03 12:00"):
        signed_in(client, plan).get(URL)
    event = AuditEvent.objects.filter(action="plan.read", patient=plan.patient).get()
    assert event.actor == plan.patient.user
    assert event.object_id == str(plan.pk)


def test_a_clinician_is_sent_to_the_dashboard(client, clinician):
    client.force_login(clinician.user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("clinicians:today")


def _count_queries(client, plan) -> int:
    with freeze_time("2026-04-20 12:00"):
        signed_in(client, plan).get(URL)  # the session's first request refreshes its expiry
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
    assert response.status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_sessions(client):
    few = plan_from(dt.date(2026, 3, 2))
    for n in range(3):
        walk(few, dt.date(2026, 3, 2) + dt.timedelta(days=n))
    many = plan_from(dt.date(2026, 2, 2))
    for n in range(40):
        walk(many, dt.date(2026, 2, 2) + dt.timedelta(days=n))
    for day, score in ((dt.date(2026, 2, 2), 5), (dt.date(2026, 3, 16), 2)):
        services.outcome_record(
            patient=many.patient, measure="nprs", answers={"score": score}, actor=None, today=day
        )
    principal = principal_for_user(many.patient.user)
    shown = selectors.portal_progress_sessions(
        principal, plan=many, since=dt.date(2026, 1, 26), today=dt.date(2026, 4, 20)
    )
    assert len(shown) == 40

    # session + user, principal (clinician, patient), plan, protocol, sessions, decisions,
    # plan audit events, outcome scores, questionnaire drafts (KOOS is due), the audit write
    assert _count_queries(client, few) == 12
    client.logout()
    assert _count_queries(client, many) == 12
