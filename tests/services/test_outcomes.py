"""Outcome measures (outcome_record): scored, compared with the baseline, linked to the open
plan; bad input is a field error."""

import pytest

from rehab import selectors, services
from rehab.errors import RehabError
from tests.factories import TODAY, PatientFactory
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def test_outcome_is_scored_and_compared_with_the_baseline(patient, actor):
    services.outcome_record(
        patient=patient, measure="nprs", answers={"score": 6}, actor=actor, today=TODAY
    )
    services.outcome_record(
        patient=patient, measure="nprs", answers={"score": 3}, actor=actor, today=day(42)
    )
    (change,) = selectors.outcome_changes(patient=patient, measure="nprs")
    assert change.baseline == 6
    assert change.current == 3
    assert change.meaningful


def test_koos_is_stored_with_its_five_subscales(patient, actor):
    answers = dict.fromkeys(("P1", "P2", "P3", "P4", "P5", "S1", "S2", "S3", "S4"), 1)
    record = services.outcome_record(patient=patient, measure="koos", answers=answers, actor=actor)
    assert set(record.scores) == {"pain", "symptoms", "adl", "sport_rec", "qol"}
    assert record.scores["pain"] == 75.0
    assert record.scores["adl"] is None


@pytest.mark.parametrize(
    ("measure", "answers", "field"),
    [("nprs", {"score": 11}, "score"), ("vas", {"score": 1}, "measure"), ("nprs", [], "answers")],
)
def test_bad_outcome_input_gives_a_field_error(patient, actor, measure, answers, field):
    with pytest.raises(RehabError) as exc:
        services.outcome_record(patient=patient, measure=measure, answers=answers, actor=actor)
    assert field in exc.value.fields


def test_outcome_cannot_be_dated_in_the_future(patient, actor):
    with pytest.raises(RehabError) as exc:
        services.outcome_record(
            patient=patient,
            measure="nprs",
            answers={"score": 1},
            actor=actor,
            taken_on=day(1),
            today=TODAY,
        )
    assert "taken_on" in exc.value.fields


def test_outcome_is_linked_to_the_open_plan(plan, actor):
    record = services.outcome_record(
        patient=plan.patient, measure="nprs", answers={"score": 4}, actor=actor
    )
    assert record.plan == plan


def test_no_change_without_a_second_score(patient, actor):
    services.outcome_record(patient=patient, measure="nprs", answers={"score": 6}, actor=actor)
    assert selectors.outcome_changes(patient=patient, measure="nprs") == ()
    assert selectors.outcome_changes(patient=PatientFactory(), measure="nprs") == ()
