"""The clinician's alert e-mails read right: the pause alert and the near fall / dizziness alert
(hold + alert, CLINICAL.md §4.1) as a plain text part and an HTML part from their templates, a
name like O'Brien and a note with <b> in it shown as typed (escaped once in HTML, never in
text), an absolute link to the patient's page built from SITE_URL, and no name in the subject.
The digest leads with the referrals no one has recorded as acted on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from freezegun import freeze_time

from rehab import services, tasks
from rehab.clinical import levels as L
from rehab.models import Alert, ProgressionDecision
from tests.factories import TODAY, ClinicianFactory, PatientFactory, active_plan, clean_answers
from tests.factories import good_session as session

pytestmark = pytest.mark.django_db

SITE = "https://rehab.example.org"
NOTE = "Tripped on the <b>rug</b> & caught the rail"


@pytest.fixture
def obrien(db, settings):
    """Siobhán O'Brien's plan, assigned by a clinic administrator."""
    settings.SITE_URL = SITE
    lead = ClinicianFactory(is_clinic_admin=True)
    plan = active_plan(actor=lead.user)
    patient = plan.patient
    patient.clinic = plan.clinic = lead.clinic
    patient.first_name, patient.last_name = "Siobhán", "O'Brien"
    patient.save()
    plan.save()
    return lead, plan


def html_part(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def log(plan, day=TODAY, **events):
    return services.session_log(
        plan=plan, actor=None, date=day, today=day, **session(notes=NOTE, **events)
    )


def test_the_pause_alert_reads_right_in_text_and_html_and_links_the_patient(
    obrien, django_capture_on_commit_callbacks
):
    _, plan = obrien
    with django_capture_on_commit_callbacks(execute=True):
        log(plan, fall=True)
    (message,) = mail.outbox
    link = f"{SITE}/clinic/patients/{plan.patient.pk}/"
    assert message.subject == f"Plan paused: patient record {plan.patient.pk}"
    assert "O'Brien" not in message.subject
    assert "Siobh" not in message.subject

    text = message.body
    assert "Siobhán O'Brien's plan" in text
    assert NOTE in text  # as typed: no &#x27; or &lt;b&gt; in a text part
    assert "&#x27;" not in text
    assert "&lt;" not in text
    assert "&amp;" not in text
    assert "- A fall was reported on 2 March." in text
    assert f"The patient's page: {link}" in text

    html = html_part(message)
    assert "<pre>" not in html  # a real HTML message, not an escaped dump of the text
    assert "Siobhán O&#x27;Brien's plan" in html  # the name escaped once: shows as O'Brien
    assert "Tripped on the &lt;b&gt;rug&lt;/b&gt; &amp; caught the rail" in html
    assert "<b>rug</b>" not in html
    assert "&amp;lt;" not in html
    assert "&amp;#x27;" not in html
    assert f'<a href="{link}"' in html


@pytest.mark.parametrize(
    ("event", "words"),
    [("near_fall", "A near fall was reported"), ("dizziness", "Dizziness was reported")],
)
def test_a_near_fall_or_dizziness_holds_and_alerts_the_clinicians_at_once(
    obrien, django_capture_on_commit_callbacks, event, words
):
    lead, plan = obrien
    with django_capture_on_commit_callbacks(execute=True):
        log(plan, **{event: True})
    plan.refresh_from_db()
    assert plan.status == "active"  # held, not paused
    decision = plan.decisions.get()
    assert decision.outcome == ProgressionDecision.Outcome.HOLD
    (message,) = mail.outbox
    assert message.to == [lead.user.email]
    assert message.subject == f"Near fall or dizziness reported: patient record {plan.patient.pk}"
    assert words in message.body
    assert "Siobhán O'Brien reported a near fall or dizziness" in message.body
    assert NOTE in message.body
    assert f"{SITE}/clinic/patients/{plan.patient.pk}/" in message.body
    html = html_part(message)
    assert "Siobhán O&#x27;Brien reported" in html
    assert "&lt;b&gt;rug&lt;/b&gt;" in html
    assert f'<a href="{SITE}/clinic/patients/{plan.patient.pk}/"' in html
    alert = Alert.objects.get()
    assert (alert.kind, alert.status, alert.decision) == ("hold", "sent", decision)
    # A redelivered message sends nothing twice.
    assert tasks.alert_pause.delay(decision.pk).get() == 0
    assert len(mail.outbox) == 1


def test_the_next_sessions_do_not_alert_again_for_the_same_near_fall(
    obrien, django_capture_on_commit_callbacks
):
    _, plan = obrien
    with django_capture_on_commit_callbacks(execute=True):
        log(plan, near_fall=True)
        # Still in the window, so the next decision names the near fall again: no new alert.
        log(plan, TODAY + dt.timedelta(days=2))
        services.progression_evaluate(
            plan=plan, trigger="nightly", today=TODAY + dt.timedelta(days=3)
        )
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        log(plan, TODAY + dt.timedelta(days=4), dizziness=True)  # a new event: a new alert
    assert len(mail.outbox) == 2
    assert "Dizziness was reported" in mail.outbox[1].body


def test_a_plain_session_alerts_nobody(obrien, django_capture_on_commit_callbacks):
    _, plan = obrien
    with django_capture_on_commit_callbacks(execute=True):
        log(plan)
    assert mail.outbox == []
    assert not Alert.objects.exists()


def test_a_hold_alert_the_broker_lost_is_sent_by_the_outbox_sweep(obrien):
    _, plan = obrien
    log(plan, near_fall=True)  # the on-commit fast path never runs here: the message is lost
    alert = Alert.objects.get()
    assert (alert.kind, alert.status) == ("hold", "pending")
    with freeze_time(timezone.now() + dt.timedelta(minutes=2)):
        assert tasks.outbox_sweep.delay().get() == 1
    alert.refresh_from_db()
    assert alert.status == "sent"
    assert len(mail.outbox) == 1


def test_the_digest_leads_with_referrals_not_acted_on_in_plain_text(obrien):
    lead, _plan = obrien
    clinic = lead.clinic
    cauda = PatientFactory(
        clinic=clinic,
        first_name="Ian",
        last_name="McKenzie",
        condition=L.CHRONIC_LOW_BACK_PAIN,
    )
    dvt = PatientFactory(clinic=clinic, first_name="Niamh", last_name="O'Neill")
    for patient, answer in ((dvt, "suspected_dvt"), (cauda, "saddle_anaesthesia")):
        services.screening_submit(
            patient=patient,
            answers=clean_answers(patient.condition, **{answer: True}),
            actor=None,
            today=TODAY,
        )
    acted = PatientFactory(clinic=clinic, first_name="Done", last_name="Already")
    screening = services.screening_submit(
        patient=acted,
        answers=clean_answers(acted.condition, suspected_dvt=True),
        actor=None,
        today=TODAY,
    )
    services.referral_act(screening=screening, actor=lead.user, action="GP letter sent.")

    now = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(7, 5), tzinfo=dt.UTC)
    assert services.digest_send(clinician=lead, now=now) == "sent"
    (message,) = mail.outbox
    assert "McKenzie" not in message.subject
    assert "O'Neill" not in message.subject
    text = message.body
    assert "Referrals not yet recorded as acted on (2):" in text
    first, second = text.index("Ian McKenzie: EMERGENCY"), text.index("Niamh O'Neill: URGENT")
    assert first < second  # emergency first
    assert "cauda equina" in text
    assert f"{SITE}/clinic/patients/{cauda.pk}/" in text
    assert "Done Already" not in text  # acted on: no longer listed
    assert "&#x27;" not in text
    for later in ("Decisions awaiting", "Under half", "Screenings expiring", "Next-morning"):
        assert text.find(later) in (-1, *range(text.index("Referrals not yet"), len(text)))
    html = html_part(message)
    assert "<pre>" not in html
    assert "Niamh O&#x27;Neill" in html
    assert f'<a href="{SITE}/clinic/patients/{dvt.pk}/">' in html


def test_a_near_fall_with_too_much_pain_says_the_plan_steps_back(
    obrien, django_capture_on_commit_callbacks
):
    _, plan = obrien  # decisions await approval on this plan
    # A level with an easier one below it to step back to.
    services.plan_set_level(
        plan=plan, level=1, actor=None, reason="Walks well; seen in clinic.", today=TODAY
    )
    with django_capture_on_commit_callbacks(execute=True):
        log(plan, near_fall=True, pain_worst=7)  # worst pain above 5: regress
    (message,) = mail.outbox
    decision = plan.decisions.order_by("-id").first()
    assert decision.outcome == ProgressionDecision.Outcome.REGRESS
    assert "stays at its level" not in message.body
    assert "the decision after this session: regress (awaiting approval)" in message.body
    assert "A near fall was reported" in message.body
