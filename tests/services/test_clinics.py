"""A clinic's own settings (rehab.services.clinics): screening thresholds and the contact details
patients see, audited by field name. The page: tests/web/clinicians/test_clinic_details.py."""

import pytest

from rehab import services
from rehab.errors import RehabError
from rehab.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_unknown_clinic_setting_is_refused(clinic, actor):
    with pytest.raises(RehabError) as exc:
        services.clinic_update_screening_settings(clinic=clinic, settings={"tug": 3}, actor=actor)
    assert "screening_settings" in exc.value.fields


# --- Contact details ------------------------------------------------------------------------------


def contact(clinic, actor, **overrides):
    values = {"phone": "+44 161 496 0000", "address": "1 River Street", "opening_hours": ""}
    return services.clinic_update_contact(clinic=clinic, actor=actor, **{**values, **overrides})


def test_text_from_a_browser_is_kept_with_plain_line_breaks_and_no_edges(clinic, actor):
    contact(
        clinic,
        actor,
        phone="  0161 496 0000 ",
        address="1 River Street\r\nManchester M1 1AA\r\n",
        opening_hours=" Mon-Fri\r\n8:00-18:00 ",
    )
    clinic.refresh_from_db()
    assert clinic.phone == "0161 496 0000"
    assert clinic.address == "1 River Street\nManchester M1 1AA"
    assert clinic.opening_hours == "Mon-Fri\n8:00-18:00"


def test_the_audit_names_only_what_changed(clinic, actor):
    contact(clinic, actor)
    contact(clinic, actor, opening_hours="Mon-Fri 8:00-18:00")
    contact(clinic, actor, opening_hours="Mon-Fri 8:00-18:00")
    details = [
        e.detail
        for e in AuditEvent.objects.filter(action="clinic.contact", clinic=clinic).order_by("id")
    ]
    assert details == [
        {"fields": ["address", "phone"]},
        {"fields": ["opening_hours"]},
        {"fields": []},
    ]


def test_the_details_can_be_cleared(clinic, actor):
    contact(clinic, actor)
    contact(clinic, actor, phone="", address="", opening_hours="")
    clinic.refresh_from_db()
    assert (clinic.phone, clinic.address, clinic.opening_hours) == ("", "", "")


def test_a_refused_change_keeps_the_details_as_they_were(clinic, actor):
    contact(clinic, actor)
    with pytest.raises(RehabError) as refused:
        contact(clinic, actor, phone="0161 496 0001", address="x" * 501)
    assert list(refused.value.fields) == ["address"]
    clinic.refresh_from_db()
    assert (clinic.phone, clinic.address) == ("+44 161 496 0000", "1 River Street")
    assert AuditEvent.objects.filter(action="clinic.contact").count() == 1
