import datetime as dt

import pytest

from rehab import services
from rehab.clinical import levels as L
from tests.factories import (
    TODAY,
    ClinicFactory,
    ClinicianFactory,
    PatientFactory,
    builtin_protocol,
    clean_answers,
)

LADDER = [
    {
        "name": f"Level {i + 1}",
        "minutes": 10 + 5 * i,
        "sessions_per_week": 3,
        "speed_kmh": 1.5,
        "incline_pct": 0,
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "min_days": 3,
    }
    for i in range(4)
]


@pytest.fixture
def clinician(db):
    return ClinicianFactory()


@pytest.fixture
def clinic(clinician):
    return clinician.clinic


@pytest.fixture
def actor(clinician):
    return clinician.user


@pytest.fixture
def ladder(clinic, actor):
    """A clinic protocol with four known levels: 10, 15, 20, 25 min; 3 days each at least."""
    copy = services.protocol_copy(
        protocol=builtin_protocol(L.KNEE_OA), clinic=clinic, actor=actor, name="Test ladder"
    )
    return services.protocol_update(protocol=copy, actor=actor, levels=LADDER)


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic)


@pytest.fixture
def stranger(db):
    """A patient of another clinic."""
    return PatientFactory(clinic=ClinicFactory(name="Elsewhere"))


@pytest.fixture
def screened(patient, actor):
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=actor, today=TODAY
    )
    return patient


@pytest.fixture
def plan(screened, ladder, actor):
    return services.plan_assign(
        patient=screened, protocol=ladder, actor=actor, start_date=TODAY, today=TODAY
    )


@pytest.fixture
def auto_plan(screened, ladder, actor):
    return services.plan_assign(
        patient=screened,
        protocol=ladder,
        actor=actor,
        start_date=TODAY,
        auto_apply=True,
        today=TODAY,
    )


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)
