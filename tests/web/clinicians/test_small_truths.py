"""Small things the pages said that were not true (issue 11, §6): a count of one in the plural,
an incomplete or blocked verdict "valid until" a date, a blocked verdict whose levels "apply as
written"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from rehab.clinical import levels as L
from rehab.models import Reminder, Screening
from tests.factories import TODAY, PatientFactory, builtin_protocol, clean_answers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with freeze_time("2026-03-02 10:00:00"):
        yield


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, first_name="Grace", last_name="Hopper")


def screen(patient, **answers) -> Screening:
    return services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition, **answers), actor=None
    )


def text_of(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html)


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def result(dashboard, screening: Screening) -> str:
    return text_of(dashboard.get(reverse("clinicians:screening_result", args=[screening.pk])))


# --- verdicts -----------------------------------------------------------------------------------


def test_an_incomplete_verdict_is_not_valid_until_a_date_and_has_no_constraints_yet(
    dashboard, patient
):
    answers = clean_answers(patient.condition)
    del answers["suspected_dvt"]
    screening = services.screening_submit(patient=patient, answers=answers, actor=None)
    assert screening.status == "incomplete"
    text = result(dashboard, screening)
    assert "Valid until" not in text
    assert "No verdict until the missing questions are answered" in text
    assert "every level applies as written" not in text
    assert "Not known until the missing questions are answered." in text

    rows = section(
        dashboard.get(reverse("clinicians:patient", args=[patient.pk])).content.decode(),
        "screenings",
    )
    assert "No verdict: questions not answered" in rows
    assert "Yes, until" not in rows
    assert "Not known yet" in rows


def test_an_overridable_block_says_until_when_it_can_be_overridden(dashboard, patient):
    screening = screen(patient, fever_or_systemic_infection=True)
    assert (screening.status, screening.referral) == ("blocked", "routine")
    text = result(dashboard, screening)
    assert "Valid until" not in text
    assert (
        "Blocks any plan; an override with a written reason is possible until 31 May 2026" in text
    )
    assert "Constraints on a plan started with an override" in text
    assert "every level applies as written" not in text.replace("takes every level as written", "")
    assert (
        "None beyond the block: a plan started with an override takes every level as written."
        in text
    )

    assign = text_of(dashboard.get(reverse("clinicians:plan_assign", args=[patient.pk])))
    assert "valid until" not in assign.lower()
    assert "an override with a written reason is possible until 31 May 2026" in assign

    rows = section(
        dashboard.get(reverse("clinicians:patient", args=[patient.pk])).content.decode(),
        "screenings",
    )
    assert "Blocks any plan; an override is possible until 31 May 2026" in rows
    assert "Yes, until" not in rows


def test_a_block_that_cannot_be_overridden_says_no_plan_can_start(dashboard, clinic):
    patient = PatientFactory(clinic=clinic, condition=L.CHRONIC_LOW_BACK_PAIN)
    screening = screen(patient, saddle_anaesthesia=True)
    text = result(dashboard, screening)
    assert "Valid until" not in text
    assert "Blocks any plan: the referral comes first" in text
    assert "None apply: no plan can start on this verdict." in text
    assert "every level applies as written" not in text

    assign = text_of(dashboard.get(reverse("clinicians:plan_assign", args=[patient.pk])))
    assert "valid until" not in assign.lower()
    assert "every level applies as written" not in assign

    rows = section(
        dashboard.get(reverse("clinicians:patient", args=[patient.pk])).content.decode(),
        "screenings",
    )
    assert "Blocks any plan" in rows
    assert "override" not in rows


def test_a_cleared_verdict_is_still_valid_until_its_date(dashboard, patient):
    text = result(dashboard, screen(patient))
    assert "Valid until 31 May 2026" in text
    assert "None: every level applies as written." in text


# --- counts -------------------------------------------------------------------------------------


def reminders(patient, count: int) -> None:
    screen(patient)
    plan = services.plan_assign(
        patient=patient, protocol=builtin_protocol(patient.condition), actor=None
    )
    for days in range(count):
        due = TODAY - dt.timedelta(days=days)
        Reminder.objects.create(
            patient=patient,
            plan=plan,
            due_date=due,
            channel="email",
            scheduled_for=dt.datetime(due.year, due.month, due.day, 9, tzinfo=dt.UTC),
            status="sent",
        )


def test_one_reminder_is_not_the_latest_1_reminders(dashboard, patient):
    reminders(patient, 1)
    rows = section(
        dashboard.get(reverse("clinicians:patient", args=[patient.pk])).content.decode(),
        "reminders",
    )
    assert "The latest 1 reminder." in rows
    assert "1 reminders" not in rows
    assert "newest first" not in rows


def test_two_reminders_are_plural_and_newest_first(dashboard, patient):
    reminders(patient, 2)
    rows = section(
        dashboard.get(reverse("clinicians:patient", args=[patient.pk])).content.decode(),
        "reminders",
    )
    assert "The latest 2 reminders, newest first." in rows


# --- capped level names -------------------------------------------------------------------------

# Level 2 of the knee protocol as written; a fall-risk screening caps it at 1.5 km/h.
AS_WRITTEN = "10 min at 2.0 km/h, both rails"
CAPPED = "10 min at 1.5 km/h, both rails"


@pytest.fixture
def capped_plan(patient):
    screen(patient, feels_unsteady=True)  # fall-risk constraints: at most 1.5 km/h
    plan = services.plan_assign(
        patient=patient, protocol=builtin_protocol(patient.condition), actor=None
    )
    assert plan.levels[1]["name"] == f"Level 2: {AS_WRITTEN}"
    services.plan_set_level(plan=plan, level=1, actor=None, reason="Walks well on the rails")
    plan.refresh_from_db()
    return plan


def test_the_patient_page_names_the_level_by_its_capped_prescription(dashboard, capped_plan):
    html = dashboard.get(reverse("clinicians:patient", args=[capped_plan.patient.pk]))
    text = section(html.content.decode(), "plan")
    assert "Level 2 of" in text
    assert CAPPED in text
    assert AS_WRITTEN not in text_of(html)


def test_the_today_list_names_the_level_by_its_capped_prescription(dashboard, capped_plan):
    text = text_of(dashboard.get(reverse("clinicians:today")))
    assert CAPPED in text
    assert AS_WRITTEN not in text


def test_the_plan_page_offers_levels_by_their_capped_names(dashboard, capped_plan):
    text = text_of(dashboard.get(reverse("clinicians:plan_manage", args=[capped_plan.pk])))
    assert f"Level 2: {CAPPED}" in text
    assert AS_WRITTEN not in text


def test_the_screening_result_page_query_count(dashboard, patient, django_assert_num_queries):
    screening = screen(patient, fever_or_systemic_infection=True)
    url = reverse("clinicians:screening_result", args=[screening.pk])
    dashboard.get(url)  # the session's first request refreshes its expiry: not counted
    # session, user, clinician; the screening with its patient, the current screening, the open
    # plan, the audit insert
    with django_assert_num_queries(7):
        dashboard.get(url)
