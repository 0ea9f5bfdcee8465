"""Webhooks in a real browser: a clinic administrator adds an endpoint, ticking its events by
their labels, sees its signing secret once with a copy button, and the list afterwards shows
the endpoint without it; axe finds nothing serious on the way."""

import pytest
from playwright.sync_api import expect

from rehab import webhooks
from rehab.models import WebhookEndpoint
from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_an_endpoint_and_see_its_secret_once(
    page, live_server, sign_in, axe_check, page_is_clean
):
    admin = ClinicianFactory(user__username="lead", is_clinic_admin=True, clinic__timezone="UTC")
    sign_in(page, "lead")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()

    page.get_by_label("URL").fill("https://hooks.example.org/retrowalk")
    page.get_by_label("A plan was paused", exact=False).check()
    page.get_by_label("A session was logged", exact=False).check()
    page.get_by_label("Description").fill("Patient record system")
    page.get_by_role("button", name="Add the endpoint").click()

    expect(page.get_by_role("heading", name="Your new endpoint's signing secret")).to_be_visible()
    endpoint = WebhookEndpoint.objects.get(clinic=admin.clinic)
    assert endpoint.events == ["plan.paused", "session.logged"]
    # The secret that signs its events.
    secret = webhooks.secret_for(endpoint.secret_seed)
    expect(page.get_by_label("The signing secret")).to_have_value(secret)
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    # The copy button appears where the browser has a clipboard (a secure context: localhost).
    expect(page.get_by_role("button", name="Copy the secret")).to_be_visible()
    table = page.get_by_role("region", name="Webhook endpoints table")
    expect(table).to_contain_text("https://hooks.example.org/retrowalk")
    expect(table).to_contain_text("plan.paused, session.logged")
    axe_check(page)
    page_is_clean()

    page.goto(live_server.url + "/clinic/webhooks/")
    expect(page.get_by_role("region", name="Webhook endpoints table")).to_contain_text("Enabled")
    assert secret not in page.content()
