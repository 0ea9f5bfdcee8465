"""Erasing a patient on request: every personal detail, file and sign-in goes; clinical rows
stay only under the clinic's legal hold; the erasure is audited without what was erased, and
the audit chain still verifies."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.audit import AuditAction
from rehab.audit_chain import audit_seal, audit_verify
from rehab.errors import RehabError
from rehab.models import (
    AuditEvent,
    CalendarFeed,
    ClinicalNote,
    OutcomeScore,
    Patient,
    PersonalToken,
    Plan,
    PortalInvite,
    ProgressionDecision,
    Reminder,
    Report,
    Screening,
    SessionLog,
    User,
    WebhookDelivery,
)
from rehab.services.reports import report_path
from tests.factories import TODAY, ClinicianFactory, UserFactory, active_plan, good_session

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_frozen")]


@pytest.fixture
def _frozen():
    with freeze_time("2026-03-02 12:00"):  # TODAY
        yield


def record():
    """A patient with everything a record holds: a portal sign-in and token, a plan with a
    session and its note, a decision's note, a clinical note, a PSFS with their own words, a
    report file, a reminder, an invitation and a calendar link."""
    plan = active_plan(today=TODAY)
    patient = plan.patient
    patient.user = UserFactory(username="maria.lopez@example.org", first_name="Maria")
    patient.external_id = "MRN-4471"
    patient.phone = "+447700900123"
    patient.save()
    admin = ClinicianFactory(clinic=patient.clinic, is_clinic_admin=True)
    services.session_log(
        plan=plan, actor=None, date=TODAY, notes="Knee sore after the stairs", **good_session()
    )
    services.clinical_note_add(
        patient=patient, actor=admin.user, text="Lives with her daughter Ana", noted_on=TODAY
    )
    services.outcome_record(
        patient=patient,
        measure="psfs",
        answers={
            "activities": [
                {"activity": "Walking to Ana's house", "score": 4},
                {"activity": "Stairs", "score": 5},
                {"activity": "Gardening", "score": 6},
            ]
        },
        actor=None,
    )
    ProgressionDecision.objects.filter(plan=plan).update(note="Spoke to her daughter")
    report = services.report_request(patient=patient, audience="patient", actor=None)
    services.report_render(report_id=report.pk)
    report.refresh_from_db()
    PersonalToken.objects.create(
        user=patient.user, key_hash="x" * 64, password_stamp="s", expires_at="2027-01-01T00:00Z"
    )
    Reminder.objects.create(
        patient=patient,
        plan=plan,
        due_date=TODAY,
        channel="email",
        scheduled_for="2026-03-03T09:00Z",
    )
    PortalInvite.objects.create(
        patient=patient, token_hash="i" * 64, expires_at="2026-03-09T00:00Z"
    )
    CalendarFeed.objects.create(patient=patient, token_hash="c" * 64)
    return patient, admin, report


def erase(patient, admin, reason="patient_request"):
    principal = principal_for_user(admin.user)
    return services.patient_erase(patient=patient, by=principal, reason=reason)


@pytest.mark.parametrize("hold", [True, False])
def test_erasure_removes_every_personal_detail_and_file(hold, django_capture_on_commit_callbacks):
    patient, admin, report = record()
    patient.clinic.erasure_legal_hold = hold
    patient.clinic.save()
    user_id = patient.user_id
    pdf = report_path(report)
    assert pdf.is_file()

    with django_capture_on_commit_callbacks(execute=True):
        erase(patient, admin)

    patient = Patient.objects.get(pk=patient.pk)
    assert patient.erased_at is not None
    assert patient.archived_at is not None
    assert (patient.first_name, patient.last_name) == ("Erased", "patient")
    assert patient.date_of_birth is None
    assert patient.email == patient.phone == patient.external_id == ""
    assert not patient.reminders_enabled
    user = User.objects.get(pk=user_id)
    assert user.username == f"erased-{user_id}"
    assert user.email == user.first_name == user.last_name == ""
    assert not user.is_active
    assert not user.has_usable_password()
    assert principal_for_user(user) is None
    assert not PersonalToken.objects.filter(user_id=user_id).exists()
    # Every file and the rows that pointed at them.
    assert not pdf.exists()
    assert not Report.objects.filter(patient=patient).exists()
    for model in (ClinicalNote, Reminder, PortalInvite, CalendarFeed):
        assert not model.objects.filter(patient=patient).exists()
    # Free text nowhere, whatever is kept.
    assert not SessionLog.objects.filter(patient=patient).exclude(notes="").exists()
    assert not ProgressionDecision.objects.filter(plan__patient=patient).exclude(note="").exists()
    for score in OutcomeScore.objects.filter(patient=patient):
        assert "Ana" not in str(score.answers)
    clinical = [
        Plan.objects.filter(patient=patient).exists(),
        SessionLog.objects.filter(patient=patient).exists(),
        OutcomeScore.objects.filter(patient=patient).exists(),
        Screening.objects.filter(patient=patient).exists(),
    ]
    assert clinical == [hold] * 4
    if hold:
        assert not Plan.objects.filter(patient=patient, status__in=Plan.OPEN_STATUSES).exists()
        score = OutcomeScore.objects.get(patient=patient)
        assert [a["score"] for a in score.answers["activities"]] == [4, 5, 6]


def test_the_erasure_is_audited_without_what_was_erased_and_the_chain_verifies():
    patient, admin, _ = record()
    audit_seal()
    before = AuditEvent.objects.filter(patient_ref=patient.pk).count()

    erase(patient, admin)
    audit_seal()

    event = AuditEvent.objects.get(action=AuditAction.PATIENT_ERASE)
    assert event.patient_ref == patient.pk
    assert event.actor_id == admin.user_id
    assert event.detail == {"reason": "patient_request", "clinical_data": "kept"}
    for erased in ("Maria", "MRN-4471", "Ana", "example.org", "Knee sore"):
        assert erased not in str(event.detail)
    # Earlier events stay, and the chain over them and the erasure verifies.
    assert AuditEvent.objects.filter(patient_ref=patient.pk).count() == before + 1
    assert audit_verify().ok


def test_a_second_erasure_changes_nothing_and_records_nothing():
    patient, admin, _ = record()
    erase(patient, admin)
    erased = Patient.objects.get(pk=patient.pk)

    again = erase(erased, admin)

    assert again.erased_at == erased.erased_at
    assert AuditEvent.objects.filter(action=AuditAction.PATIENT_ERASE).count() == 1


def test_an_erased_patient_is_in_no_scope():
    patient, admin, _ = record()
    principal = principal_for_user(admin.user)
    erase(patient, admin)

    assert not selectors.patients_for(principal).filter(pk=patient.pk).exists()
    assert not selectors.plans_for(principal).filter(patient=patient).exists()
    assert not selectors.sessions_for(principal).filter(patient=patient).exists()
    assert not selectors.screenings_for(principal).filter(patient=patient).exists()
    listed = selectors.patient_list_for_dashboard(principal=principal, status="archived")
    assert patient.pk not in {p.pk for p in listed}


def test_only_an_administrator_of_the_patients_clinic_can_erase():
    patient, _, _ = record()
    clinician = ClinicianFactory(clinic=patient.clinic)
    elsewhere = ClinicianFactory(is_clinic_admin=True)
    for who in (clinician, elsewhere):
        with pytest.raises(RehabError) as refused:
            erase(patient, who)
        assert refused.value.status == 403
    assert Patient.objects.get(pk=patient.pk).erased_at is None


def test_an_unknown_reason_is_a_field_error():
    patient, admin, _ = record()
    with pytest.raises(RehabError) as refused:
        erase(patient, admin, reason="because")
    assert "reason" in refused.value.fields
    assert Patient.objects.get(pk=patient.pk).erased_at is None


def test_alerts_not_yet_sent_about_the_patient_are_skipped():
    from rehab.models import Alert

    plan = active_plan(today=TODAY)
    admin = ClinicianFactory(clinic=plan.patient.clinic, is_clinic_admin=True)
    services.session_log(plan=plan, actor=None, date=TODAY, **good_session(fall=True))
    pending = Alert.objects.filter(decision__plan=plan, status=Alert.Status.PENDING)
    assert pending.exists()

    erase(plan.patient, admin)

    statuses = set(Alert.objects.filter(decision__plan=plan).values_list("status", flat=True))
    assert statuses == {Alert.Status.SKIPPED}


def test_webhook_deliveries_about_the_patient_go_with_the_erasure():
    # A delivery's payload is a copy of the patient's data (the resource as the API shows it),
    # sent or waiting: it goes with the record; another patient's stay.
    plan, other = active_plan(today=TODAY), active_plan(today=TODAY)
    admin = ClinicianFactory(clinic=plan.patient.clinic, is_clinic_admin=True)
    for each in (plan, other):
        services.webhook_endpoint_create(
            clinic=each.patient.clinic,
            actor=None,
            url="https://hooks.example.org/in",
            events=["session.logged"],
        )
        each.patient.clinic.refresh_from_db()  # the clinic row with its endpoint's events
        services.session_log(plan=each, actor=None, date=TODAY, **good_session())
    about = WebhookDelivery.objects.filter(payload__data__patient_id=plan.patient_id)
    assert about.count() == 1

    erase(plan.patient, admin)

    assert not about.exists()
    assert WebhookDelivery.objects.filter(payload__data__patient_id=other.patient_id).count() == 1
