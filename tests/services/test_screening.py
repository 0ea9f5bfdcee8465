"""Screening (screening_submit): the verdict stored in its documented shape, answers checked
one by one, the clinic's thresholds and validity period applied."""

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.clinical import levels as L
from rehab.errors import RehabError
from rehab.models import AuditEvent, Screening
from tests.factories import TODAY, clean_answers
from tests.services.conftest import day

pytestmark = pytest.mark.django_db


def submit(patient, actor, today=TODAY, **overrides):
    return services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, **overrides),
        actor=actor,
        today=today,
    )


def test_screening_stores_the_verdict_in_the_documented_shape(patient, actor):
    screening = submit(patient, actor, anticoagulated=True)
    assert screening.verdict_dict() == {
        "status": "modified",
        "referral": "none",
        "reasons": ["anticoagulated"],
        "missing": [],
        "constraints": {"handrails_required": True},
    }
    assert screening.valid_until == TODAY + dt.timedelta(days=90)
    assert screening.screened_by == actor
    assert AuditEvent.objects.filter(action="screening.submit", patient=patient).exists()


def test_condition_defaults_to_the_patients(patient, actor):
    answers = clean_answers(patient.condition)
    del answers["condition"]
    screening = services.screening_submit(
        patient=patient, answers=answers, actor=actor, today=TODAY
    )
    assert screening.status == "cleared"
    assert screening.condition == patient.condition


def test_a_screening_for_another_condition_is_refused(patient, actor):
    with pytest.raises(RehabError) as exc:
        services.screening_submit(
            patient=patient,
            answers=clean_answers(L.CHRONIC_LOW_BACK_PAIN),
            actor=actor,
            today=TODAY,
        )
    assert "condition" in exc.value.fields


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"saddle_anesthesia": True}, "saddle_anesthesia"),
        ({"suspected_dvt": "no"}, "suspected_dvt"),
        ({"berg_score": 80}, "berg_score"),
        ({"knee_effusion": "huge"}, "knee_effusion"),
    ],
)
def test_invalid_answers_are_refused_naming_the_answer(patient, actor, answers, field):
    with pytest.raises(RehabError) as exc:
        submit(patient, actor, **answers)
    assert exc.value.code == "validation_error"
    assert field in exc.value.fields
    assert not Screening.objects.exists()


def test_answers_must_be_an_object(patient, actor):
    with pytest.raises(RehabError) as exc:
        services.screening_submit(patient=patient, answers=["no"], actor=actor)
    assert "answers" in exc.value.fields


def test_clinic_thresholds_apply_and_are_kept_with_the_screening(clinic, patient, actor):
    services.clinic_update_screening_settings(
        clinic=clinic, settings={"tug_fall_risk_seconds": 10}, actor=actor
    )
    patient.clinic.refresh_from_db()
    screening = submit(patient, actor, tug_seconds=11)
    assert screening.status == "modified"
    assert screening.settings_used["tug_fall_risk_seconds"] == 10
    clinic.refresh_from_db()
    assert clinic.screening_settings == {"tug_fall_risk_seconds": 10}


def test_clinic_validity_period_is_a_setting(clinic, patient, actor):
    services.clinic_update_screening_settings(
        clinic=clinic, settings={"validity_days": 30}, actor=actor
    )
    patient.clinic.refresh_from_db()
    assert submit(patient, actor).valid_until == TODAY + dt.timedelta(days=30)


def test_current_screening_is_the_latest_valid_one(patient, actor):
    submit(patient, actor, today=TODAY)
    later = submit(patient, actor, today=day(10), anticoagulated=True)
    assert selectors.screening_current(patient=patient, today=day(11)) == later
    assert selectors.screening_current(patient=patient, today=day(101)) is None
