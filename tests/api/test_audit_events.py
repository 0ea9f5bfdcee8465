"""The audit-events list pages by cursor: no count of every row, pages that follow one another
without a gap or a repeat, and a cursor it did not give is a 400, never a 500."""

import base64
import datetime as dt

import pytest
from django.utils import timezone

from rehab.audit import AuditAction, audit_record, events_of_patient
from rehab.models import AuditEvent

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit-events/"


@pytest.fixture
def trail(world):
    """60 more events in clinic 1, five of them at the very same moment (a page's edge may fall
    among them)."""
    same = timezone.now() - dt.timedelta(hours=1)
    for i in range(60):
        event = audit_record(actor=None, action=AuditAction.REMINDER_SENT, patient=world.patient_a)
        if i < 5:
            AuditEvent.objects.filter(pk=event.pk).update(at=same)
    return world


def every_page(client, url):
    rows, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body
        rows += body["results"]
        url, pages = body["next"], pages + 1
    return rows, pages


@pytest.mark.parametrize("ordering", ["", "-at,-id", "at", "id", "-id"])
def test_the_pages_follow_one_another_without_a_gap_or_a_repeat(trail, ordering):
    # Only the reminders: each page read adds its own audit.read event to the trail.
    query = "?page_size=7&action=reminder.sent" + (f"&ordering={ordering}" if ordering else "")
    rows, pages = every_page(trail.clients["admin1"], URL + query)
    expected = AuditEvent.objects.filter(clinic=trail.clinic1, action="reminder.sent")
    ids = [row["id"] for row in rows]
    if ordering == "at":  # by time alone, events at the same moment may come in any order
        assert sorted(ids) == sorted(event.pk for event in expected)
        assert [row["at"] for row in rows] == sorted(row["at"] for row in rows)
    else:
        assert ids == [event.pk for event in expected.order_by(*(ordering or "-at,-id").split(","))]
    assert len(ids) == 60
    assert pages == 9


def test_the_previous_link_goes_back_to_the_same_page(trail):
    admin = trail.clients["admin1"]
    first = admin.get(URL + "?page_size=10").json()
    assert first["previous"] is None
    second = admin.get(first["next"]).json()
    back = admin.get(second["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]


def cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=%E2%9C%93",  # not ASCII
        "cursor=" + cursor("o=x"),
        "cursor=" + cursor("o=-3"),
        "cursor=" + cursor("r=maybe"),
        "cursor=" + cursor("p=yesterday"),
        "cursor=" + cursor("p=2026-13-45 10:00:00+00:00"),
        "cursor=" + cursor("p=2026-01-01 10:00:00"),  # no offset: which moment?
        "cursor=" + cursor("p=9999-12-31 23:59:59-15:00"),  # past the calendar in UTC
        "cursor=" + cursor("p=1"),
        "ordering=id&cursor=" + cursor("p=abc"),
        "ordering=id&cursor=" + cursor("p=" + "9" * 30),
        "cursor=" + cursor("p=2026-01-01 10:00:00+00:00") + "&cursor=x",
        "page_size=0",
        "page_size=101",
    ],
)
def test_a_cursor_or_page_size_it_did_not_give_is_a_400(trail, query):
    response = trail.clients["admin1"].get(f"{URL}?{query}")
    assert response.status_code == 400, response.content
    field = "page_size" if query.startswith("page_size") else "cursor"
    assert field in response.json()["fields"]


def test_a_cursor_of_another_ordering_still_answers(trail):
    """A time cursor given to the id ordering (or the reverse) is refused or read as a place of
    that ordering: a 400 or a page, never a 500."""
    admin = trail.clients["admin1"]
    by_time = admin.get(URL + "?page_size=5").json()["next"]
    token = by_time.split("cursor=")[1].split("&")[0]
    assert admin.get(f"{URL}?ordering=id&cursor={token}").status_code == 400
    by_id = admin.get(URL + "?page_size=5&ordering=id").json()["next"]
    token = by_id.split("cursor=")[1].split("&")[0]
    assert admin.get(f"{URL}?cursor={token}").status_code == 400


def test_reading_a_list_read_in_the_trail_is_in_each_listed_patients_history(world):
    """A list read is one event naming its patients in detail["patients"] (its own patient is
    none); reading it in the trail named none of them, so a listed patient's history lacked
    that audit.read."""
    assert world.clients["clinician1"].get("/api/v1/patients/").status_code == 200
    listing = AuditEvent.objects.filter(action="patient.read").order_by("-id").first()
    assert listing.patient_id is None
    assert len(listing.detail["patients"]) > 1
    response = world.clients["admin1"].get(URL + "?page_size=100")
    assert listing.pk in [row["id"] for row in response.json()["results"]]
    read = AuditEvent.objects.filter(action="audit.read").order_by("-id").first()
    for patient_id in listing.detail["patients"]:
        assert AuditEvent.objects.filter(events_of_patient(patient_id), pk=read.pk).exists()
