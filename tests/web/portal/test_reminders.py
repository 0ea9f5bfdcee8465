"""The portal's Reminders page: choices saved and said in plain words, refusals kept on the
form, pending reminders following a change, and the last reminders in friendly words."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from rehab import services
from rehab.errors import RehabError
from rehab.models import AuditEvent, Patient, Plan, Reminder
from tests.factories import TODAY, PatientFactory, UserFactory, active_plan

URL = reverse("patients:reminders")
# 06:00 in London on Monday 2 March 2026 (GMT, so UTC too): before the 09:00 reminder.
MORNING = "2026-03-02 06:00:00"


def _utc(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with freeze_time(MORNING):
        yield


@pytest.fixture
def plan(db, frozen):
    plan = active_plan()
    plan.schedule_days = [0, 2, 4]
    plan.save(update_fields=["schedule_days"])
    plan.patient.user = UserFactory()
    plan.patient.save()
    return plan


@pytest.fixture
def patient(plan):
    return plan.patient


@pytest.fixture
def portal(client, patient):
    client.force_login(patient.user)
    return client


def _post(portal, **overrides):
    data = {
        "reminder_channel": "email",
        "reminder_time": "09:00",
        "timezone": "Europe/London",
        **overrides,
    }
    return portal.post(URL, {k: v for k, v in data.items() if v is not None})


def _text(response) -> str:
    """The page's visible words, tags removed and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def _reminder(patient, *, day=TODAY, kind=Reminder.Kind.SESSION, **fields) -> Reminder:
    plan = fields.pop("plan", None) or patient.plans.first()
    values = {
        "channel": Patient.Channel.EMAIL,
        "scheduled_for": _utc(day, 9),
        "status": Reminder.Status.PENDING,
        **fields,
    }
    return Reminder.objects.create(patient=patient, plan=plan, due_date=day, kind=kind, **values)


# --- Access ---------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("patients:login"))


def test_anonymous_post_changes_nothing(client, patient):
    response = client.post(URL, {"reminder_channel": "none", "reminder_time": "10:00"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.reminder_channel == Patient.Channel.EMAIL


# --- The state in plain words -----------------------------------------------------------------


def test_page_says_how_when_and_which_days(portal):
    response = portal.get(URL)
    assert response.status_code == 200
    assert (
        "We'll remind you by e-mail at 9:00 (London time) on your walking days: "
        "Monday, Wednesday and Friday." in _text(response)
    )
    assert b'aria-current="page"' in response.content


def test_page_view_is_audited(portal, patient):
    portal.get(URL)
    event = AuditEvent.objects.get(action="portal.reminders")
    assert event.patient_id == patient.pk
    assert event.actor_id == patient.user_id


def test_paused_reminders_are_said_so(portal, patient):
    patient.reminders_enabled = False
    patient.save()
    text = _text(portal.get(URL))
    assert "Your reminders are paused." in text
    assert "We'll remind you" not in text


def test_paused_plan_means_no_reminders_said_so(portal, plan):
    services.plan_pause(plan=plan, actor=None, reason="Sore knee")
    text = _text(portal.get(URL))
    assert "Your walking plan is paused for now" in text
    assert "We'll remind you" not in text


def test_time_in_quiet_hours_says_when_it_really_comes(portal, patient):
    patient.reminder_time = dt.time(22, 0)
    patient.save()
    text = _text(portal.get(URL))
    assert "at 22:00 (London time)" in text
    assert (
        "Your clinic sends no messages between 21:00 and 8:00, so your reminder comes at 20:30"
        in text
    )


def test_channel_the_record_cannot_reach_is_said_so(portal, patient):
    patient.reminder_channel = Patient.Channel.SMS
    patient.save()
    assert "there is no mobile phone number on your record" in _text(portal.get(URL))


def test_text_messages_offered_only_with_a_phone_number(portal, patient):
    assert b'value="sms"' not in portal.get(URL).content
    patient.phone = "+447700900123"
    patient.save()
    content = portal.get(URL).content.decode()
    assert 'value="sms"' in content
    assert "By text message to +447700900123" in content


def test_form_shows_current_choices(portal, patient):
    patient.reminder_time = dt.time(7, 45)
    patient.timezone = "Asia/Kathmandu"  # not among the common zones: still offered, selected
    patient.save()
    content = portal.get(URL).content.decode()
    assert 'value="07:45"' in content
    assert re.search(r'<option value="Asia/Kathmandu" selected>', content)
    assert re.search(r'value="email"[^>]*checked', content)


# --- Saving -------------------------------------------------------------------------------------


def test_saving_changes_the_record_and_the_sentence(portal, patient):
    patient.phone = "07700 900123"
    patient.save()
    response = _post(
        portal, reminder_channel="sms", reminder_time="18:30", timezone="America/New_York"
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.reminder_channel == Patient.Channel.SMS
    assert patient.reminder_time == dt.time(18, 30)
    assert patient.timezone == "America/New_York"
    assert patient.reminders_enabled is True
    page = portal.get(URL)
    text = _text(page)
    assert "Your reminder settings are saved." in text
    assert "We'll remind you by text message at 18:30 (New York time)" in text
    event = AuditEvent.objects.filter(action="patient.update").latest("id")
    assert event.detail["fields"] == ["reminder_channel", "reminder_time", "timezone"]


def test_pause_box_turns_reminders_off_and_on(portal, patient):
    _post(portal, paused="on")
    patient.refresh_from_db()
    assert patient.reminders_enabled is False
    assert re.search(r'name="paused"[^>]*checked', portal.get(URL).content.decode())
    _post(portal)
    patient.refresh_from_db()
    assert patient.reminders_enabled is True


def test_sms_without_a_phone_number_is_refused_and_input_kept(portal, patient):
    response = _post(portal, reminder_channel="sms", reminder_time="18:30")
    assert response.status_code == 400
    text = _text(response)
    assert "There is no mobile phone number on the record" in text
    assert 'value="18:30"' in response.content.decode()
    patient.refresh_from_db()
    assert patient.reminder_channel == Patient.Channel.EMAIL
    assert patient.reminder_time == dt.time(9, 0)


def test_email_without_an_address_is_refused(portal, patient):
    patient.email = ""
    patient.reminder_channel = Patient.Channel.NONE
    patient.save()
    response = _post(portal, reminder_channel="email")
    assert response.status_code == 400
    assert "There is no e-mail address on the record" in _text(response)
    patient.refresh_from_db()
    assert patient.reminder_channel == Patient.Channel.NONE


@pytest.mark.parametrize("typed", ["25:99", "nine", ""])
def test_a_bad_time_is_refused_with_input_kept(portal, patient, typed):
    response = _post(portal, reminder_time=typed, timezone="Europe/Paris", paused="on")
    assert response.status_code == 400
    assert "Enter a time" in _text(response)
    content = response.content.decode()
    assert re.search(r'<option value="Europe/Paris" selected>', content)
    assert re.search(r'name="paused"[^>]*checked', content)
    patient.refresh_from_db()
    assert patient.timezone == "Europe/London"
    assert patient.reminders_enabled is True


def test_an_unknown_time_zone_is_refused_with_input_kept(portal, patient):
    response = _post(portal, timezone="Mars/Olympus_Mons", reminder_time="07:15")
    assert response.status_code == 400
    assert "Choose your time zone from the list." in _text(response)
    assert 'value="07:15"' in response.content.decode()
    patient.refresh_from_db()
    assert patient.timezone == "Europe/London"
    assert patient.reminder_time == dt.time(9, 0)


def test_an_unknown_channel_is_refused(portal):
    response = _post(portal, reminder_channel="pigeon")
    assert response.status_code == 400


def test_service_refuses_channels_the_record_cannot_reach(patient):
    with pytest.raises(RehabError) as refused:
        services.patient_set_reminders(
            patient=patient,
            actor=None,
            channel=Patient.Channel.SMS,
            time=dt.time(9, 0),
            timezone_name="Europe/London",
            enabled=True,
        )
    assert set(refused.value.fields) == {"reminder_channel"}
    patient.phone = "07700 900123"
    services.patient_set_reminders(
        patient=patient,
        actor=None,
        channel=Patient.Channel.SMS,
        time=dt.time(9, 0),
        timezone_name="Europe/London",
        enabled=True,
    )
    patient.refresh_from_db()
    assert patient.reminder_channel == Patient.Channel.SMS


# --- Planned reminders follow the change ------------------------------------------------------


def test_pause_stops_reminders_being_planned(patient):
    patient.reminders_enabled = False
    patient.save()
    assert services.reminders_plan() == 0
    patient.reminders_enabled = True
    patient.save()
    assert services.reminders_plan() == 1


def test_no_reminders_channel_stops_reminders_being_planned(patient):
    patient.reminder_channel = Patient.Channel.NONE
    patient.save()
    assert services.reminders_plan() == 0


def test_pending_reminder_follows_a_new_time(portal, patient):
    services.reminders_plan()
    reminder = Reminder.objects.get(patient=patient)
    assert reminder.scheduled_for == _utc(TODAY, 9)
    _post(portal, reminder_time="10:30")
    reminder.refresh_from_db()
    assert reminder.scheduled_for == _utc(TODAY, 10, 30)
    assert reminder.status == Reminder.Status.PENDING
    # The next planning run adds nothing: still one reminder for the day.
    assert services.reminders_plan() == 0
    assert Reminder.objects.filter(patient=patient).count() == 1
    assert AuditEvent.objects.filter(action="reminder.reschedule", patient=patient).exists()


def test_pending_reminder_follows_a_new_time_zone_and_channel(portal, patient):
    patient.phone = "07700 900123"
    patient.save()
    services.reminders_plan()
    _post(portal, reminder_channel="sms", timezone="Europe/Paris")
    reminder = Reminder.objects.get(patient=patient)
    assert reminder.channel == Patient.Channel.SMS
    assert reminder.scheduled_for == _utc(TODAY, 8)  # 09:00 in Paris


def test_a_reminder_already_sent_is_left_alone(portal, patient):
    sent = _reminder(patient, status=Reminder.Status.SENT, sent_at=_utc(TODAY, 5, 1))
    _post(portal, reminder_time="11:00")
    sent.refresh_from_db()
    assert sent.scheduled_for == _utc(TODAY, 9)
    assert services.reminders_plan() == 0


def test_earlier_days_pending_reminders_are_left_alone(portal, patient):
    old = _reminder(patient, day=TODAY - dt.timedelta(days=2))
    _post(portal, reminder_time="11:00")
    old.refresh_from_db()
    assert old.scheduled_for == _utc(TODAY - dt.timedelta(days=2), 9)


def test_pausing_removes_todays_reminder_and_resuming_plans_it_again(portal, patient):
    services.reminders_plan()
    _post(portal, paused="on")
    assert not Reminder.objects.filter(patient=patient).exists()
    assert services.reminders_plan() == 0
    _post(portal, reminder_time="11:00")
    assert services.reminders_plan() == 1
    assert Reminder.objects.get(patient=patient).scheduled_for == _utc(TODAY, 11)


def test_choosing_no_reminders_removes_todays_reminder(portal, patient):
    services.reminders_plan()
    _post(portal, reminder_channel="none")
    assert not Reminder.objects.filter(patient=patient).exists()


def test_saving_unchanged_choices_leaves_reminders_alone(portal, patient):
    services.reminders_plan()
    before = Reminder.objects.get(patient=patient).updated_at
    _post(portal)
    assert Reminder.objects.get(patient=patient).updated_at == before
    assert not AuditEvent.objects.filter(action="reminder.reschedule").exists()


# --- The last reminders -------------------------------------------------------------------------


def test_last_reminders_in_friendly_words(portal, patient):
    day = TODAY - dt.timedelta(days=1)
    _reminder(patient, day=TODAY - dt.timedelta(days=4), status="sent", sent_at=_utc(TODAY, 9, 1))
    _reminder(
        patient,
        day=TODAY - dt.timedelta(days=3),
        status="failed",
        detail="The patient has no e-mail address.",
    )
    _reminder(
        patient,
        day=TODAY - dt.timedelta(days=2),
        status="skipped",
        detail="Today's session is already logged.",
    )
    _reminder(
        patient,
        day=day,
        status="failed",
        detail="The mail server refused the message (SMTPRecipientsRefused).",
    )
    _reminder(patient, day=day, kind=Reminder.Kind.NUDGE, status="skipped", detail="")
    text = _text(portal.get(URL))
    assert "Sent by e-mail at 9:01" in text
    assert "Not sent: no e-mail address" in text
    assert "Skipped: you had already walked" in text
    assert "Not sent: we could not deliver it by e-mail" in text
    assert "Reminder after a missed walk" in text
    assert "Sunday 1 March" in text
    # Nothing of the server's own words reaches the patient.
    assert "SMTP" not in text
    assert "The patient has" not in text


def test_last_reminders_show_only_the_patients_own(portal, patient, stranger):
    other_plan = active_plan()
    other = other_plan.patient
    _reminder(other, plan=other_plan, status="skipped", detail="Its day has passed.")
    _reminder(patient, status="sent", sent_at=_utc(TODAY, 9, 2))
    text = _text(portal.get(URL))
    assert "Sent by e-mail at 9:02" in text
    assert "too late in the day" not in text


def test_last_reminders_are_the_latest_ten(portal, patient):
    for n in range(12):
        _reminder(patient, day=TODAY - dt.timedelta(days=n), status="sent", sent_at=_utc(TODAY, 9))
    content = portal.get(URL).content.decode()
    assert content.count('class="reminder-line') == 10
    assert "Monday 2 March" in content  # the newest
    assert "Wednesday 18 February" not in content  # the two oldest are left off


def test_no_reminders_yet(portal):
    assert "No reminders have been sent yet." in _text(portal.get(URL))


# --- Query counts ---------------------------------------------------------------------------------


def _count_page_queries(portal, django_assert_num_queries, count):
    portal.get(URL)  # the first request after sign-in also refreshes the session's idle clock
    with django_assert_num_queries(count):
        assert portal.get(URL).status_code == 200


# session, user, clinician (none), patient, open plan, last reminders, calendar link, audit
PAGE_QUERIES = 8


def test_page_costs_the_same_queries_for_none_or_many_reminders(
    portal, patient, django_assert_num_queries
):
    _count_page_queries(portal, django_assert_num_queries, PAGE_QUERIES)
    for n in range(15):
        _reminder(patient, day=TODAY - dt.timedelta(days=n), status="sent", sent_at=_utc(TODAY, 9))
    _count_page_queries(portal, django_assert_num_queries, PAGE_QUERIES)


def test_refused_save_costs_a_fixed_number_of_queries(portal, django_assert_num_queries):
    portal.get(URL)
    # The page's queries and no more: the refusal comes before any write.
    with django_assert_num_queries(PAGE_QUERIES):
        assert _post(portal, reminder_time="nope").status_code == 400


def test_plan_statuses_cover_the_sentence(portal, plan):
    # A completed plan leaves no open plan: nothing to remind about.
    services.plan_complete(plan=plan, actor=None, reason="Goals met")
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.COMPLETED
    assert "You have no walking plan at the moment" in _text(portal.get(URL))


def test_other_patient_record_is_never_changed(portal, patient):
    other = PatientFactory(clinic=patient.clinic)
    _post(portal, reminder_time="12:00")
    other.refresh_from_db()
    assert other.reminder_time == dt.time(9, 0)
