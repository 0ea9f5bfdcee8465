"""The webhooks pages' selectors (rehab.selectors.webhooks_page): an endpoint's delivery log,
newest first, paged, without its payloads, for the clinic's administrators only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.models import WebhookDelivery
from tests.factories import ClinicFactory, ClinicianFactory

pytestmark = pytest.mark.django_db


def endpoint_with_log(clinic, rows: int):
    endpoint, _ = services.webhook_endpoint_create(
        clinic=clinic, actor=None, url="https://hooks.example.org/in", events=["plan.paused"]
    )
    now = timezone.now()
    for n in range(rows):
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event="plan.paused",
            message_id=f"msg_{n:02d}",
            payload={"type": "plan.paused", "data": {"patient_id": 1}},
            status="failed",
            created_at=now - dt.timedelta(minutes=n),
            retry_until=now,
        )
    return endpoint


def test_the_log_is_newest_first_in_pages_without_payloads(django_assert_num_queries):
    admin = ClinicianFactory(is_clinic_admin=True)
    endpoint = endpoint_with_log(admin.clinic, selectors.WEBHOOK_LOG_PAGE_SIZE + 2)
    principal = principal_for_user(admin.user)
    paginator = selectors.webhook_log_paginator(principal, endpoint=endpoint)
    with django_assert_num_queries(2):  # the count, the page's rows
        first = list(paginator.get_page(1))
    assert [row.message_id for row in first[:3]] == ["msg_00", "msg_01", "msg_02"]
    assert len(first) == selectors.WEBHOOK_LOG_PAGE_SIZE
    assert "payload" in first[0].get_deferred_fields()
    assert [row.message_id for row in paginator.get_page(2)] == ["msg_25", "msg_26"]


def test_the_log_is_for_the_clinics_administrators_only():
    admin = ClinicianFactory(is_clinic_admin=True)
    clinician = ClinicianFactory(clinic=admin.clinic)
    outsider = ClinicianFactory(clinic=ClinicFactory(name="Elsewhere"), is_clinic_admin=True)
    endpoint = endpoint_with_log(admin.clinic, 2)
    assert selectors.webhook_log_for(principal_for_user(admin.user), endpoint=endpoint).count() == 2
    for other in (clinician, outsider):
        log = selectors.webhook_log_for(principal_for_user(other.user), endpoint=endpoint)
        assert not log.exists()
