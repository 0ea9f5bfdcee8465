"""The protocol library's selectors (rehab.selectors.library_page): the built-ins and the
clinic's own copies, never another clinic's; one protocol's page; who may edit it."""

from __future__ import annotations

import pytest

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.clinical import levels as L
from rehab.models import Protocol
from tests.factories import ClinicianFactory, UserFactory, builtin_protocol

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(db):
    other = ClinicianFactory()
    return services.protocol_copy(
        protocol=builtin_protocol(), clinic=other.clinic, actor=other.user, name="Theirs"
    )


def test_the_protocols_for_a_condition_are_the_builtin_then_the_clinics_own(
    ladder, clinician, foreign
):
    staff = principal_for_user(clinician.user)
    rows = list(selectors.protocols_for_condition(staff, condition=L.KNEE_OA))
    assert rows == [builtin_protocol(L.KNEE_OA), ladder]
    assert selectors.protocols_for_condition(staff, condition=L.CHRONIC_LOW_BACK_PAIN).count() == 1


def test_the_library_costs_one_query_with_each_protocols_levels_counted(
    ladder, clinician, foreign, django_assert_num_queries
):
    staff = principal_for_user(clinician.user)
    with django_assert_num_queries(1):
        rows = [
            (p.name, p.level_count, p.based_on_id)
            for p in selectors.protocol_list_for_dashboard(staff)
        ]
    assert len(rows) == 6  # the five built-ins and the clinic's copy, not the other clinic's
    assert ("Test ladder", 4, builtin_protocol(L.KNEE_OA).pk) in rows
    assert "Theirs" not in [name for name, _, _ in rows]


def test_another_clinics_copy_has_no_page_here(clinician, foreign):
    with pytest.raises(Protocol.DoesNotExist):
        selectors.protocol_detail_for(principal_for_user(clinician.user), protocol_id=foreign.pk)


def test_a_protocols_page_has_its_levels_safety_and_settings(ladder, clinician):
    detail = selectors.protocol_detail_for(
        principal_for_user(clinician.user), protocol_id=ladder.pk
    )
    assert [row.minutes for row in detail.levels] == [10, 15, 20, 25]
    assert detail.safety  # the treadmill's instructions, at least
    assert detail.editable
    assert detail.progression == detail.progression_defaults  # no overrides yet


def test_only_the_clinics_own_copy_is_editable_and_only_by_its_staff(ladder, clinician, patient):
    staff = principal_for_user(clinician.user)
    assert selectors.protocol_is_editable_by(staff, ladder)
    assert not selectors.protocol_is_editable_by(staff, builtin_protocol())
    patient.user = UserFactory()
    patient.save()
    assert not selectors.protocol_is_editable_by(principal_for_user(patient.user), ladder)
