"""The selectors' tests build their rows with the services' fixtures: a clinician of one clinic,
a patient of theirs, a clinic protocol with four known levels, a plan on it."""

from tests.services.conftest import (  # noqa: F401
    actor,
    auto_plan,
    clinic,
    clinician,
    ladder,
    patient,
    plan,
    screened,
)
