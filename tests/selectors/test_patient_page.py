"""The dashboard's patient page (rehab.selectors.patient_page): one capped query per section,
whatever the record's size, and nobody but the clinic's staff reads it. What the page shows of
it: tests/web/clinicians/test_patient_page.py."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.models import Patient, Plan
from tests.factories import good_session
from tests.selectors.conftest import episode

pytestmark = pytest.mark.django_db

# plans, sessions, decisions, screenings, outcomes, reminders, reports, notes, audit events,
# open referrals
PAGE_QUERIES = 10


def read_everything(page) -> list:
    """Touch what the template touches, so a lazy relation shows as a query."""
    return [
        *((row.level_name, row.logged_by, row.log.date) for row in page.sessions),
        *((row.decision.decided_by, row.decision.plan_id) for row in page.decisions),
        *((row.screening.screened_by, row.valid_today) for row in page.screenings),
        *(row.requested_by for row in page.reports),
        *((row.author, row.note.text) for row in page.notes),
    ]


def test_the_page_costs_the_same_queries_for_one_session_or_forty(
    clinics, clinician, django_assert_num_queries
):
    busy = episode(clinician.clinic, clinician.user, last_name="Busy")
    today = busy.patient.local_today()
    start = today - dt.timedelta(days=60)
    Plan.objects.filter(pk=busy.pk).update(start_date=start)
    busy.refresh_from_db()
    for n in range(40):
        day = start + dt.timedelta(days=n)
        if not busy.sessions.filter(date=day).exists():
            services.session_log(plan=busy, actor=None, date=day, today=today, **good_session())
    for patient in (clinics.ours.patient, busy.patient):
        with django_assert_num_queries(PAGE_QUERIES):
            page = selectors.patient_page(principal=clinics.clinician, patient=patient)
            read_everything(page)
        assert page.patient == patient
    assert len(page.sessions) < busy.sessions.count()  # capped


@pytest.mark.parametrize("who", ["patient", "another_clinic"])
def test_only_the_clinics_staff_read_the_page(clinics, who):
    if who == "patient":
        principal, patient = clinics.patient, clinics.ours.patient
    else:
        principal, patient = clinics.clinician, clinics.elsewhere.patient
    with pytest.raises(Patient.DoesNotExist):
        selectors.patient_page(principal=principal, patient=patient)


def test_the_page_has_the_records_sections(clinics):
    page = selectors.patient_page(principal=clinics.api_key, patient=clinics.ours.patient)
    assert page.plan is not None
    assert [len(s) for s in (page.sessions, page.screenings, page.reports, page.notes)] == [
        1,
        1,
        2,
        1,
    ]
    assert page.screening_valid
    assert page.referrals == ()
