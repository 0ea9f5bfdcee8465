"""E-mail subjects show on lock screens and in notification previews: no e-mail the product
sends names a patient in its subject. Every kind of e-mail is sent here for one patient with
unmistakable names, and every subject is checked."""

import datetime as dt

import pytest
from django.core import mail
from freezegun import freeze_time

from rehab import services
from rehab.models import Reminder
from tests.factories import TODAY, ClinicianFactory, UserFactory, active_plan, good_session

pytestmark = pytest.mark.django_db

FIRST, LAST = "Zebedee", "Quillfeather"


@pytest.fixture
def named(db, settings):
    """A clinic administrator who assigned the plan of a patient."""
    settings.SITE_URL = "https://rehab.example.org"
    lead = ClinicianFactory(is_clinic_admin=True)
    plan = active_plan(actor=lead.user)
    patient = plan.patient
    patient.clinic = plan.clinic = lead.clinic
    patient.first_name, patient.last_name = FIRST, LAST
    patient.email = "zq@example.org"
    patient.reminder_channel = "email"
    patient.save()
    plan.auto_apply = False
    plan.save()
    return lead, plan


def _reminder(plan, kind: str, due: dt.date) -> Reminder:
    return Reminder.objects.create(
        patient=plan.patient,
        plan=plan,
        due_date=due,
        kind=kind,
        channel="email",
        scheduled_for=dt.datetime.combine(due, dt.time(9), tzinfo=dt.UTC),
    )


def test_no_email_subject_names_the_patient(named, client, django_capture_on_commit_callbacks):
    lead, plan = named
    patient = plan.patient
    sent_kinds = []

    # Reminders, a session day's and the next day's nudge.
    for kind, day in (("session", TODAY), ("nudge", TODAY + dt.timedelta(days=1))):
        reminder = _reminder(plan, kind, day)
        with freeze_time(dt.datetime.combine(day, dt.time(9, 5), tzinfo=dt.UTC)):
            assert services.reminder_send(reminder_id=reminder.pk) == "sent", kind
        sent_kinds.append(f"reminder {kind}")

    # The portal invitation.
    with django_capture_on_commit_callbacks(execute=True):
        services.patient_invite(patient=patient, actor=lead.user)
    sent_kinds.append("invite")

    # The clinicians' digest (a decision awaits approval, adherence is low).
    services.session_log(
        plan=plan,
        actor=None,
        date=TODAY,
        today=TODAY + dt.timedelta(days=1),
        **good_session(pain_before=1, pain_next_morning=3),
    )
    now = dt.datetime.combine(TODAY + dt.timedelta(days=6), dt.time(7, 10), tzinfo=dt.UTC)
    assert services.digest_send(clinician=lead, now=now) == "sent"
    assert f"{FIRST} {LAST}" in mail.outbox[-1].body  # the body may name them
    sent_kinds.append("digest")

    # A fall: the pause alert.
    with django_capture_on_commit_callbacks(execute=True):
        services.session_log(
            plan=plan,
            actor=None,
            date=TODAY + dt.timedelta(days=2),
            today=TODAY + dt.timedelta(days=2),
            **good_session(fall=True),
        )
    sent_kinds.append("pause alert")

    # The portal's password reset, to the patient's account.
    patient.user = UserFactory(first_name=FIRST, last_name=LAST, email="zq@example.org")
    patient.save()
    client.post("/portal/password-reset/", {"email": "zq@example.org"})
    sent_kinds.append("password reset")

    # A new clinician's set-password e-mail (no patient in it, checked all the same).
    services.clinician_create(
        clinic=lead.clinic, actor=lead.user, first_name="Ann", last_name="Other", email="a@x.org"
    )
    sent_kinds.append("new clinician")

    assert len(mail.outbox) == len(sent_kinds), [m.subject for m in mail.outbox]
    for message in mail.outbox:
        for name in (FIRST, LAST):
            assert name.lower() not in message.subject.lower(), message.subject


def test_the_pause_alert_names_the_record_number_and_links_to_the_patients_page(
    named, django_capture_on_commit_callbacks
):
    _, plan = named
    with django_capture_on_commit_callbacks(execute=True):
        services.session_log(
            plan=plan, actor=None, date=TODAY, today=TODAY, **good_session(fall=True)
        )
    (alert,) = mail.outbox
    assert alert.subject == f"Plan paused: patient record {plan.patient.pk}"
    assert f"https://rehab.example.org/clinic/patients/{plan.patient.pk}/" in alert.body
    assert f"{FIRST} {LAST}" in alert.body
