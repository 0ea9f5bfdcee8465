"""Erasing a record at the dashboard (clinic administrators, behind a typed confirmation, POST
only) and the retention review (archived or discharged patients past the clinic's period)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from rehab.audit import AuditAction
from rehab.models import AuditEvent, Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, first_name="Maria", last_name="Lopez", external_id="MRN-1")


def erase_url(patient) -> str:
    return reverse("clinicians:patient_erase", args=[patient.pk])


def test_an_administrator_erases_after_typing_the_record_number(admin_dashboard, patient):
    page = admin_dashboard.get(erase_url(patient))
    assert page.status_code == 200
    assert "Type MRN-1 exactly." in page.content.decode()

    response = admin_dashboard.post(
        erase_url(patient), {"confirm": "MRN-1", "reason": "patient_request"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("clinicians:retention")
    erased = Patient.objects.get(pk=patient.pk)
    assert erased.erased_at is not None
    assert erased.first_name == "Erased"
    # Gone from every page: the patient page, the archived list, the search.
    assert admin_dashboard.get(reverse("clinicians:patient", args=[patient.pk])).status_code == 404
    listed = admin_dashboard.get(reverse("clinicians:today"), {"status": "archived"})
    assert f"/clinic/patients/{patient.pk}/" not in listed.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.PATIENT_ERASE).count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"confirm": "MRN-2", "reason": "patient_request"}, "confirm"),
        ({"confirm": "", "reason": "patient_request"}, "confirm"),
        ({"confirm": "MRN-1", "reason": "because"}, "reason"),
    ],
)
def test_a_wrong_confirmation_is_a_form_error_and_nothing_is_erased(
    admin_dashboard, patient, data, field
):
    response = admin_dashboard.post(erase_url(patient), data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Patient.objects.get(pk=patient.pk).erased_at is None


def test_a_clinician_who_is_not_an_administrator_cannot_erase(dashboard, patient):
    assert dashboard.get(erase_url(patient)).status_code == 403
    response = dashboard.post(erase_url(patient), {"confirm": "MRN-1", "reason": "patient_request"})
    assert response.status_code == 403
    assert Patient.objects.get(pk=patient.pk).erased_at is None
    page = dashboard.get(reverse("clinicians:patient", args=[patient.pk])).content.decode()
    assert erase_url(patient) not in page


def test_another_clinics_patient_is_a_404(admin_dashboard, stranger):
    assert admin_dashboard.get(erase_url(stranger)).status_code == 404
    response = admin_dashboard.post(
        erase_url(stranger), {"confirm": str(stranger.pk), "reason": "patient_request"}
    )
    assert response.status_code == 404
    assert Patient.objects.get(pk=stranger.pk).erased_at is None


def test_anonymous_is_sent_to_sign_in(client, patient):
    for url in (erase_url(patient), reverse("clinicians:retention")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/clinic/login/")


# --- retention review ----------------------------------------------------------------------------


def archived(clinic, *, years_ago: float, **fields) -> Patient:
    patient = PatientFactory(clinic=clinic, **fields)
    when = timezone.now() - dt.timedelta(days=365.25 * years_ago)
    Patient.objects.filter(pk=patient.pk).update(archived_at=when, created_at=when)
    return patient


def test_the_review_lists_archived_patients_past_the_period_oldest_first(admin_dashboard, clinic):
    old = archived(clinic, years_ago=12, last_name="Oldest")
    older_than_period = archived(clinic, years_ago=11, last_name="Older")
    archived(clinic, years_ago=3, last_name="Recent")
    PatientFactory(clinic=clinic, last_name="Active")
    archived(PatientFactory().clinic, years_ago=20, last_name="Elsewhere")

    response = admin_dashboard.get(reverse("clinicians:retention"))

    assert response.status_code == 200
    assert [p.pk for p in response.context["rows"]] == [old.pk, older_than_period.pk]
    page = response.content.decode()
    assert erase_url(old) in page
    assert "Recent" not in page
    assert "Elsewhere" not in page
    event = AuditEvent.objects.get(action=AuditAction.PATIENT_LIST)
    assert event.detail["patients"] == [old.pk, older_than_period.pk]


def test_the_review_follows_the_clinics_period(admin_dashboard, clinic):
    recent = archived(clinic, years_ago=3)
    response = admin_dashboard.post(
        reverse("clinicians:retention_settings"),
        {"retention_years": "2", "erasure_legal_hold": "on"},
    )
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.retention_years == 2
    assert clinic.erasure_legal_hold
    rows = admin_dashboard.get(reverse("clinicians:retention")).context["rows"]
    assert [p.pk for p in rows] == [recent.pk]


def test_the_legal_hold_can_be_turned_off(admin_dashboard, clinic):
    admin_dashboard.post(reverse("clinicians:retention_settings"), {"retention_years": "10"})
    clinic.refresh_from_db()
    assert not clinic.erasure_legal_hold


def test_a_bad_period_is_a_field_error(admin_dashboard, clinic):
    response = admin_dashboard.post(
        reverse("clinicians:retention_settings"), {"retention_years": "0"}
    )
    assert response.status_code == 400
    assert "retention_years" in response.context["form"].errors
    clinic.refresh_from_db()
    assert clinic.retention_years == 10


def test_a_clinician_who_is_not_an_administrator_cannot_see_the_review(dashboard):
    assert dashboard.get(reverse("clinicians:retention")).status_code == 403
    response = dashboard.post(reverse("clinicians:retention_settings"), {"retention_years": "1"})
    assert response.status_code == 403


def test_the_review_costs_the_same_queries_for_one_patient_or_a_full_page(
    admin_dashboard, clinic, django_assert_num_queries
):
    archived(clinic, years_ago=12)
    admin_dashboard.get(reverse("clinicians:retention"))
    with django_assert_num_queries(REVIEW_QUERIES):
        admin_dashboard.get(reverse("clinicians:retention"))
    for _ in range(60):
        archived(clinic, years_ago=12)
    with django_assert_num_queries(REVIEW_QUERIES):
        response = admin_dashboard.get(reverse("clinicians:retention"), {"page": "2"})
    assert len(response.context["rows"]) == 11


# Sign-in (session, user, principal), the page's count and rows, and the audit event.
REVIEW_QUERIES = 6
