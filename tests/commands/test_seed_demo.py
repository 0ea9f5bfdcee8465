from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from rehab.models import (
    AuditEvent,
    Clinic,
    ClinicalNote,
    Clinician,
    OutcomeScore,
    Patient,
    Plan,
    ProgressionDecision,
    Protocol,
    Screening,
    SessionLog,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("load_protocols", stdout=out)
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_demo_clinic_has_two_clinicians_one_of_them_admin(seeded):
    clinic = Clinic.objects.get(slug="riverside")
    clinicians = Clinician.objects.filter(clinic=clinic)
    assert clinicians.count() == 2
    assert clinicians.filter(is_clinic_admin=True).count() == 1


def test_demo_has_at_least_20_patients_across_all_five_conditions(seeded):
    patients = Patient.objects.filter(clinic__slug="riverside")
    assert patients.count() >= 20
    assert set(patients.values_list("condition", flat=True)) == {
        "knee_oa",
        "patellofemoral_pain",
        "acl_reconstruction",
        "total_knee_arthroplasty",
        "chronic_low_back_pain",
    }


def test_demo_histories_span_two_to_six_weeks(seeded):
    spans = []
    for plan in Plan.objects.all():
        dates = list(plan.sessions.values_list("date", flat=True))
        if dates:
            spans.append((max(dates) - plan.start_date).days)
    assert min(spans) >= 7
    assert max(spans) >= 35
    assert SessionLog.objects.count() > 150


def test_demo_shows_each_story_a_clinician_needs_to_see(seeded):
    decisions = ProgressionDecision.objects.all()
    assert decisions.filter(outcome="advance", status="applied").exists()
    assert decisions.filter(outcome="regress").exists()
    assert decisions.filter(status="pending").exists()
    paused = Plan.objects.filter(status="paused")
    assert paused.filter(sessions__fall=True).exists()
    assert Screening.objects.filter(status="blocked", plans__isnull=True).exists()
    assert Screening.objects.filter(status="incomplete").exists()
    assert Plan.objects.exclude(override_reason="").exists()
    assert Screening.objects.filter(status="modified").exists()

    # A non-adherent patient: under half of the scheduled sessions logged.
    def adherence(plan):
        weeks = max(
            1, (max(plan.sessions.values_list("date", flat=True)) - plan.start_date).days / 7
        )
        return plan.sessions.count() / (weeks * len(plan.schedule_days))

    logged = [p for p in Plan.objects.all() if p.sessions.exists()]
    assert any(adherence(plan) < 0.5 for plan in logged)


def test_demo_has_outcome_scores_against_a_baseline(seeded):
    assert OutcomeScore.objects.filter(measure="koos").exists()
    assert OutcomeScore.objects.filter(measure="rmdq").exists()
    assert OutcomeScore.objects.values("patient").distinct().count() >= 20
    assert ClinicalNote.objects.filter(patient__plans__isnull=False).exists()


def test_demo_writes_went_through_the_services_and_are_audited(seeded):
    assert AuditEvent.objects.filter(action="session.log").count() == SessionLog.objects.count()
    assert AuditEvent.objects.filter(action="plan.assign").count() == Plan.objects.count()


def test_running_seed_demo_again_changes_nothing_and_prints_the_logins(seeded):
    counts = (Patient.objects.count(), SessionLog.objects.count(), Protocol.objects.count())
    out = StringIO()
    call_command("load_protocols", stdout=out)
    call_command("seed_demo", stdout=out)
    assert (Patient.objects.count(), SessionLog.objects.count(), Protocol.objects.count()) == counts
    assert "already loaded" in out.getvalue()
    for login in ("admin", "hughes", "patel", "maria"):
        assert login in out.getvalue()


def test_demo_maria_signs_in_with_her_records_one_address(seeded, rf, settings):
    maria = Patient.objects.get(user__username="maria")
    assert maria.user.email == maria.email == "maria.lopez@example.org"
    request = rf.post("/portal/login/")
    assert authenticate(request, username=maria.email, password=settings.DEMO_PASSWORD)


def test_demo_logins_work(seeded, client, settings, rf):
    # Through authenticate() with a request, as a sign-in page calls it (django-axes needs it).
    for username in ("hughes", "admin", "patel", "maria"):
        request = rf.post("/clinic/login/")
        assert authenticate(request, username=username, password=settings.DEMO_PASSWORD)


def test_the_demo_clinic_has_contact_details_patients_can_call(seeded):
    clinic = Clinic.objects.get()
    assert clinic.phone_uri == "tel:01614960000"
    assert clinic.address
    assert clinic.opening_hours
    clinic.full_clean()  # the demo's details pass the same validation as the dashboard's
