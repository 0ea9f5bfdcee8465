"""The Today list reads each patient's need from the patient (Patient.dashboard_need): every write
that can change a flag shows on the very next request, and a new day recomputes the flags that
move with the date without any write. The refresh itself: tests/services/test_dashboard.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from rehab.models import Patient, ProgressionDecision
from tests.factories import TODAY, builtin_protocol, clean_answers
from tests.stored_need import (
    at_noon,
    days_ago,
    log,
    log_this_week,
    plan_for,
    screened,
)

URL = reverse("clinicians:today")


@pytest.fixture
def frozen():
    # Monday 2 March 2026, noon in London: the clinic's and the patients' day is TODAY.
    with freeze_time(at_noon(TODAY)) as clock:
        yield clock


def awaiting_approval(clinic, last_name: str) -> ProgressionDecision:
    """Nine days of good sessions settled by morning earn an advance; not applied on its own."""
    plan = plan_for(clinic, last_name, start=days_ago(9), auto_apply=False)
    for back in range(9, 0, -1):
        log(plan, days_ago(back), pain_next_morning=2)
    return plan.decisions.get(status=ProgressionDecision.Status.PENDING)


def flags_by_name(response) -> dict[str, list[str]]:
    return {row.patient.last_name: [f.code for f in row.flags] for row in response.context["rows"]}


def names(response) -> list[str]:
    return [row.patient.last_name for row in response.context["rows"]]


# --- Every write that can change a flag shows on the next request ------------------------------
# Each case builds a patient, lets the list store their need, writes through a service, and
# returns what the patient's flags must be before and after.


def _fall(clinic):
    plan = plan_for(clinic, "Case", start=days_ago(20))
    log_this_week(plan)
    # The fall pauses the plan (a decision) and invalidates the screening (CLINICAL.md §3).
    return [], lambda: log(plan, days_ago(1), fall=True), ["safety_pause", "screening_expired"]


def _approve(clinic):
    decision = awaiting_approval(clinic, "Case")
    write = lambda: services.decision_approve(decision=decision, actor=None, today=TODAY)  # noqa: E731
    return ["pending_decision"], write, []


def _reject(clinic):
    decision = awaiting_approval(clinic, "Case")
    write = lambda: services.decision_reject(decision=decision, actor=None, note="Not yet.")  # noqa: E731
    return ["pending_decision"], write, []


def _set_level(clinic):
    plan = awaiting_approval(clinic, "Case").plan
    return (
        ["pending_decision"],
        lambda: services.plan_set_level(
            plan=plan, level=1, actor=None, reason="Walks well on the ward.", today=TODAY
        ),
        [],  # the suggestion awaiting approval is superseded
    )


def _nightly_evaluation(clinic):
    decision = awaiting_approval(clinic, "Case")
    services.decision_reject(decision=decision, actor=None, note="Let us wait a few days.")
    plan = decision.plan
    # The night's run finds the advance earned again and suggests it afresh.
    write = lambda: services.progression_evaluate(  # noqa: E731
        plan=plan, trigger=ProgressionDecision.Trigger.NIGHTLY, today=TODAY
    )
    return [], write, ["pending_decision"]


def _next_morning_pain(clinic):
    plan = plan_for(clinic, "Case", start=days_ago(20))
    log(plan, days_ago(5))
    session = log(plan, days_ago(3), pain_before=2)
    log(plan, days_ago(0))
    write = lambda: services.session_add_next_morning_pain(  # noqa: E731
        session=session, pain=5, actor=None, today=TODAY
    )
    return [], write, ["pain_unsettled"]


def _rescreen(clinic):
    plan = plan_for(clinic, "Case", start=days_ago(100))  # screening valid 90 days
    log_this_week(plan)
    patient = plan.patient
    write = lambda: services.screening_submit(  # noqa: E731
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=TODAY
    )
    return ["screening_expired"], write, []


def _screen_new_patient(clinic):
    patient = screened(clinic, "Case")
    write = lambda: services.screening_submit(  # noqa: E731
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=TODAY
    )
    return ["screening_needed"], write, ["no_plan"]


def _assign(clinic):
    patient = screened(clinic, "Case", on=days_ago(1))
    write = lambda: services.plan_assign(  # noqa: E731
        patient=patient, protocol=builtin_protocol(patient.condition), actor=None, today=TODAY
    )
    return ["no_plan"], write, []


def _pause(clinic):
    plan = plan_for(clinic, "Case", start=days_ago(20))
    log(plan, days_ago(0))  # 1 of 3 planned sessions: Wednesday's and Friday's missed
    write = lambda: services.plan_pause(plan=plan, actor=None, reason="Away for a week.")  # noqa: E731
    return ["non_adherent"], write, []  # adherence is only asked of an active plan


def _resume(clinic):
    plan = plan_for(clinic, "Case", start=days_ago(20))
    # Wednesday and Friday missed, then paused from Saturday: the pause does not excuse the days
    # missed before it, and once resumed they count again (0 of 2).
    services.plan_pause(plan=plan, actor=None, reason="Away.", today=days_ago(2))
    write = lambda: services.plan_resume(plan=plan, actor=None, today=TODAY)  # noqa: E731
    return [], write, ["non_adherent"]


def _complete(clinic):
    plan = plan_for(clinic, "Case", start=days_ago(100))
    log_this_week(plan)
    write = lambda: services.plan_complete(plan=plan, actor=None)  # noqa: E731
    return ["screening_expired"], write, []


def _discontinue(clinic):
    plan = plan_for(clinic, "Case", start=days_ago(100))
    log_this_week(plan)
    write = lambda: services.plan_discontinue(plan=plan, actor=None, reason="Moved away.")  # noqa: E731
    return ["screening_expired"], write, []


WRITES = {
    "fall_logged": _fall,
    "decision_approved": _approve,
    "decision_rejected": _reject,
    "level_set_by_the_clinician": _set_level,
    "nightly_evaluation": _nightly_evaluation,
    "next_morning_pain_added": _next_morning_pain,
    "rescreened": _rescreen,
    "first_screening": _screen_new_patient,
    "plan_assigned": _assign,
    "plan_paused": _pause,
    "plan_resumed": _resume,
    "plan_completed": _complete,
    "plan_discontinued": _discontinue,
}


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("case", WRITES.values(), ids=WRITES.keys())
def test_a_write_that_changes_a_flag_shows_on_the_next_request(dashboard, clinic, case):
    screened(clinic, "Bystander", on=days_ago(1))  # "no plan yet": sorts after any other flag
    before, write, after = case(clinic)
    response = dashboard.get(URL)
    assert flags_by_name(response)["Case"] == before
    assert Patient.objects.get(last_name="Case").dashboard_day == TODAY  # stored, not stale
    write()
    response = dashboard.get(URL)
    assert flags_by_name(response)["Case"] == after
    counts = response.context["counts"]
    for code in {*before, *after}:
        assert counts[code] == (code in after) + (code == "no_plan")  # the bystander's
    if after and after[0] != "no_plan":  # a more urgent flag than the bystander's
        assert names(response)[0] == "Case"


@pytest.mark.usefixtures("frozen")
def test_a_fall_puts_the_patient_at_the_top_at_once(dashboard, clinic):
    for name in ("Adams", "Baker", "Clark"):
        log_this_week(plan_for(clinic, name, start=days_ago(20)))
    faller = plan_for(clinic, "Zephyr", start=days_ago(20))
    log_this_week(faller)
    assert names(dashboard.get(URL)) == ["Adams", "Baker", "Clark", "Zephyr"]
    log(faller, days_ago(1), fall=True)
    response = dashboard.get(URL)
    assert names(response) == ["Zephyr", "Adams", "Baker", "Clark"]
    assert response.context["rows"][0].flags[0].text == "Paused: fall"


@pytest.mark.usefixtures("frozen")
def test_an_archived_patient_leaves_the_list_and_its_counts_at_once(dashboard, clinic):
    patient = screened(clinic, "Leaving")
    screened(clinic, "Staying")
    assert dashboard.get(URL).context["counts"]["screening_needed"] == 2
    services.patient_archive(patient=patient, actor=None)
    response = dashboard.get(URL)
    assert names(response) == ["Staying"]
    assert response.context["counts"]["screening_needed"] == 1
    assert response.context["counts"]["total"] == 1
    archived = dashboard.get(URL, {"status": "archived"})
    assert flags_by_name(archived) == {"Leaving": []}  # nothing is asked of an archived patient


@pytest.mark.usefixtures("frozen")
def test_a_new_patient_is_listed_at_once(dashboard, clinic):
    screened(clinic, "First")
    dashboard.get(URL)
    services.patient_create(
        clinic=clinic, actor=None, first_name="Ada", last_name="Newcomer", condition="knee_oa"
    )
    assert flags_by_name(dashboard.get(URL)) == {
        "First": ["screening_needed"],
        "Newcomer": ["screening_needed"],
    }


@pytest.mark.usefixtures("frozen")
def test_writes_that_no_flag_reads_leave_the_stored_need_alone(dashboard, clinic):
    plan = plan_for(clinic, "Steady", start=days_ago(20))
    log_this_week(plan)
    dashboard.get(URL)
    patient = Patient.objects.get(pk=plan.patient_id)
    version = patient.dashboard_version
    services.patient_update(patient=patient, actor=None, phone="+44 20 7946 0000")
    services.plan_set_auto_apply(plan=plan, auto_apply=False, actor=None)
    services.outcome_record(patient=patient, measure="nprs", answers={"score": 4}, actor=None)
    patient.refresh_from_db()
    assert (patient.dashboard_day, patient.dashboard_version) == (TODAY, version)


# --- A new day recomputes what moves with the date, without any write ---------------------------


def test_missed_days_turn_into_low_adherence_on_a_later_day(dashboard, clinic, frozen):
    plan = plan_for(clinic, "Missing", start=days_ago(20))
    log_this_week(plan)
    assert flags_by_name(dashboard.get(URL)) == {"Missing": []}
    frozen.move_to(at_noon(TODAY + dt.timedelta(days=5)))  # Saturday: Wednesday, Friday missed
    response = dashboard.get(URL)
    assert flags_by_name(response) == {"Missing": ["non_adherent"]}
    assert "Low adherence 1/3" in response.content.decode()
    assert Patient.objects.get(last_name="Missing").dashboard_day == TODAY + dt.timedelta(days=5)


def test_a_screening_comes_due_then_expires_with_the_date(dashboard, clinic, frozen):
    # Screened on 21 December 2025, valid 90 days: until Saturday 21 March.
    plan = plan_for(clinic, "Aging", start=days_ago(71))
    log_this_week(plan)
    screened(clinic, "Waiting", on=days_ago(71))  # screened, no plan yet
    assert flags_by_name(dashboard.get(URL)) == {"Aging": [], "Waiting": ["no_plan"]}
    frozen.move_to(at_noon(TODAY + dt.timedelta(days=6)))  # 13 days before its end
    flags = flags_by_name(dashboard.get(URL))
    assert "screening_due" in flags["Aging"]
    assert flags["Waiting"] == ["no_plan"]
    frozen.move_to(at_noon(TODAY + dt.timedelta(days=20)))  # the day after its last
    flags = flags_by_name(dashboard.get(URL))
    assert "screening_expired" in flags["Aging"]
    assert "screening_due" not in flags["Aging"]
    assert flags["Waiting"] == ["screening_needed"]


def test_unsettled_next_morning_pain_leaves_the_list_after_seven_days(dashboard, clinic, frozen):
    plan = plan_for(clinic, "Sore", start=days_ago(20))
    log(plan, days_ago(3), pain_before=2, pain_next_morning=5)
    assert "pain_unsettled" in flags_by_name(dashboard.get(URL))["Sore"]
    frozen.move_to(at_noon(TODAY + dt.timedelta(days=4)))  # that session is 7 days old
    assert "pain_unsettled" not in flags_by_name(dashboard.get(URL))["Sore"]
