"""A patient's input is never lost to an ended sign-in: "keep me signed in on this device", the
guided timer's keepalive, and a form sent after the sign-in ended, kept and saved after signing
in again (patients/keep.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from patients import keep
from rehab.clinical import levels as L
from rehab.models import AuditEvent, KeptForm, SessionLog
from tests.factories import ClinicianFactory, UserFactory, active_plan

NOW = "2026-03-02 10:00"  # Monday, TODAY of the factories
LOGIN_URL = reverse("patients:login")
LOG_URL = reverse("patients:session_log")
TODAY_URL = reverse("patients:today")
KEEPALIVE_URL = reverse("patients:keepalive")
IDLE = dt.timedelta(minutes=31)  # past SESSION_COOKIE_AGE (30 minutes)


@pytest.fixture
def plan(db):
    plan = active_plan()
    plan.patient.user = UserFactory(username="maria", email="maria@example.org")
    plan.patient.save()
    return plan


@pytest.fixture
def other_plan(db):
    """Another patient of the same clinic, who might pick up the same phone."""
    plan = active_plan()
    plan.patient.user = UserFactory(username="ben", email="ben@example.org")
    plan.patient.save()
    return plan


def _sign_in(client, username="maria", *, remember=False, next_url=""):
    data = {"username": username, "password": "pw"}
    if remember:
        data["remember"] = "on"
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN_URL, data)


def _walk(**overrides) -> dict:
    data = {
        "date": "2026-03-02",
        "minutes_done": "28",
        "setting": L.TREADMILL_BOTH_HANDRAILS,
        "speed_kmh": "1.5",
        "pain_before": "2",
        "pain_worst": "3",
        "pain_after": "2",
        "effort": "3",
        "swelling": "none",
        "notes": "A long one",
    }
    data.update(overrides)
    return data


def _kept_for(response) -> str:
    found = re.search(rf'name="{keep.KEPT_FOR_FIELD}" value="([^"]+)"', response.content.decode())
    assert found, "the form carries no kept-for field"
    return found.group(1)


def _csrf(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


# --- Keep me signed in ---------------------------------------------------------------------------


def test_the_portal_sign_in_offers_keep_me_signed_in_unticked(client):
    page = client.get(LOGIN_URL).content.decode()
    assert 'name="remember"' in page
    assert "Keep me signed in on this device" in page
    assert not re.search(r'name="remember"[^>]*checked', page)
    assert "30 days" in page
    # The dashboard's sign-in does not offer it: clinic computers are shared.
    assert 'name="remember"' not in client.get(reverse("clinicians:login")).content.decode()


def test_without_keep_me_signed_in_a_patient_is_signed_out_after_30_idle_minutes(client, plan):
    with freeze_time(NOW) as clock:
        _sign_in(client)
        assert client.get(TODAY_URL).status_code == 200
        clock.tick(IDLE)
        response = client.get(TODAY_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_keep_me_signed_in_keeps_a_patient_signed_in_for_the_configured_days(
    client, plan, settings
):
    settings.PORTAL_REMEMBER_DAYS = 14
    with freeze_time(NOW) as clock:
        response = _sign_in(client, remember=True)
        assert response.status_code == 302
        assert response.cookies["sessionid"]["max-age"] == 14 * 24 * 60 * 60
        clock.tick(dt.timedelta(days=13))
        assert client.get(TODAY_URL).status_code == 200
        # Each visit starts the days again; 14 days without one signs out.
        clock.tick(dt.timedelta(days=14, minutes=1))
        assert client.get(TODAY_URL).status_code == 302
    event = AuditEvent.objects.get(action="portal.remember_device")
    assert event.patient == plan.patient
    assert event.detail == {"days": 14}


def test_a_clinician_ticking_keep_me_signed_in_on_the_portal_keeps_the_idle_rule(client, db):
    ClinicianFactory(user__username="priya")
    with freeze_time(NOW) as clock:
        _sign_in(client, "priya", remember=True)
        assert client.session.get_expiry_age() == 30 * 60
        clock.tick(IDLE)
        response = client.get(reverse("clinicians:today"))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="portal.remember_device").exists()


def test_no_remember_choice_when_the_setting_is_zero(client, settings):
    settings.PORTAL_REMEMBER_DAYS = 0
    assert 'name="remember"' not in client.get(LOGIN_URL).content.decode()


# --- The timer's keepalive -----------------------------------------------------------------------


def test_the_today_page_loads_the_keepalive_with_its_address_and_pace(client, plan):
    with freeze_time(NOW):
        client.force_login(plan.patient.user)
        page = client.get(TODAY_URL).content.decode()
    assert re.search(
        rf'<script src="[^"]*keepalive[^"]*\.js" data-url="{KEEPALIVE_URL}" data-seconds="300" '
        r"defer></script>",
        page,
    )


def test_the_timer_keepalive_keeps_a_30_minute_walk_signed_in(client, plan):
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        client.get(TODAY_URL)
        # The timer asks every 5 minutes while it runs; the walk takes 35 minutes.
        for _ in range(7):
            clock.tick(dt.timedelta(minutes=5))
            assert client.post(KEEPALIVE_URL).status_code == 204
        clock.tick(dt.timedelta(minutes=20))  # filling in the log
        assert client.get(TODAY_URL).status_code == 200


def test_the_keepalive_costs_a_fixed_number_of_queries(client, plan, django_assert_num_queries):
    client.force_login(plan.patient.user)
    client.get(TODAY_URL)
    # session, user, principal (clinician, patient), then the session's save (savepoint,
    # update, release)
    with django_assert_num_queries(7):
        assert client.post(KEEPALIVE_URL).status_code == 204


def test_the_keepalive_says_401_once_the_sign_in_has_ended(client, plan):
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        clock.tick(IDLE)
        response = client.post(KEEPALIVE_URL)
    assert response.status_code == 401
    assert response.json() == {"signed_in": False}


def test_the_keepalive_is_for_patients_and_takes_only_post(client, plan, dashboard):
    assert dashboard.post(KEEPALIVE_URL).status_code == 403
    assert dashboard.get(KEEPALIVE_URL).status_code == 405


def test_the_keepalive_needs_the_csrf_token(plan):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(plan.patient.user)
    token = _csrf(browser.get(TODAY_URL))
    assert browser.post(KEEPALIVE_URL).status_code == 403
    assert browser.post(KEEPALIVE_URL, HTTP_X_CSRFTOKEN=token).status_code == 204


# --- A form sent after the sign-in ended ---------------------------------------------------------


def _walk_past_the_sign_in(browser, plan, **overrides):
    """Opens Today, walks longer than the sign-in lasts and presses "Save my walk"."""
    page = browser.get(TODAY_URL)
    data = {**_walk(**overrides), keep.KEPT_FOR_FIELD: _kept_for(page)}
    if browser.handler.enforce_csrf_checks:
        data["csrfmiddlewaretoken"] = _csrf(page)
    return data


def test_a_walk_saved_after_the_sign_in_ended_is_kept_and_saved_after_signing_in(plan):
    browser = Client(enforce_csrf_checks=True)
    with freeze_time(NOW) as clock:
        browser.force_login(plan.patient.user)
        data = _walk_past_the_sign_in(browser, plan)
        clock.tick(IDLE)
        response = browser.post(LOG_URL, data)
        # To the sign-in page, which says what happened; nothing is saved yet.
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN_URL}?next={LOG_URL}"
        assert not SessionLog.objects.exists()
        assert keep.KEPT_COOKIE in response.cookies
        cookie = response.cookies[keep.KEPT_COOKIE]
        assert cookie["httponly"]
        assert cookie["path"] == "/portal/"
        kept = KeptForm.objects.get()
        assert kept.user == plan.patient.user
        assert "csrfmiddlewaretoken" not in kept.data
        assert keep.KEPT_FOR_FIELD not in kept.data
        # The token is in the cookie only; the table has its hash.
        assert cookie.value not in kept.token_hash
        login_page = browser.get(response["Location"])
        assert "We have kept what you filled in" in login_page.content.decode()

        signed_in = browser.post(
            LOGIN_URL,
            {
                "username": "maria",
                "password": "pw",
                "next": LOG_URL,
                "csrfmiddlewaretoken": _csrf(login_page),
            },
        )
        assert signed_in["Location"] == LOG_URL
        saved = browser.get(LOG_URL)
        shown = browser.get(saved["Location"]).content.decode()
    log = SessionLog.objects.get()
    assert saved.status_code == 302
    assert saved["Location"] == reverse("patients:session_saved", args=[log.pk])
    assert (log.minutes_done, log.pain_worst, log.notes) == (28, 3, "A long one")
    assert not KeptForm.objects.exists()
    assert saved.cookies[keep.KEPT_COOKIE]["max-age"] == 0
    assert "It is saved." in shown
    actions = list(
        AuditEvent.objects.filter(patient=plan.patient, action__startswith="portal.form_kept")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["portal.form_kept", "portal.form_kept_used"]
    kept_event = AuditEvent.objects.get(action="portal.form_kept")
    assert "A long one" not in str(kept_event.detail)  # field names, never what was typed


def test_a_kept_walk_that_is_not_valid_is_shown_filled_in_with_its_errors(client, plan):
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        data = _walk_past_the_sign_in(client, plan, pain_worst="", notes="Windy")
        clock.tick(IDLE)
        client.post(LOG_URL, data)
        _sign_in(client, next_url=LOG_URL)
        page = client.get(LOG_URL)
    assert page.status_code == 400
    text = page.content.decode()
    assert "We kept what you filled in before you were signed out" in text
    assert 'value="28"' in text
    assert "Windy" in text
    assert not SessionLog.objects.exists()
    assert not KeptForm.objects.exists()


def test_another_patient_signing_in_on_the_same_phone_never_gets_the_kept_walk(
    client, plan, other_plan
):
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        data = _walk_past_the_sign_in(client, plan, notes="Maria's private note")
        clock.tick(IDLE)
        client.post(LOG_URL, data)
        _sign_in(client, "ben", next_url=LOG_URL)
        page = client.get(LOG_URL)
    assert page.status_code == 200
    assert "Maria's private note" not in page.content.decode()
    assert "We kept what you filled in before" not in page.content.decode()
    assert not SessionLog.objects.exists()
    assert not KeptForm.objects.exists()
    event = AuditEvent.objects.get(action="portal.form_kept_discarded")
    assert event.patient == plan.patient
    assert event.detail["reason"] == "other_account"


def test_a_form_without_its_signed_owner_is_not_kept(client, plan):
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        clock.tick(IDLE)
        forged = {**_walk(), keep.KEPT_FOR_FIELD: f"{plan.patient.user.pk}:not-a-signature"}
        response = client.post(LOG_URL, forged)
        page = client.get(response["Location"]).content.decode()
    assert not KeptForm.objects.exists()
    assert keep.KEPT_COOKIE not in response.cookies
    assert "could not be saved" in page


def test_a_kept_form_is_removed_after_the_configured_hours(client, plan, settings):
    settings.PORTAL_KEPT_FORM_HOURS = 2
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        data = _walk_past_the_sign_in(client, plan)
        clock.tick(IDLE)
        client.post(LOG_URL, data)
        clock.tick(dt.timedelta(hours=2))
        _sign_in(client, next_url=LOG_URL)
        page = client.get(LOG_URL)
    assert page.status_code == 200
    assert not SessionLog.objects.exists()
    assert not KeptForm.objects.exists()


def test_a_kept_form_is_saved_right_after_signing_in_wherever_the_patient_lands(client, plan):
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        data = _walk_past_the_sign_in(client, plan)
        clock.tick(IDLE)
        client.post(LOG_URL, data)
        _sign_in(client)  # no next: Today
        landed = client.get(TODAY_URL)
        assert landed.status_code == 302
        assert landed["Location"] == LOG_URL
        assert client.get(LOG_URL).status_code == 302
    assert SessionLog.objects.get().minutes_done == 28


def test_a_form_from_another_accounts_old_tab_is_not_saved(client, plan, other_plan):
    with freeze_time(NOW):
        client.force_login(plan.patient.user)
        data = _walk_past_the_sign_in(client, plan)
        client.logout()
        client.force_login(other_plan.patient.user)
        response = client.post(LOG_URL, data)
    assert response.status_code == 302
    assert response["Location"] == TODAY_URL
    assert not SessionLog.objects.exists()


def test_a_post_from_another_site_is_refused_not_kept(plan):
    browser = Client(enforce_csrf_checks=True)
    with freeze_time(NOW) as clock:
        browser.force_login(plan.patient.user)
        data = _walk_past_the_sign_in(browser, plan)
        data.pop("csrfmiddlewaretoken")
        clock.tick(IDLE)
        response = browser.post(LOG_URL, data)
    assert response.status_code == 403
    assert not KeptForm.objects.exists()


def test_the_next_morning_pain_is_kept_too(client, plan):
    from rehab import services
    from tests.factories import TODAY, good_session

    log = services.session_log(plan=plan, actor=None, date=TODAY, today=TODAY, **good_session())
    url = reverse("patients:next_morning", args=[log.pk])
    with freeze_time("2026-03-03 08:00") as clock:
        client.force_login(plan.patient.user)
        page = client.get(url)
        clock.tick(IDLE)
        client.post(url, {"pain": "1", keep.KEPT_FOR_FIELD: _kept_for(page)})
        _sign_in(client, next_url=url)
        response = client.get(url)
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.pain_next_morning == 1


def test_kept_forms_nobody_came_back_for_are_purged_hourly(client, plan, settings):
    from rehab import tasks

    assert settings.CELERY_BEAT_SCHEDULE["kept-forms-purge"]["task"] == (
        "rehab.tasks.kept_forms_purge"
    )
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        data = _walk_past_the_sign_in(client, plan)
        clock.tick(IDLE)
        client.post(LOG_URL, data)
        assert tasks.kept_forms_purge() == 0
        clock.tick(dt.timedelta(hours=settings.PORTAL_KEPT_FORM_HOURS))
        assert tasks.kept_forms_purge() == 1
    assert not KeptForm.objects.exists()
