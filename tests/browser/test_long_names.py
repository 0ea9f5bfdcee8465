"""A long unbroken name (60 letters, as some double-barrelled or transliterated names are to a
browser: one word) wraps inside its heading in both doors instead of running off a phone's
screen."""

from __future__ import annotations

import pytest

from rehab import services
from tests.factories import ClinicianFactory, PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}
LONG = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaf"  # 60 letters


def assert_heading_fits(page, selector: str = "h1") -> None:
    heading = page.locator(selector).first
    assert LONG in heading.inner_text()
    box = heading.bounding_box()
    overflow = heading.evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 0, f"{selector} overflows by {overflow}px"
    assert box["x"] + box["width"] <= PHONE["width"], box
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px"


def test_the_dashboards_patient_heading_wraps_a_long_name(page, live_server, sign_in, axe_check):
    clinician = ClinicianFactory(user__username="priya", clinic__timezone="UTC")
    patient = PatientFactory(clinic=clinician.clinic, first_name="Ana", last_name=LONG)
    page.set_viewport_size(PHONE)
    sign_in(page, "priya")
    page.goto(f"{live_server.url}/clinic/patients/{patient.pk}/")
    assert_heading_fits(page)
    # At a phone's width the wide tables scroll sideways inside their regions, each one a
    # named region a keyboard can reach and scroll (axe: scrollable-region-focusable).
    axe_check(page)


def test_the_portals_welcome_heading_wraps_a_long_name(page, live_server, axe_check):
    from django.core import mail

    clinician = ClinicianFactory(clinic__timezone="UTC")
    patient = PatientFactory(
        clinic=clinician.clinic, first_name=LONG, email="long@example.org", timezone="UTC"
    )
    services.patient_invite(patient=patient, actor=None)
    path = "/portal/invite/" + mail.outbox[-1].body.split("/portal/invite/", 1)[1].split()[0]
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + path)
    assert_heading_fits(page)
    axe_check(page)
