"""Open referrals (rehab.selectors.referrals): a patient's urgent and emergency referrals not
yet acted on, emergency first, for their own clinic's staff only."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.access import principal_for_user
from tests.factories import TODAY, ClinicianFactory, UserFactory, clean_answers

pytestmark = pytest.mark.django_db


def screen(patient, actor, days: int, **finding):
    return services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, **finding),
        actor=actor,
        today=TODAY + dt.timedelta(days=days),
    )


def test_emergency_first_then_the_latest_and_acted_on_ones_left_out(
    patient, actor, clinician, django_assert_num_queries
):
    urgent = screen(patient, actor, 0, suspected_dvt=True)
    emergency = screen(patient, actor, 1, saddle_anaesthesia=True)
    later_urgent = screen(patient, actor, 2, suspected_dvt=True)
    screen(patient, actor, 3)  # cleared: no referral
    staff = principal_for_user(clinician.user)
    with django_assert_num_queries(1):
        open_ = selectors.referrals_unacted_for(staff, patient=patient)
    assert [r.screening for r in open_] == [emergency, later_urgent, urgent]
    assert [r.is_emergency for r in open_] == [True, False, False]
    assert open_[0].screened_by == actor.get_full_name()
    assert open_[0].reasons  # the answers that caused it, in words
    services.referral_act(screening=emergency, actor=actor, action="Referred to A&E.")
    assert [r.screening for r in selectors.referrals_unacted_for(staff, patient=patient)] == [
        later_urgent,
        urgent,
    ]


def test_another_clinic_and_the_patient_read_none(patient, actor):
    screen(patient, actor, 0, saddle_anaesthesia=True)
    outsider = principal_for_user(ClinicianFactory().user)
    assert selectors.referrals_unacted_for(outsider, patient=patient) == ()
    patient.user = UserFactory()
    patient.save()
    own = principal_for_user(patient.user)
    assert selectors.referrals_unacted_for(own, patient=patient) == ()
