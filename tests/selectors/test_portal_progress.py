"""The portal's My progress selectors (rehab.selectors.portal_progress): the patient's own
sessions, plain-language reports and questionnaire drafts, never anyone else's."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import selectors, services
from rehab.models import QuestionnaireDraft, Report

pytestmark = pytest.mark.django_db


def test_the_charts_sessions_are_the_plans_own_in_one_query(clinics, django_assert_num_queries):
    today = clinics.ours.patient.local_today()
    since = today - dt.timedelta(days=28)
    with django_assert_num_queries(1):
        own = selectors.portal_progress_sessions(
            clinics.patient, plan=clinics.ours, since=since, today=today
        )
        # Read as the charts read them: no deferred field costs a query more.
        points = [(s.date, s.pain_worst, s.pain_next_morning, s.effort) for s in own]
    assert len(points) == 1
    assert (
        selectors.portal_progress_sessions(
            clinics.patient, plan=clinics.neighbour, since=since, today=today
        )
        == []
    )


def test_a_patient_reads_their_own_plain_language_reports_only(clinics, django_assert_num_queries):
    with django_assert_num_queries(1):
        reports = selectors.portal_reports(clinics.patient)
    assert [(r.patient_id, r.audience) for r in reports] == [
        (clinics.ours.patient_id, Report.Audience.PATIENT)
    ]
    clinicians_version = Report.objects.get(
        patient=clinics.ours.patient, audience=Report.Audience.CLINICIAN
    )
    neighbours = Report.objects.filter(patient=clinics.neighbour.patient).first()
    for report in (clinicians_version, neighbours):
        with pytest.raises(Report.DoesNotExist):
            selectors.portal_report(clinics.patient, report_id=report.pk)


def test_the_drafts_are_the_patients_own_and_fresh(clinics, settings):
    settings.QUESTIONNAIRE_DRAFT_DAYS = 7
    for plan in (clinics.ours, clinics.neighbour):
        services.questionnaire_draft_save(
            patient=plan.patient, measure="koos", answers={"P1": 1}, page=1, actor=None
        )
    drafts = selectors.portal_questionnaire_drafts(clinics.patient)
    assert list(drafts) == ["koos"]
    assert selectors.portal_questionnaire_draft(clinics.patient, measure="koos") is not None
    QuestionnaireDraft.objects.update(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    assert selectors.portal_questionnaire_drafts(clinics.patient) == {}
    assert selectors.portal_questionnaire_draft(clinics.patient, measure="koos") is None
