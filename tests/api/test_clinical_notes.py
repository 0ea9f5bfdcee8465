"""Clinical notes in the API: /api/v1/patients/<id>/notes/ (GET, POST), for the clinic's staff
(clinicians, the clinic's key) only; the same service and rules as the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rehab import services
from rehab.models import AuditEvent, ClinicalNote

pytestmark = pytest.mark.django_db


def notes_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/notes/"


def test_the_clinics_key_adds_a_note_and_reads_them_newest_first(world, api):
    patient = world.patient_a
    today = patient.local_today()
    services.clinical_note_add(
        patient=patient, actor=None, noted_on=today - dt.timedelta(days=2), text="Earlier"
    )
    response = api.post(
        notes_url(patient), {"noted_on": today.isoformat(), "text": "Seen today"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["patient"], body["noted_on"], body["text"], body["author"]) == (
        patient.pk,
        today.isoformat(),
        "Seen today",
        "",  # a clinic system's key has no name of a person
    )
    assert AuditEvent.objects.filter(action="note.add", api_key__isnull=False).count() == 1
    listed = api.get(notes_url(patient))
    assert listed.status_code == 200
    assert [row["text"] for row in listed.json()["results"]] == ["Seen today", "Earlier"]
    read = AuditEvent.objects.get(action="note.read")
    assert (read.patient, read.clinic) == (patient, world.clinic1)


def test_a_clinicians_note_names_them(world):
    client = world.clients["clinician1"]
    response = client.post(
        notes_url(world.patient_a),
        {"noted_on": world.patient_a.local_today().isoformat(), "text": "Reviewed"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["author"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"noted_on": "2099-01-01", "text": "Later"}, "noted_on"),
        ({"noted_on": "yesterday", "text": "x"}, "noted_on"),
        ({"noted_on": "2026-03-02"}, "text"),
        ({"noted_on": "2026-03-02", "text": "   "}, "text"),
        ({"noted_on": "2026-03-02", "text": 42}, "text"),
        ({"noted_on": "2026-03-02", "text": "x" * 2001}, "text"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(world, api, body, field):
    response = api.post(notes_url(world.patient_a), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not ClinicalNote.objects.exists()


@pytest.mark.parametrize("caller", ["patient_a", "patient_b"])
def test_a_patient_cannot_read_or_write_notes_even_their_own(world, caller):
    services.clinical_note_add(
        patient=world.patient_a, actor=None, noted_on=world.patient_a.local_today(), text="Ours"
    )
    client = world.clients[caller]
    assert client.get(notes_url(world.patient_a)).status_code == 403
    response = client.post(
        notes_url(world.patient_a), {"noted_on": "2026-03-02", "text": "x"}, format="json"
    )
    assert response.status_code == 403
    assert ClinicalNote.objects.count() == 1


@pytest.mark.parametrize("caller", ["clinician2", "key2"])
def test_another_clinic_finds_no_such_patient(world, caller):
    client = world.clients[caller]
    assert client.get(notes_url(world.patient_a)).status_code == 404
    response = client.post(
        notes_url(world.patient_a), {"noted_on": "2026-03-02", "text": "x"}, format="json"
    )
    assert response.status_code == 404
    assert not ClinicalNote.objects.exists()


def test_anonymous_callers_are_refused(world):
    assert world.clients["anonymous"].get(notes_url(world.patient_a)).status_code in (401, 403)


def test_the_list_costs_the_same_queries_for_one_note_or_fifty(world, api):
    patient = world.patient_a
    today = patient.local_today()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(notes_url(patient) + "?page_size=50")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    services.clinical_note_add(patient=patient, actor=None, noted_on=today, text="One")
    api.get(notes_url(patient))  # the key's first use is recorded (once a minute): not counted
    one = count()
    for n in range(49):
        services.clinical_note_add(patient=patient, actor=None, noted_on=today, text=f"N{n}")
    # The key with its clinic, the patient, the count, the page (authors joined), the audit.
    assert (one, count()) == (NOTES_LIST_QUERIES, NOTES_LIST_QUERIES)


NOTES_LIST_QUERIES = 5


def test_a_session_says_whether_it_was_supervised(world, api):
    session = world.session  # logged by the clinician in the usual way: not supervised
    assert api.get(f"/api/v1/sessions/{session.pk}/").json()["supervised"] is False
    clinician = world.plan.assigned_by
    today = world.patient_a.local_today()
    supervised = services.session_log(
        plan=world.plan,
        actor=clinician,
        date=today,
        today=today,
        supervised=True,
        minutes_done=10,
        pain_before=1,
        pain_worst=2,
        pain_after=1,
        effort=3,
        setting="treadmill_both_handrails",
    )
    assert api.get(f"/api/v1/sessions/{supervised.pk}/").json()["supervised"] is True
