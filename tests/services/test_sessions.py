import datetime as dt

import pytest

from rehab import services
from rehab.clinical import levels as L
from rehab.errors import RehabError
from rehab.models import AuditEvent, Plan, ProgressionDecision, Screening, SessionLog
from tests.factories import TODAY, ClinicianFactory, UserFactory, good_session
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def log(plan, actor, on, today=None, **overrides):
    return services.session_log(
        plan=plan, actor=actor, date=on, today=today or on, **good_session(**overrides)
    )


def test_a_session_is_logged_at_the_current_level_with_an_audit_event(plan, actor):
    session = log(plan, actor, day(0))
    assert session.level_index == 0
    assert session.logged_by == actor
    assert AuditEvent.objects.filter(action="session.log", object_id=str(session.pk)).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pain_before", 11),
        ("pain_worst", -1),
        ("pain_after", 12),
        ("effort", 11),
        ("minutes_done", 0),
        ("minutes_done", 181),
        ("speed_kmh", 12),
        ("incline_pct", 25),
        ("setting", "trampoline"),
        ("swelling", "lots"),
    ],
)
def test_out_of_range_values_give_a_field_error(plan, actor, field, value):
    with pytest.raises(RehabError) as exc:
        log(plan, actor, day(0), **{field: value})
    assert exc.value.code == "validation_error"
    assert field in exc.value.fields
    assert not SessionLog.objects.exists()


def test_future_date_is_refused(plan, actor):
    with pytest.raises(RehabError) as exc:
        log(plan, actor, day(2), today=day(1))
    assert "date" in exc.value.fields


def test_date_before_the_plan_started_is_refused(plan, actor):
    with pytest.raises(RehabError) as exc:
        log(plan, actor, TODAY - dt.timedelta(days=1), today=day(1))
    assert "before" in exc.value.fields["date"][0]


def test_paused_plan_refuses_logs(plan, actor):
    services.plan_pause(plan=plan, actor=actor, reason="Knee flare-up")
    with pytest.raises(RehabError) as exc:
        log(plan, actor, day(1))
    assert exc.value.code == "plan_paused"
    assert exc.value.status == 409
    assert "Knee flare-up" in exc.value.message


@pytest.mark.parametrize("end", ["plan_complete", "plan_discontinue"])
def test_finished_plan_refuses_logs(plan, actor, end):
    getattr(services, end)(plan=plan, actor=actor, reason="done")
    with pytest.raises(RehabError) as exc:
        log(plan, actor, day(1))
    assert exc.value.code == "plan_not_active"


def test_second_log_for_the_same_day_is_a_conflict_and_keeps_the_first(plan, actor):
    first = log(plan, actor, day(0), notes="first")
    with pytest.raises(RehabError) as exc:
        log(plan, actor, day(0), notes="second")
    assert exc.value.code == "session_duplicate"
    assert list(SessionLog.objects.values_list("pk", "notes")) == [(first.pk, "first")]


def test_next_morning_pain_is_added_later_to_the_same_session(plan, actor):
    session = log(plan, actor, day(0))
    services.session_add_next_morning_pain(session=session, pain=1, actor=actor, today=day(1))
    session.refresh_from_db()
    assert session.pain_next_morning == 1
    assert session.pain_next_morning_at is not None


def test_next_morning_pain_cannot_be_added_the_same_day(plan, actor):
    session = log(plan, actor, day(0))
    with pytest.raises(RehabError) as exc:
        services.session_add_next_morning_pain(session=session, pain=1, actor=actor, today=day(0))
    assert "pain_next_morning" in exc.value.fields


def test_next_morning_pain_cannot_be_given_with_todays_log(plan, actor):
    with pytest.raises(RehabError) as exc:
        log(plan, actor, day(0), pain_next_morning=2)
    assert "pain_next_morning" in exc.value.fields


def test_next_morning_pain_can_come_with_yesterdays_log(plan, actor):
    session = log(plan, actor, day(0), today=day(1), pain_next_morning=2)
    assert session.pain_next_morning == 2


def test_next_morning_pain_cannot_be_recorded_twice(plan, actor):
    session = log(plan, actor, day(0))
    services.session_add_next_morning_pain(session=session, pain=1, actor=actor, today=day(1))
    with pytest.raises(RehabError) as exc:
        services.session_add_next_morning_pain(session=session, pain=4, actor=actor, today=day(1))
    assert exc.value.code == "next_morning_already_recorded"
    session.refresh_from_db()
    assert session.pain_next_morning == 1


@pytest.mark.parametrize("pain", [-1, 11, "3", None, True])
def test_next_morning_pain_must_be_0_to_10(plan, actor, pain):
    session = log(plan, actor, day(0))
    with pytest.raises(RehabError):
        services.session_add_next_morning_pain(
            session=session, pain=pain, actor=actor, today=day(1)
        )


def test_a_logged_fall_pauses_the_plan_at_once_and_invalidates_the_screening(plan, actor):
    log(plan, actor, day(1), fall=True)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    assert "fall" in plan.status_reason.lower()
    assert plan.pause_spans() == ((day(1), None),)  # paused from the day of the fall
    decision = plan.decisions.get()
    assert decision.outcome == "pause"
    assert decision.status == "applied"
    assert decision.alert
    assert Screening.objects.get(patient=plan.patient).invalidated_at is not None
    with pytest.raises(RehabError) as exc:
        log(plan, actor, day(2))
    assert exc.value.code == "plan_paused"


@pytest.mark.parametrize("overrides", [{"chest_pain": True}, {"pain_worst": 8}, {"pain_after": 9}])
def test_chest_pain_or_severe_pain_pauses_the_plan(plan, actor, overrides):
    log(plan, actor, day(1), **overrides)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    # Only a fall invalidates the screening.
    assert Screening.objects.get(patient=plan.patient).invalidated_at is None


def test_severe_next_morning_pain_pauses_the_plan(plan, actor):
    session = log(plan, actor, day(0))
    services.session_add_next_morning_pain(session=session, pain=8, actor=actor, today=day(1))
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED


def test_near_fall_holds_and_alerts(plan, actor):
    log(plan, actor, day(1), near_fall=True)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
    decision = plan.decisions.get()
    assert decision.outcome == "hold"
    assert decision.alert
    assert "near_fall" in decision.reason_codes


def test_setting_codes_are_the_shared_vocabulary(plan, actor):
    for n, setting in enumerate(L.SETTINGS):
        log(plan, actor, day(n), setting=setting)
    assert SessionLog.objects.count() == len(L.SETTINGS)


def test_decision_after_a_session_is_recorded_with_reasons(
    plan, actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the deferred evaluation runs
        session = log(plan, actor, day(0))
    decision = ProgressionDecision.objects.get(plan=plan)
    session.refresh_from_db()
    assert session.decision == decision
    assert decision.outcome == "hold"
    assert decision.trigger == "session"
    assert decision.reasons
    assert all(r["text"] for r in decision.reasons)


@pytest.mark.parametrize("speed", [2.3, 0.7, 4.9, 1])
def test_any_one_decimal_speed_is_accepted_as_typed(plan, actor, speed):
    session = log(plan, actor, day(0), speed_kmh=speed)
    session.refresh_from_db()
    assert float(session.speed_kmh) == speed


def test_a_speed_with_two_decimals_is_refused(plan, actor):
    with pytest.raises(RehabError) as exc:
        log(plan, actor, day(0), speed_kmh=2.35)
    assert "speed_kmh" in exc.value.fields


def test_a_concurrent_duplicate_that_slips_past_the_check_is_still_a_clear_conflict(plan, actor):
    from unittest import mock

    from django.db.models.query import QuerySet

    log(plan, actor, day(0))
    # Two requests for the same day at once: both pass the exists() check before either commits;
    # the unique constraint stops the second, and it must read as a conflict, not a 500.
    with (
        mock.patch.object(QuerySet, "exists", return_value=False),
        pytest.raises(RehabError) as exc,
    ):
        log(plan, actor, day(0))
    assert exc.value.code == "session_duplicate"
    assert SessionLog.objects.count() == 1


# --- Supervised sessions ------------------------------------------------------------------------


def test_a_clinicians_supervised_session_is_recorded_as_theirs_and_audited(plan, actor):
    log = services.session_log(
        plan=plan, actor=actor, date=TODAY, today=TODAY, supervised=True, **good_session()
    )
    log.refresh_from_db()
    assert (log.supervised, log.logged_by) == (True, actor)
    event = AuditEvent.objects.get(action="session.log", object_id=str(log.pk))
    assert event.actor == actor
    assert event.detail == {"adverse_events": [], "supervised": True}


def test_a_session_is_not_supervised_unless_said(plan, actor):
    log = services.session_log(plan=plan, actor=actor, date=TODAY, today=TODAY, **good_session())
    assert log.supervised is False


@pytest.mark.parametrize("who", ["patient", "api_key", "other_clinic", "system"])
def test_only_a_clinician_of_the_clinic_can_record_a_supervised_session(plan, who):
    patient = plan.patient
    if who == "patient":
        patient.user = UserFactory()
        patient.save()
        actor = patient.user
    elif who == "api_key":
        actor, _ = services.api_key_create(clinic=patient.clinic, name="EHR", actor=None)
    elif who == "other_clinic":
        actor = ClinicianFactory().user
    else:
        actor = None
    with pytest.raises(RehabError) as caught:
        services.session_log(
            plan=plan, actor=actor, date=TODAY, today=TODAY, supervised=True, **good_session()
        )
    assert caught.value.code == "supervisor_not_clinician"
    assert not plan.sessions.exists()


def test_a_supervised_fall_pauses_the_plan_like_any_other(plan, actor):
    services.session_log(
        plan=plan,
        actor=actor,
        date=TODAY,
        today=TODAY,
        supervised=True,
        **good_session(fall=True),
    )
    plan.refresh_from_db()
    assert plan.status == "paused"


# --- A deferred evaluation that arrives late (the worker behind or down) ----------------------


def test_a_late_deferred_evaluation_judges_the_sessions_logged_after_it(
    auto_plan, actor, django_capture_on_commit_callbacks
):
    """It evaluated as of its own day, on top of decisions made since from newer data: the
    day-2 session's evaluation advanced the plan past a day-4 session with worst pain 6, whose
    own evaluation then judged the new level and ignored it."""
    plan = auto_plan
    with django_capture_on_commit_callbacks(execute=False):  # no worker
        services.session_log(
            plan=plan, actor=actor, date=day(0), today=day(1), pain_next_morning=2,
            **good_session(),
        )  # fmt: skip
        second = services.session_log(
            plan=plan, actor=actor, date=day(2), today=day(3), **good_session()
        )
        painful = services.session_log(
            plan=plan, actor=actor, date=day(4), today=day(4), **good_session(pain_worst=6)
        )
        # The day-2 session's next-morning pain is judged at once, on day 4: a hold.
        services.session_add_next_morning_pain(session=second, pain=2, actor=actor, today=day(4))
    for session in (second, painful):  # the worker comes back, oldest first
        services.session_evaluate(session_id=session.pk)
    plan.refresh_from_db()
    assert plan.current_level == 0
    latest = plan.decisions.order_by("-created_at", "-id").first()
    assert latest.outcome != "advance"
    assert "worst_pain_high" in [reason["code"] for reason in latest.reasons]


def test_approving_first_judges_a_session_still_awaiting_its_evaluation(
    plan, actor, django_capture_on_commit_callbacks
):
    """The approval went through before the worker judged a painful session logged since, and
    that session was then judged at the new level, i.e. never."""
    for n in (0, 2):
        services.session_log(
            plan=plan, actor=actor, date=day(n), today=day(n + 1), pain_next_morning=2,
            **good_session(),
        )  # fmt: skip
    suggestion = plan.decisions.order_by("-id").first()
    assert (suggestion.outcome, suggestion.status) == ("advance", "pending")
    with django_capture_on_commit_callbacks(execute=False):
        painful = services.session_log(
            plan=plan, actor=actor, date=day(3), today=day(3),
            **good_session(pain_worst=7, effort=8),
        )  # fmt: skip
    with pytest.raises(RehabError) as refused:
        services.decision_approve(decision=suggestion, actor=actor, today=day(3))
    assert refused.value.status == 409
    plan.refresh_from_db()
    suggestion.refresh_from_db()
    painful.refresh_from_db()
    assert (plan.current_level, suggestion.status) == (0, "superseded")
    # The painful session's evaluation is kept, and the worker's delivery finds nothing due.
    assert painful.evaluation_due_on is None
    assert "worst_pain_high" in [reason["code"] for reason in painful.decision.reasons]
    assert services.session_evaluate(session_id=painful.pk) is None


def test_a_deferred_decision_arriving_changes_the_sessions_updated_at(
    plan, actor, django_capture_on_commit_callbacks
):
    """A clinic system syncing with ?updated_since= must see the decision arrive."""
    with django_capture_on_commit_callbacks(execute=False):
        session = services.session_log(
            plan=plan, actor=actor, date=day(0), today=day(0), **good_session()
        )
    session.refresh_from_db()
    before = session.updated_at
    services.session_evaluate(session_id=session.pk)
    session.refresh_from_db()
    assert session.decision is not None
    assert session.updated_at > before
