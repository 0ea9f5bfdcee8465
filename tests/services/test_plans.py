import datetime as dt
import importlib

import pytest

from rehab import services
from rehab.clinical import levels as L
from rehab.clinical.levels import Constraints, Level, within
from rehab.errors import RehabError
from rehab.models import AuditEvent, Plan
from tests.factories import TODAY, ClinicianFactory, builtin_protocol, clean_answers
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def screen(patient, actor, today=TODAY, **overrides):
    return services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, **overrides),
        actor=actor,
        today=today,
    )


def log_fall(plan, actor, on):
    """A short session on day `on`, logged that day, in which the patient fell."""
    services.session_log(
        plan=plan,
        actor=actor,
        date=on,
        today=on,
        minutes_done=10,
        pain_before=2,
        pain_worst=3,
        pain_after=2,
        effort=3,
        setting=L.TREADMILL_BOTH_HANDRAILS,
        fall=True,
    )


def assign(patient, protocol, actor, **kwargs):
    kwargs.setdefault("today", TODAY)
    return services.plan_assign(patient=patient, protocol=protocol, actor=actor, **kwargs)


def test_assign_without_screening_is_refused(patient, ladder, actor):
    with pytest.raises(RehabError) as exc:
        assign(patient, ladder, actor)
    assert exc.value.code == "screening_required"
    assert not Plan.objects.exists()


def test_assign_after_screening_expired_is_refused(patient, ladder, actor):
    screen(patient, actor, today=TODAY)
    with pytest.raises(RehabError) as exc:
        assign(patient, ladder, actor, today=TODAY + dt.timedelta(days=91))
    assert exc.value.code == "screening_required"


def test_assign_on_the_last_valid_day_is_allowed(patient, ladder, actor):
    screen(patient, actor, today=TODAY)
    last_day = TODAY + dt.timedelta(days=90)
    plan = assign(patient, ladder, actor, today=last_day, start_date=last_day)
    assert plan.status == Plan.Status.ACTIVE


def test_incomplete_screening_refuses_and_names_the_missing_answers(patient, ladder, actor):
    answers = clean_answers(patient.condition)
    del answers["suspected_dvt"]
    services.screening_submit(patient=patient, answers=answers, actor=actor, today=TODAY)
    with pytest.raises(RehabError) as exc:
        assign(patient, ladder, actor, override_reason="I know this patient well enough.")
    assert exc.value.code == "screening_incomplete"
    assert "suspected_dvt" in exc.value.message
    assert exc.value.fields == {"missing": ["suspected_dvt"]}


@pytest.mark.parametrize(
    ("finding", "referral"),
    [
        ({"suspected_dvt": True}, "urgent"),
        ({"unstable_cardiac_symptoms": True}, "urgent"),
        ({"saddle_anaesthesia": True}, "emergency"),
    ],
)
def test_urgent_or_emergency_block_cannot_be_overridden(patient, ladder, actor, finding, referral):
    screening = screen(patient, actor, **finding)
    assert screening.referral == referral
    with pytest.raises(RehabError) as exc:
        assign(patient, ladder, actor, override_reason="Clinician judgement after a phone call.")
    assert exc.value.code == "screening_blocked"
    assert "cannot be overridden" in exc.value.message
    assert not Plan.objects.exists()


def test_routine_block_refuses_without_a_written_reason(patient, ladder, actor):
    screen(patient, actor, fever_or_systemic_infection=True)
    with pytest.raises(RehabError) as exc:
        assign(patient, ladder, actor)
    assert exc.value.code == "screening_blocked"
    assert "override" in exc.value.message


def test_too_short_override_reason_is_refused_with_a_field_error(patient, ladder, actor):
    screen(patient, actor, fever_or_systemic_infection=True)
    with pytest.raises(RehabError) as exc:
        assign(patient, ladder, actor, override_reason="ok")
    assert "override_reason" in exc.value.fields


def test_routine_block_overridden_with_reason_stores_the_reason(patient, ladder, actor):
    screen(patient, actor, fever_or_systemic_infection=True)
    reason = "GP confirmed the fever has resolved; cleared by phone on 1 March."
    plan = assign(patient, ladder, actor, override_reason=f"  {reason} ")
    assert plan.override_reason == reason
    assert plan.overridden_by == actor
    event = AuditEvent.objects.get(action="plan.assign")
    assert event.detail["override"] is True


def test_override_reason_for_a_cleared_screening_is_refused(screened, ladder, actor):
    with pytest.raises(RehabError) as exc:
        assign(screened, ladder, actor, override_reason="Not needed but given anyway.")
    assert "override_reason" in exc.value.fields


def test_modified_verdict_caps_every_level_and_shows_the_cap(patient, actor):
    screen(patient, actor, feels_unsteady=True)
    plan = assign(patient, builtin_protocol(L.KNEE_OA), actor)
    constraints = plan.constraints_obj
    assert constraints.max_speed_kmh == 1.5
    assert constraints.supervised_only
    for capped in plan.capped_levels():
        assert within(capped.level, constraints)
    assert any(capped.is_capped for capped in plan.capped_levels())
    assert any("supervised" in cap for capped in plan.capped_levels() for cap in capped.caps)


def test_plan_keeps_its_snapshot_when_the_protocol_is_edited(plan, ladder, actor):
    before = list(plan.levels)
    services.protocol_update(
        protocol=ladder,
        actor=actor,
        levels=[{**level, "minutes": 60} for level in before],
    )
    plan.refresh_from_db()
    ladder.refresh_from_db()
    assert plan.levels == before
    assert plan.protocol_version == 2
    assert ladder.version == 3


def test_second_open_plan_is_refused(plan, ladder, actor):
    with pytest.raises(RehabError) as exc:
        assign(plan.patient, ladder, actor)
    assert exc.value.code == "plan_already_open"


def test_a_new_plan_may_follow_a_completed_one(plan, ladder, actor):
    services.plan_complete(plan=plan, actor=actor)
    second = assign(plan.patient, ladder, actor)
    assert second.status == Plan.Status.ACTIVE


def test_another_clinics_protocol_cannot_be_assigned(screened, actor):
    other = ClinicianFactory()
    foreign = services.protocol_copy(
        protocol=builtin_protocol(), clinic=other.clinic, actor=other.user
    )
    with pytest.raises(RehabError) as exc:
        assign(screened, foreign, actor)
    assert exc.value.code == "protocol_not_found"


def test_protocol_for_another_condition_is_refused(screened, actor):
    with pytest.raises(RehabError) as exc:
        assign(screened, builtin_protocol(L.CHRONIC_LOW_BACK_PAIN), actor)
    assert "protocol" in exc.value.fields


def test_plan_cannot_start_before_its_screening(screened, ladder, actor):
    with pytest.raises(RehabError) as exc:
        assign(screened, ladder, actor, start_date=TODAY - dt.timedelta(days=1))
    assert "start_date" in exc.value.fields


@pytest.mark.parametrize("days", [[], [7], [1, 1], ["mon"], [True]])
def test_bad_schedule_days_are_refused(screened, ladder, actor, days):
    with pytest.raises(RehabError) as exc:
        assign(screened, ladder, actor, schedule_days=days)
    assert "schedule_days" in exc.value.fields


def test_default_schedule_spreads_three_sessions_over_the_week(plan):
    assert plan.schedule_days == [0, 2, 4]


def test_archived_patient_cannot_get_a_plan(screened, ladder, actor):
    services.patient_archive(patient=screened, actor=actor)
    with pytest.raises(RehabError) as exc:
        assign(screened, ladder, actor)
    assert exc.value.code == "patient_archived"


def test_pause_and_resume(plan, actor):
    services.plan_pause(plan=plan, actor=actor, reason="Holiday")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    services.plan_resume(plan=plan, actor=actor, today=day(5))
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
    assert plan.window_start == day(5)


def test_pause_and_resume_record_the_paused_days_on_the_plan(plan, actor):
    services.plan_pause(plan=plan, actor=actor, today=day(2))
    plan.refresh_from_db()
    assert plan.pause_spans() == ((day(2), None),)
    services.plan_resume(plan=plan, actor=actor, today=day(5))
    services.plan_pause(plan=plan, actor=actor, today=day(9))
    services.plan_resume(plan=plan, actor=actor, today=day(9))  # resumed the same day
    plan.refresh_from_db()
    assert plan.pause_spans() == ((day(2), day(5)),)
    assert plan.adherence_days().paused(day(4))
    assert not plan.adherence_days().paused(day(5))
    assert not plan.adherence_days().paused(day(9))


def test_migration_0021_rebuilds_the_paused_days_from_the_plans_history(plan, actor):
    from django.apps import apps

    backfill = importlib.import_module("rehab.migrations.0021_plan_pauses").backfill_pauses
    services.plan_pause(plan=plan, actor=actor, today=day(2))
    services.plan_resume(plan=plan, actor=actor, today=day(5))
    log_fall(plan, actor, day(8))
    plan.refresh_from_db()
    recorded = plan.pauses
    assert len(recorded) == 2
    Plan.objects.filter(pk=plan.pk).update(pauses=[])
    # The clinician's pause and resume are dated by their audit events' moments.
    for action, on in (("plan.paused", day(2)), ("plan.resumed", day(5))):
        AuditEvent.objects.filter(object_id=str(plan.pk), action=action).update(
            at=dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC)
        )
    backfill(apps, None)
    plan.refresh_from_db()
    assert plan.pauses == recorded


def test_migration_0021_keeps_a_pause_that_follows_a_resume_the_same_day(plan, actor):
    """Resumed in the morning of day 5, paused again by a fall that afternoon: the plan is still
    paused, and its rebuilt span stays open (ordered by the day alone, the fall's pause came
    before the resume, which closed it: every day after would have counted as missed)."""
    from django.apps import apps

    backfill = importlib.import_module("rehab.migrations.0021_plan_pauses").backfill_pauses
    services.plan_pause(plan=plan, actor=actor, today=day(2))
    services.plan_resume(plan=plan, actor=actor, today=day(5))
    log_fall(plan, actor, day(5))
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    recorded = plan.pauses
    assert recorded == [[day(2).isoformat(), day(5).isoformat()], [day(5).isoformat(), None]]
    Plan.objects.filter(pk=plan.pk).update(pauses=[])
    for action, at in (("plan.paused", (day(2), 9)), ("plan.resumed", (day(5), 9))):
        AuditEvent.objects.filter(object_id=str(plan.pk), action=action).update(
            at=dt.datetime.combine(at[0], dt.time(at[1]), tzinfo=dt.UTC)
        )
    plan.decisions.update(created_at=dt.datetime.combine(day(5), dt.time(10), tzinfo=dt.UTC))
    backfill(apps, None)
    plan.refresh_from_db()
    assert plan.pauses == recorded
    assert plan.adherence_days().paused(day(9))


def test_migration_0021_reopens_the_pause_of_a_plan_still_paused(plan, actor):
    """A history that does not end paused (a resume recorded after the last pause) while the
    plan is paused: its last pause is reopened, so its days stay paused, not missed."""
    from django.apps import apps

    backfill = importlib.import_module("rehab.migrations.0021_plan_pauses").backfill_pauses
    services.plan_pause(plan=plan, actor=actor, today=day(2))
    services.plan_resume(plan=plan, actor=actor, today=day(5))
    services.plan_pause(plan=plan, actor=actor, today=day(7))
    Plan.objects.filter(pk=plan.pk).update(pauses=[])
    # The audit trail has the second pause before the resume (say, clocks set wrong).
    for action, on in (("plan.paused", day(2)), ("plan.resumed", day(8))):
        AuditEvent.objects.filter(object_id=str(plan.pk), action=action).update(
            at=dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC)
        )
    backfill(apps, None)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    assert plan.pauses == [[day(2).isoformat(), None]]


def test_resume_of_an_active_plan_is_refused(plan, actor):
    with pytest.raises(RehabError) as exc:
        services.plan_resume(plan=plan, actor=actor)
    assert exc.value.code == "plan_not_paused"


@pytest.mark.parametrize("end", ["plan_complete", "plan_discontinue"])
def test_ended_plan_cannot_be_paused_or_ended_again(plan, actor, end):
    getattr(services, end)(plan=plan, actor=actor, reason="Goals met")
    with pytest.raises(RehabError) as exc:
        services.plan_pause(plan=plan, actor=actor)
    assert exc.value.status == 409
    with pytest.raises(RehabError):
        getattr(services, end)(plan=plan, actor=actor, reason="Again")


def test_discontinue_needs_a_reason(plan, actor):
    with pytest.raises(RehabError) as exc:
        services.plan_discontinue(plan=plan, actor=actor, reason="  ")
    assert "reason" in exc.value.fields


def test_resume_after_a_fall_needs_a_new_screening(plan, actor):
    log_fall(plan, actor, day(1))
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PAUSED
    with pytest.raises(RehabError) as exc:
        services.plan_resume(plan=plan, actor=actor, today=day(2))
    assert exc.value.code == "screening_required"
    # Re-screened after the fall: now with fall-risk constraints, which the plan takes on.
    screen(plan.patient, actor, today=day(3), falls_past_12_months=1)
    services.plan_resume(plan=plan, actor=actor, today=day(3))
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
    assert plan.constraints_obj.max_speed_kmh == 1.5


def test_set_level_records_an_applied_decision_with_the_reason(plan, actor):
    decision = services.plan_set_level(
        plan=plan, level=2, actor=actor, reason="Patient is ahead", today=day(1)
    )
    plan.refresh_from_db()
    assert plan.current_level == 2
    assert decision.status == "applied"
    assert decision.reasons[0]["text"] == "Patient is ahead"


@pytest.mark.parametrize(
    ("level", "reason", "field"), [(9, "x", "level"), (0, "x", "level"), (1, "", "reason")]
)
def test_set_level_refusals(plan, actor, level, reason, field):
    with pytest.raises(RehabError) as exc:
        services.plan_set_level(plan=plan, level=level, actor=actor, reason=reason)
    assert field in exc.value.fields


def test_capped_prescription_never_exceeds_constraints_for_every_builtin(db):
    # Every built-in level under the strictest combination still fits.
    strict = Constraints(
        supervised_only=True,
        handrails_required=True,
        max_speed_kmh=1.0,
        max_incline_pct=0,
        allowed_settings=frozenset({L.PARALLEL_BARS}),
    )
    services.protocol_library_load()
    from rehab.models import Protocol

    for protocol in Protocol.objects.filter(clinic__isnull=True):
        for row in protocol.levels.all():
            capped = L.cap_level(row.to_level(), strict)
            assert within(capped.level, strict), (protocol.code, row.name)
            assert isinstance(capped.level, Level)
