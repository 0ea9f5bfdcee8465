"""The clinician's flows: a new patient, and editing a patient's details."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from rehab.clinical import levels as L
from rehab.models import AuditEvent, Patient
from tests.factories import PatientFactory
from tests.web.clinicians.flows.conftest import assign, html_of, patient_data, screen, value_attr

pytestmark = pytest.mark.django_db


# --- New patient ------------------------------------------------------------------------------


def test_new_patient_form_defaults_to_the_clinics_time_zone(dashboard, clinic):
    clinic.timezone = "Australia/Perth"
    clinic.save()
    response = dashboard.get(reverse("clinicians:patient_new"))
    assert response.status_code == 200
    assert re.search(r'<option value="Australia/Perth"[^>]*selected', html_of(response))
    assert 'aria-current="page">New patient' in html_of(response)


def test_new_patient_is_created_and_goes_on_to_the_screening(dashboard, clinic, clinician):
    response = dashboard.post(reverse("clinicians:patient_new"), patient_data())
    patient = Patient.objects.get(last_name="Lovelace")
    assert response.status_code == 302
    assert response.url == reverse("clinicians:screening_new", args=[patient.pk])
    assert patient.clinic == clinic
    assert patient.created_by == clinician.user
    assert patient.reminder_time == dt.time(8, 30)
    assert patient.date_of_birth == dt.date(1950, 12, 10)
    assert AuditEvent.objects.filter(action="patient.create", patient=patient).exists()


def test_new_patient_form_errors_keep_what_was_typed(dashboard):
    response = dashboard.post(
        reverse("clinicians:patient_new"),
        patient_data(last_name="", email="not-an-address", reminder_time="25:99"),
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "This field is required." in html
    assert "Enter a valid email address." in html
    assert "Enter a valid time." in html
    assert value_attr(html, "first_name") == "Ada"
    assert value_attr(html, "email") == "not-an-address"
    assert value_attr(html, "external_id") == "MRN-1"
    assert not Patient.objects.exists()


def test_new_patient_refused_by_the_service_keeps_what_was_typed(dashboard):
    response = dashboard.post(
        reverse("clinicians:patient_new"), patient_data(date_of_birth="2026-05-01")
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "The date of birth cannot be in the future." in html
    assert value_attr(html, "date_of_birth") == "2026-05-01"
    assert value_attr(html, "last_name") == "Lovelace"
    assert not Patient.objects.exists()


def test_new_patient_with_a_record_number_already_in_use_is_refused_in_words(dashboard, clinic):
    PatientFactory(clinic=clinic, external_id="MRN-1")
    response = dashboard.post(reverse("clinicians:patient_new"), patient_data())
    html = html_of(response)
    assert response.status_code == 400
    assert "Another patient of this clinic already has this record number." in html
    assert "all  :" not in html
    assert value_attr(html, "external_id") == "MRN-1"
    assert not Patient.objects.filter(last_name="Lovelace").exists()


def test_new_patient_with_an_unknown_time_zone_is_refused(dashboard):
    response = dashboard.post(reverse("clinicians:patient_new"), patient_data(timezone="Mars/Base"))
    assert response.status_code == 400
    assert "Select a valid choice" in html_of(response)


def test_anonymous_visitor_is_sent_to_sign_in(client, patient):
    for url in (
        reverse("clinicians:patient_new"),
        reverse("clinicians:patient_edit", args=[patient.pk]),
        reverse("clinicians:screening_new", args=[patient.pk]),
        reverse("clinicians:plan_assign", args=[patient.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("clinicians:login"))


# --- Edit patient -----------------------------------------------------------------------------


def test_edit_patient_shows_the_current_details_and_audits_the_read(dashboard, patient):
    response = dashboard.get(reverse("clinicians:patient_edit", args=[patient.pk]))
    html = html_of(response)
    assert response.status_code == 200
    assert value_attr(html, "first_name") == "Grace"
    assert value_attr(html, "email") == patient.email
    assert AuditEvent.objects.filter(action="patient.read", patient=patient).count() == 1


def test_edit_patient_saves_and_returns_to_the_patient_page(dashboard, patient):
    data = patient_data(first_name="Grace", last_name="Brewster", condition=patient.condition)
    response = dashboard.post(reverse("clinicians:patient_edit", args=[patient.pk]), data)
    assert response.status_code == 302
    assert response.url == reverse("clinicians:patient", args=[patient.pk])
    patient.refresh_from_db()
    assert patient.last_name == "Brewster"
    assert patient.reminder_channel == "email"
    event = AuditEvent.objects.get(action="patient.update", patient=patient)
    assert "last_name" in event.detail["fields"]


def test_edit_condition_while_a_plan_is_open_is_refused_with_input_kept(dashboard, patient):
    screen(patient)
    assign(patient)
    data = patient_data(last_name="Typed", condition=L.PATELLOFEMORAL_PAIN)
    response = dashboard.post(reverse("clinicians:patient_edit", args=[patient.pk]), data)
    html = html_of(response)
    assert response.status_code == 409
    assert "A plan is open for the current condition." in html
    assert value_attr(html, "last_name") == "Typed"
    assert "<h1>Edit Grace Hopper</h1>" in html  # the heading still shows the stored name
    patient.refresh_from_db()
    assert (patient.last_name, patient.condition) == ("Hopper", L.KNEE_OA)


def test_another_clinics_patient_cannot_be_edited(dashboard, stranger):
    url = reverse("clinicians:patient_edit", args=[stranger.pk])
    assert dashboard.get(url).status_code == 404
    assert dashboard.post(url, patient_data()).status_code == 404
    stranger.refresh_from_db()
    assert stranger.first_name != "Ada"
