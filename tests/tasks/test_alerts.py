"""Clinician alerts: at once when a plan pauses, and one daily digest of what needs attention."""

import datetime as dt

import pytest
from django.core import mail
from freezegun import freeze_time

from rehab import services, tasks
from rehab.models import Alert
from tests.factories import TODAY, ClinicianFactory, active_plan, good_session

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def team(db):
    lead = ClinicianFactory(is_clinic_admin=True)
    assigning = ClinicianFactory(clinic=lead.clinic)
    bystander = ClinicianFactory(clinic=lead.clinic)
    return lead, assigning, bystander


def plan_of(clinician):
    plan = active_plan(actor=clinician.user)
    plan.patient.clinic = clinician.clinic
    plan.patient.save()
    plan.clinic = clinician.clinic
    plan.save()
    return plan


def test_a_fall_alerts_the_assigning_clinician_and_the_admins_once(
    team, django_capture_on_commit_callbacks
):
    lead, assigning, bystander = team
    plan = plan_of(assigning)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_log(
            plan=plan, actor=None, date=TODAY, today=TODAY, **good_session(fall=True)
        )
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([lead.user.email, assigning.user.email])
    assert bystander.user.email not in recipients
    assert "fall" in mail.outbox[0].body.lower()
    assert plan.patient.full_name not in mail.outbox[0].subject  # lock screens show subjects
    assert plan.patient.full_name in mail.outbox[0].body
    # A redelivered task sends nothing more.
    decision = plan.decisions.get(outcome="pause")
    assert tasks.alert_pause.delay(decision.pk).get() == 0
    assert len(mail.outbox) == 2
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}


def test_a_deactivated_administrator_gets_no_pause_alert(team, django_capture_on_commit_callbacks):
    lead, assigning, _ = team
    lead.user.is_active = False
    lead.user.save()
    plan = plan_of(assigning)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_log(
            plan=plan, actor=None, date=TODAY, today=TODAY, **good_session(fall=True)
        )
    assert [m.to[0] for m in mail.outbox] == [assigning.user.email]


def test_no_alert_for_a_plain_hold(team, django_capture_on_commit_callbacks):
    plan = plan_of(team[1])
    with django_capture_on_commit_callbacks(execute=True):
        services.session_log(plan=plan, actor=None, date=TODAY, today=TODAY, **good_session())
    assert mail.outbox == []


def test_the_digest_lists_pending_decisions_non_adherence_expiry_and_unsettled_pain(team):
    lead, assigning, _ = team
    plan = plan_of(assigning)
    plan.auto_apply = False
    plan.save()
    # Days 0 and 2 logged with next-morning pain above the pain before: not settled.
    for n in (0, 2):
        day = TODAY + dt.timedelta(days=n)
        services.session_log(
            plan=plan,
            actor=None,
            date=day,
            today=day + dt.timedelta(days=1),
            **good_session(pain_before=1, pain_next_morning=3),
        )
    quiet = plan_of(assigning)  # no sessions at all: non-adherent
    now = dt.datetime.combine(TODAY + dt.timedelta(days=6), dt.time(7, 10), tzinfo=UTC)
    assert services.digest_send(clinician=lead, now=now) == "sent"
    body = mail.outbox[0].body
    assert quiet.patient.full_name in body
    assert "0 of 3" in body
    assert "Next-morning pain not settled" in body
    assert "3/10 next morning" in body
    # Screenings made on TODAY expire 90 days later: not within two weeks yet.
    assert "Screenings expiring" not in body
    assert services.digest_send(clinician=lead, now=now) == "not_claimed"
    assert len(mail.outbox) == 1


def test_the_digest_counts_adherence_by_the_one_rule(team):
    lead, assigning, _ = team
    walked_friday = plan_of(assigning)  # Monday, Wednesday and Friday from Monday 2 March
    day = TODAY + dt.timedelta(days=4)
    services.session_log(plan=walked_friday, actor=None, date=day, today=day, **good_session())
    rest_days_only = plan_of(assigning)
    for n in (5, 6):  # Saturday and Sunday: done, but not planned sessions
        day = TODAY + dt.timedelta(days=n)
        services.session_log(plan=rest_days_only, actor=None, date=day, today=day, **good_session())
    # Monday 9 March, 7:10: today's walk is not missed yet. Wednesday missed, Friday walked is
    # 1 of 2, not under half (before the one rule: "1 of 3", listed). Two weekend walks make up
    # for neither missed day: 0 of 2.
    now = dt.datetime.combine(TODAY + dt.timedelta(days=7), dt.time(7, 10), tzinfo=UTC)
    assert services.digest_send(clinician=lead, now=now) == "sent"
    body = mail.outbox[0].body
    assert walked_friday.patient.full_name not in body
    assert f"{rest_days_only.patient.full_name}: 0 of 2" in body


def test_an_empty_digest_is_skipped_and_says_why(team):
    assert (
        services.digest_send(clinician=team[0], now=dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
        == "skipped"
    )
    assert Alert.objects.get().detail == "Nothing needs attention today."
    assert mail.outbox == []


def test_expiring_screenings_are_in_the_digest(team):
    lead, assigning, _ = team
    plan_of(assigning)
    now = dt.datetime.combine(TODAY + dt.timedelta(days=80), dt.time(7, 0), tzinfo=UTC)
    services.digest_send(clinician=lead, now=now)
    assert "Screenings expiring within two weeks" in mail.outbox[0].body


def test_the_hourly_job_sends_each_clinic_its_digest_at_its_local_morning(team):
    lead, assigning, _ = team
    plan_of(assigning)  # something to report: a plan with no sessions yet
    lead.clinic.timezone = "America/New_York"
    lead.clinic.save()
    with freeze_time(dt.datetime(2026, 3, 10, 7, 5, tzinfo=UTC)):  # 03:05 in New York
        assert tasks.digests_dispatch.delay().get() == 0
    with freeze_time(dt.datetime(2026, 3, 10, 11, 5, tzinfo=UTC)):  # 07:05 EDT
        assert tasks.digests_dispatch.delay().get() >= 1
        assert tasks.digests_dispatch.delay().get() == 0
