"""The Today list's need (rehab.selectors.dashboard_need): a score whose bits are the flags, most
urgent highest, read back without the rows; worked out live for one clinic's patients only. The
stored need and its refresh: tests/services/test_dashboard.py."""

from __future__ import annotations

import pytest

from rehab import selectors
from rehab.models import Patient
from tests.factories import TODAY, PatientFactory

pytestmark = pytest.mark.django_db


def test_one_urgent_flag_outranks_every_lesser_one_together():
    flags = selectors.DASHBOARD_FLAGS
    assert [f.code for f in flags[:3]] == ["referral_emergency", "referral_urgent", "safety_pause"]
    for rank, flag in enumerate(flags):
        assert flag.weight > sum(lesser.weight for lesser in flags[rank + 1 :])


def test_a_need_reads_back_as_its_flags_most_urgent_first():
    by_code = selectors.DASHBOARD_FLAGS_BY_CODE
    need = by_code["no_plan"].weight | by_code["safety_pause"].weight
    assert [f.code for f in selectors.dashboard_flags_of(need)] == ["safety_pause", "no_plan"]
    assert selectors.dashboard_flags_of(0) == []


def test_the_live_need_is_the_clinics_patients_only(clinic, stranger):
    ours = PatientFactory(clinic=clinic)
    live = list(selectors.dashboard_needs_live(clinic=clinic, today=TODAY))
    assert [pk for pk, _, _ in live] == [ours.pk]
    (need,) = [need for _, need, _ in live]
    assert [f.code for f in selectors.dashboard_flags_of(need)] == ["screening_needed"]


def test_stale_only_leaves_out_a_patient_stored_for_the_day(clinic):
    fresh, stale = PatientFactory(clinic=clinic), PatientFactory(clinic=clinic)
    Patient.objects.filter(pk=fresh.pk).update(dashboard_day=TODAY)
    live = selectors.dashboard_needs_live(clinic=clinic, today=TODAY, stale_only=True)
    assert [pk for pk, _, _ in live] == [stale.pk]
