"""A clinic's own settings (rehab.services.clinics)."""

import pytest

from rehab import services
from rehab.errors import RehabError

pytestmark = pytest.mark.django_db


def test_unknown_clinic_setting_is_refused(clinic, actor):
    with pytest.raises(RehabError) as exc:
        services.clinic_update_screening_settings(clinic=clinic, settings={"tug": 3}, actor=actor)
    assert "screening_settings" in exc.value.fields
