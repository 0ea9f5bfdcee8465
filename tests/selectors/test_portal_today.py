"""The portal's Today selectors (rehab.selectors.portal_today): the patient's own plan and
sessions, never anyone else's."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.models import Plan, SessionLog
from tests.factories import builtin_protocol, clean_answers, good_session

pytestmark = pytest.mark.django_db


def test_the_plan_is_the_patients_own(clinics):
    assert selectors.portal_plan(clinics.patient) == clinics.ours


def test_the_open_plan_comes_before_a_later_ended_one(clinics):
    ours = clinics.ours
    services.plan_complete(plan=ours, actor=None)
    patient = ours.patient
    today = patient.local_today()
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=today
    )
    second = services.plan_assign(
        patient=patient, protocol=builtin_protocol(patient.condition), actor=None, today=today
    )
    services.plan_pause(plan=second, actor=None, reason="Away")
    # Were the ended plan the newer one, the open one would still lead.
    Plan.objects.filter(pk=ours.pk).update(created_at=second.created_at + dt.timedelta(hours=1))
    assert selectors.portal_plan(clinics.patient) == second
    services.plan_discontinue(plan=second, actor=None, reason="Moved away")
    # With none open, the latest made.
    assert selectors.portal_plan(clinics.patient) == ours


def test_recent_sessions_are_todays_and_the_latest_awaiting_its_next_morning(
    clinics, django_assert_num_queries
):
    plan = clinics.ours
    today = plan.patient.local_today()
    for back in (2, 1, 0):
        services.session_log(
            plan=plan,
            actor=None,
            date=today - dt.timedelta(days=back),
            today=today,
            **good_session(),
        )
    with django_assert_num_queries(1):
        recent = selectors.portal_recent_sessions(clinics.patient, plan=plan, today=today)
    assert recent.logged_today.date == today
    assert recent.awaiting_next_morning.date == today - dt.timedelta(days=1)
    # Another patient's plan shows nothing, whatever the door passes in.
    other = selectors.portal_recent_sessions(clinics.patient, plan=clinics.neighbour, today=today)
    assert (other.logged_today, other.awaiting_next_morning) == (None, None)


def test_another_patients_session_is_not_found(clinics):
    theirs = clinics.neighbour.sessions.get()
    with pytest.raises(SessionLog.DoesNotExist):
        selectors.portal_session(clinics.patient, session_id=theirs.pk)
    own = clinics.ours.sessions.get()
    assert selectors.portal_session(clinics.patient, session_id=own.pk) == own


def test_a_session_is_read_with_the_decision_its_evaluation_recorded(clinics):
    session = clinics.ours.sessions.get()
    found = selectors.portal_session(clinics.patient, session_id=session.pk)
    assert found.decision is not None
    assert (found.decision.plan_id, found.decision.trigger) == (clinics.ours.pk, "session")
