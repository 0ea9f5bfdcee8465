"""A portal form kept over an ended sign-in (rehab.services.kept_forms): kept for the account
whose page it came from, handed back once to that account on that page, never shown to another
account, and gone after PORTAL_KEPT_FORM_HOURS. The pages: tests/web/portal/test_keep_input.py."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import services
from rehab.models import AuditEvent, KeptForm
from rehab.services.kept_forms import KEPT_ELSEWHERE, KEPT_GONE, KEPT_USE
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LOG = "/portal/log/"
WALK = {"minutes_done": ["30"], "pain_worst": ["3"], "notes": ["Knee felt steady"]}


@pytest.fixture
def member(patient):
    patient.user = UserFactory()
    patient.save()
    return patient


def keep(patient, *, path=LOG, data=WALK, now=NOW):
    return services.kept_form_keep(user_id=patient.user_id, path=path, data=data, now=now)


def test_a_form_is_kept_by_its_tokens_hash_and_audited_by_field_name(member, settings):
    settings.PORTAL_KEPT_FORM_HOURS = 6
    token = keep(member)
    kept = KeptForm.objects.get()
    assert token not in kept.token_hash
    assert (kept.user_id, kept.path, kept.data) == (member.user_id, LOG, WALK)
    assert kept.expires_at == NOW + dt.timedelta(hours=6)
    event = AuditEvent.objects.get(action="portal.form_kept")
    assert (event.actor, event.patient) == (member.user, member)
    assert event.detail == {"fields": ["minutes_done", "notes", "pain_worst"]}
    assert "steady" not in str(event.detail)


def test_only_a_working_patients_account_gets_a_form_kept(member, actor):
    assert services.kept_form_keep(user_id=actor.pk, path=LOG, data=WALK, now=NOW) is None
    services.patient_archive(patient=member, actor=actor)
    assert keep(member) is None
    assert not KeptForm.objects.exists()


def test_a_newer_form_replaces_the_accounts_older_one(member):
    keep(member, data={"minutes_done": ["20"]})
    token = keep(member)
    assert KeptForm.objects.count() == 1
    taken = services.kept_form_take(token=token, user=member.user, path=LOG, now=NOW)
    assert taken.data == WALK


def test_keeping_a_form_clears_anyones_expired_ones(member, settings):
    settings.PORTAL_KEPT_FORM_HOURS = 1
    other = PatientFactory(user=UserFactory())
    keep(other)
    keep(member, now=NOW + dt.timedelta(hours=1))
    assert list(KeptForm.objects.values_list("user_id", flat=True)) == [member.user_id]


def test_the_form_is_handed_back_once_on_its_own_page(member):
    token = keep(member)
    taken = services.kept_form_take(token=token, user=member.user, path=LOG, now=NOW)
    assert (taken.state, taken.data) == (KEPT_USE, WALK)
    assert not KeptForm.objects.exists()
    event = AuditEvent.objects.get(action="portal.form_kept_used")
    assert event.detail["reason"] == "used"
    again = services.kept_form_take(token=token, user=member.user, path=LOG, now=NOW)
    assert again.state == KEPT_GONE


def test_on_another_page_the_form_waits_for_its_own(member):
    token = keep(member)
    taken = services.kept_form_take(token=token, user=member.user, path="/portal/", now=NOW)
    assert (taken.state, taken.path, taken.data) == (KEPT_ELSEWHERE, LOG, None)
    assert KeptForm.objects.exists()


def test_another_account_never_sees_the_form_and_it_is_removed(member):
    token = keep(member)
    stranger = PatientFactory(user=UserFactory())
    taken = services.kept_form_take(token=token, user=stranger.user, path=LOG, now=NOW)
    assert (taken.state, taken.data) == (KEPT_GONE, None)
    assert not KeptForm.objects.exists()
    event = AuditEvent.objects.get(action="portal.form_kept_discarded")
    assert (event.actor, event.patient) == (stranger.user, member)
    assert event.detail["reason"] == "other_account"


def test_an_expired_form_is_removed_not_used(member, settings):
    settings.PORTAL_KEPT_FORM_HOURS = 2
    token = keep(member)
    later = NOW + dt.timedelta(hours=2)
    taken = services.kept_form_take(token=token, user=member.user, path=LOG, now=later)
    assert taken.state == KEPT_GONE
    assert not KeptForm.objects.exists()
    event = AuditEvent.objects.get(action="portal.form_kept_discarded")
    assert event.detail["reason"] == "expired"


def test_an_unknown_or_missing_token_finds_nothing(member):
    keep(member)
    assert services.kept_form_take(token="", user=member.user, path=LOG).state == KEPT_GONE
    assert services.kept_form_take(token="guess", user=member.user, path=LOG).state == KEPT_GONE
    assert KeptForm.objects.count() == 1  # the real one is untouched


def test_the_purge_counts_what_it_removed(member, settings):
    settings.PORTAL_KEPT_FORM_HOURS = 1
    keep(member)
    assert services.kept_forms_purge(now=NOW + dt.timedelta(minutes=59)) == 0
    assert services.kept_forms_purge(now=NOW + dt.timedelta(hours=1)) == 1
    assert not KeptForm.objects.exists()
