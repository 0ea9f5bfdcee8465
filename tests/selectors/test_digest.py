"""The clinician's daily digest (rehab.selectors.digest): the clinic's own patients only, in a
fixed number of queries, and who is due one at a local hour. The e-mail it makes:
tests/tasks/test_alerts.py."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.models import User
from tests.factories import ClinicFactory, ClinicianFactory, clean_answers, good_session
from tests.selectors.conftest import episode

pytestmark = pytest.mark.django_db


def troubles(plan) -> None:
    """An emergency referral not acted on, and next-morning pain worse than before a walk."""
    patient = plan.patient
    today = patient.local_today()
    services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, saddle_anaesthesia=True),
        actor=None,
        today=today,
    )
    services.session_log(
        plan=plan,
        actor=None,
        date=today - dt.timedelta(days=1),
        today=today,
        **good_session(pain_before=1, pain_next_morning=4),
    )


def patients_in(digest) -> set[str]:
    return {
        *(r.screening.patient.last_name for r in digest["referrals"]),
        *(d.plan.patient.last_name for d in digest["pending"]),
        *(plan.patient.last_name for plan, _, _ in digest["non_adherent"]),
        *(plan.patient.last_name for plan in digest["expiring"]),
        *(s.patient.last_name for s in digest["unsettled"]),
    }


def test_the_digest_tells_of_the_clinics_own_patients_only(clinics):
    troubles(clinics.ours)
    troubles(clinics.elsewhere)
    today = clinics.ours.patient.local_today()
    digest = selectors.digest_for(clinic=clinics.ours.clinic, today=today)
    assert [r.screening.patient.last_name for r in digest["referrals"]] == ["Ours"]
    assert [s.patient.last_name for s in digest["unsettled"]] == ["Ours"]
    assert "Elsewhere" not in patients_in(digest)


def test_the_digest_costs_four_queries_for_any_number_of_patients(
    clinics, clinician, django_assert_num_queries
):
    clinic, today = clinician.clinic, clinics.ours.patient.local_today()
    troubles(clinics.ours)
    with django_assert_num_queries(4):  # pending, active plans, unsettled pain, referrals
        few = patients_in(selectors.digest_for(clinic=clinic, today=today))
    for n in range(3):
        troubles(episode(clinic, clinician.user, last_name=f"More{n}"))
    with django_assert_num_queries(4):
        many = patients_in(selectors.digest_for(clinic=clinic, today=today))
    assert many == few | {"More0", "More1", "More2"}


def test_a_digest_is_due_to_the_active_clinicians_whose_clinic_is_at_that_hour(db):
    london = ClinicianFactory(clinic=ClinicFactory(timezone="Europe/London"))
    tokyo = ClinicianFactory(clinic=ClinicFactory(timezone="Asia/Tokyo"))
    away = ClinicianFactory(clinic=london.clinic)
    User.objects.filter(pk=away.user_id).update(is_active=False)
    seven_in_london = dt.datetime(2026, 3, 2, 7, 15, tzinfo=dt.UTC)  # 16:15 in Tokyo
    assert selectors.clinicians_at_local_hour(now=seven_in_london, hour=7) == [london]
    assert selectors.clinicians_at_local_hour(now=seven_in_london, hour=16) == [tokyo]
