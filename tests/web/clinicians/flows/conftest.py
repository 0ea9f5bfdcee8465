"""What the clinician's flow tests share: a fixed day, a patient, and reading the pages
they post."""

from __future__ import annotations

import re

import pytest
from freezegun import freeze_time

from rehab import services
from rehab.clinical import levels as L
from rehab.models import Plan, Screening
from tests.factories import PatientFactory, builtin_protocol, clean_answers


@pytest.fixture(autouse=True)
def _today():
    with freeze_time("2026-03-02 10:00:00"):
        yield


def html_of(response) -> str:
    return response.content.decode()


def value_attr(html: str, name: str) -> str | None:
    """The value attribute of the input named `name`, as rendered."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def checked(html: str, name: str, value: str) -> bool:
    for tag in re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html):
        if f'value="{value}"' in tag:
            return "checked" in tag
    raise AssertionError(f"no input {name}={value}")


def answers_post(answers: dict) -> dict:
    """Screening answers as the form posts them."""
    data = {}
    for code, value in answers.items():
        if code == "condition" or value is None:
            continue
        if isinstance(value, bool):
            data[code] = "yes" if value else "no"
        else:
            data[code] = str(value)
    return data


def patient_data(**overrides) -> dict:
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1950-12-10",
        "email": "ada@example.org",
        "phone": "+44 7700 900123",
        "timezone": "Europe/London",
        "condition": L.KNEE_OA,
        "external_id": "MRN-1",
        "reminder_channel": "email",
        "reminder_time": "08:30",
        "reminders_enabled": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, first_name="Grace", last_name="Hopper")


def screen(patient, **overrides) -> Screening:
    return services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition, **overrides), actor=None
    )


def assign(patient, **kwargs) -> Plan:
    return services.plan_assign(
        patient=patient, protocol=builtin_protocol(patient.condition), actor=None, **kwargs
    )
