"""The nightly run's batch (services.progression_evaluate_many) decides for each plan what
evaluating that plan alone decides, reading what it needs for the whole batch at once."""

import datetime as dt

import pytest
from django.db import transaction

from rehab import services
from rehab.models import ProgressionDecision
from tests.factories import TODAY, PatientFactory, clean_answers, good_session
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def noon(n: int) -> dt.datetime:
    return dt.datetime.combine(day(n), dt.time(12), tzinfo=dt.UTC)


def log(plan, n, *, today=None, **overrides):
    services.session_log(
        plan=plan,
        actor=None,
        date=day(n),
        today=today or day(n + 1),
        **({"pain_next_morning": 2} if today is None else {}),
        **good_session(**overrides),
    )


def latest_decisions(plans):
    out = {}
    for plan in plans:
        d = plan.decisions.order_by("-created_at", "-id").first()
        out[plan.pk] = None if d is None else (d.outcome, d.from_level, d.to_level, d.reasons)
    return out


@pytest.fixture
def varied_plans(clinic, ladder, actor):
    """Plans on the four-level ladder whose windows hold different things: nothing, good weeks
    (one auto-applied, so advances are recent), pain that regresses, a near fall, more
    swelling, a session whose next-morning pain is not in yet."""

    def plan(auto_apply=False):
        patient = PatientFactory(clinic=clinic)
        services.screening_submit(
            patient=patient, answers=clean_answers(patient.condition), actor=actor, today=TODAY
        )
        return services.plan_assign(
            patient=patient,
            protocol=ladder,
            actor=actor,
            start_date=TODAY,
            auto_apply=auto_apply,
            today=TODAY,
        )

    nothing, good, sore, near, swollen, unknown = (plan() for _ in range(6))
    auto = plan(auto_apply=True)
    for n in range(0, 6):
        log(good, n)
        log(auto, n, minutes_done=40)
    log(sore, 0)
    log(sore, 1, pain_worst=6)
    log(near, 0)
    log(near, 2, near_fall=True)
    log(swollen, 1, swelling="more")
    log(swollen, 3)
    log(unknown, 4, today=day(4))
    return [nothing, good, auto, sore, near, swollen, unknown]


@pytest.mark.parametrize("n", [5, 6, 9])
def test_a_batch_decides_for_each_plan_what_evaluating_it_alone_decides(varied_plans, n):
    plans = varied_plans
    with transaction.atomic():
        for plan in plans:
            services.progression_evaluate(plan=plan, trigger="nightly", today=day(n))
        alone = latest_decisions(plans)
        transaction.set_rollback(True)
    evaluated = services.progression_evaluate_many(
        plan_ids=[p.pk for p in plans], trigger="nightly", now=noon(n)
    )
    assert evaluated == len(plans)
    assert latest_decisions(plans) == alone
    # Not all the same decision: the windows differ, and so do the reasons.
    assert len({tuple(r["code"] for r in reasons) for *_, reasons in alone.values()}) >= 4


def test_a_batch_skips_plans_no_longer_active_and_records_nothing_twice(varied_plans):
    plans = varied_plans
    services.plan_pause(plan=plans[0], actor=None, reason="Away")
    ids = [p.pk for p in plans]
    assert services.progression_evaluate_many(plan_ids=ids, trigger="nightly", now=noon(6)) == 6
    assert not plans[0].decisions.filter(trigger="nightly").exists()
    nightly = ProgressionDecision.objects.filter(trigger="nightly")
    recorded = nightly.count()
    # A redelivered batch records nothing more: the results are the same.
    services.progression_evaluate_many(plan_ids=ids, trigger="nightly", now=noon(6))
    assert nightly.count() == recorded
