"""The clinic's contact details (phone, address, opening hours), edited by its administrators."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rehab import services
from rehab.errors import RehabError
from rehab.models import AuditEvent, Clinic
from tests.factories import ClinicFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("clinicians:clinic_details")
DETAILS = {
    "phone": "+44 161 496 0000",
    "address": "1 River Street\r\nManchester M1 1AA",
    "opening_hours": "Monday to Friday 8:00-18:00",
}


def test_an_administrator_sees_the_form_and_the_menu_links_it(admin_dashboard, clinic):
    clinic.phone = "0161 496 0000"
    clinic.save()
    response = admin_dashboard.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="0161 496 0000"' in html
    assert 'type="tel"' in html
    assert f'href="{URL}" aria-current="page"' in html


def test_saving_the_details_keeps_them_and_is_audited(admin_dashboard, clinic, clinic_admin):
    response = admin_dashboard.post(URL, DETAILS)
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.phone == "+44 161 496 0000"
    assert clinic.address == "1 River Street\nManchester M1 1AA"
    assert clinic.opening_hours == "Monday to Friday 8:00-18:00"
    event = AuditEvent.objects.get(action="clinic.contact")
    assert event.actor == clinic_admin.user
    assert event.clinic == clinic
    assert event.detail == {"fields": ["address", "opening_hours", "phone"]}
    assert "0000" not in str(event.detail)  # names of fields, not their values


@pytest.mark.parametrize("phone", ["call us", "12", "+44 161 496 0000 0000 0000", "0161<b>"])
def test_a_phone_nobody_can_dial_is_a_field_error_and_everything_typed_is_kept(
    admin_dashboard, clinic, phone
):
    response = admin_dashboard.post(URL, {**DETAILS, "phone": phone})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["phone"] == [
        "Enter a phone number people can dial, for example +44 161 496 0000 or 0161 496 0000."
    ]
    html = response.content.decode()
    assert 'id="id_phone_error"' in html
    assert "Monday to Friday 8:00-18:00" in html
    clinic.refresh_from_db()
    assert clinic.phone == ""
    assert clinic.address == ""
    assert not AuditEvent.objects.filter(action="clinic.contact").exists()


def test_an_address_too_long_is_a_field_error(admin_dashboard):
    response = admin_dashboard.post(URL, {**DETAILS, "address": "x" * 501})
    assert response.status_code == 400
    assert "address" in response.context["form"].errors


def test_an_administrator_edits_only_their_own_clinic(admin_dashboard, clinic):
    other = ClinicFactory(name="Elsewhere")
    admin_dashboard.post(URL, DETAILS)
    other.refresh_from_db()
    assert other.phone == ""
    assert Clinic.objects.get(pk=clinic.pk).phone == DETAILS["phone"]


def test_a_clinician_who_is_not_an_administrator_is_refused(dashboard, clinic):
    assert dashboard.get(URL).status_code == 403
    assert dashboard.post(URL, DETAILS).status_code == 403
    clinic.refresh_from_db()
    assert clinic.phone == ""
    assert (
        'href="/clinic/team/clinic/"'
        not in dashboard.get(reverse("clinicians:today")).content.decode()
    )


def test_a_patient_is_sent_to_the_portal_and_an_anonymous_caller_to_sign_in(client, clinic):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("clinicians:login"))
    patient = PatientFactory(clinic=clinic, user=UserFactory())
    client.force_login(patient.user)
    response = client.post(URL, DETAILS)
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:today")
    clinic.refresh_from_db()
    assert clinic.phone == ""


def test_the_page_costs_a_fixed_number_of_queries(admin_dashboard, django_assert_num_queries):
    admin_dashboard.get(URL)  # the first request refreshes the session; count a steady one
    # session, user, clinician with clinic
    with django_assert_num_queries(3):
        assert admin_dashboard.get(URL).status_code == 200


def test_saving_costs_a_fixed_number_of_queries(admin_dashboard, django_assert_num_queries):
    admin_dashboard.get(URL)
    # session, user, clinician, then the service: savepoint, lock, slug check, update, audit
    # (with its chain), release
    with django_assert_num_queries(9):
        assert admin_dashboard.post(URL, DETAILS).status_code == 302


def test_the_service_refuses_a_bad_phone_for_every_door(clinic, clinic_admin):
    with pytest.raises(RehabError) as caught:
        services.clinic_update_contact(
            clinic=clinic, actor=clinic_admin.user, phone="ring", address="", opening_hours=""
        )
    assert caught.value.status == 400
    assert list(caught.value.fields) == ["phone"]
