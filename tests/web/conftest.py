"""Fixtures for the dashboard and portal view tests: signed-in clients of one clinic, and a
patient of another clinic that none of them may reach."""

from __future__ import annotations

import pytest

from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Riverside Physiotherapy", slug="riverside")


@pytest.fixture
def clinician(clinic):
    return ClinicianFactory(clinic=clinic, user__first_name="Priya", user__last_name="Patel")


@pytest.fixture
def clinic_admin(clinic):
    return ClinicianFactory(clinic=clinic, is_clinic_admin=True, user__last_name="Hughes")


@pytest.fixture
def dashboard(client, clinician):
    """A signed-in clinician's browser session."""
    client.force_login(clinician.user)
    return client


@pytest.fixture
def admin_dashboard(client, clinic_admin):
    client.force_login(clinic_admin.user)
    return client


@pytest.fixture
def stranger(db):
    """A patient of another clinic."""
    return PatientFactory(clinic=ClinicFactory(name="Elsewhere"))
