"""The Today list (clinicians:today): every patient of the clinic, the ones most in need first,
with search, filters, pagination, one audit event per patient shown, and the same number of
queries for any number of patients."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from freezegun import freeze_time

from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.clinical import levels as L
from rehab.models import AuditEvent, Patient, Plan
from tests.factories import (
    TODAY,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)

URL = reverse("clinicians:today")
# Session, user, clinician; the refresh of the stale patients' stored need (one UPDATE); the
# summary's counts, which say how long the list is unless a search, condition or plan status
# narrows it (then the list's own count: SEARCH_PAGE_QUERIES); the page's rows; the rows'
# details, sessions and decisions; the audit insert. The same for any number of patients, stale
# or not.
PAGE_QUERIES = 10
SEARCH_PAGE_QUERIES = PAGE_QUERIES + 1


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def _frozen():
    # Monday 2 March 2026, noon in London: the clinic's and the patients' day is TODAY.
    with freeze_time("2026-03-02 12:00"):
        yield


def patient_in(clinic, last_name: str, *, screened_on: dt.date | None = None, **fields):
    patient = PatientFactory(clinic=clinic, last_name=last_name, **fields)
    if screened_on is not None:
        services.screening_submit(
            patient=patient,
            answers=clean_answers(patient.condition),
            actor=None,
            today=screened_on,
        )
    return patient


def plan_for(clinic, last_name: str, *, start: dt.date, auto_apply: bool = True, **fields) -> Plan:
    """A patient of the clinic screened on `start` and given the built-in protocol from then
    (Monday, Wednesday and Friday for its first level)."""
    patient = patient_in(clinic, last_name, screened_on=start, **fields)
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=None,
        start_date=start,
        auto_apply=auto_apply,
        today=start,
    )


def log(plan: Plan, day: dt.date, **overrides):
    return services.session_log(
        plan=plan, actor=None, date=day, today=TODAY, **good_session(**overrides)
    )


def log_this_week(plan: Plan, **overrides) -> None:
    """Every plan day of the last 7 days: Wednesday 25 Feb, Friday 27 Feb and today."""
    for back in (5, 3, 0):
        log(plan, days_ago(back), **overrides)


def rows_of(response) -> list[str]:
    return [row.patient.last_name for row in response.context["rows"]]


@pytest.fixture
def ward(clinic):
    """One patient for each reason to look, one with none, and one whose plan has ended."""
    fall = plan_for(clinic, "Fall", start=days_ago(20))
    log(fall, days_ago(1), fall=True)  # pauses the plan and invalidates the screening
    pending = plan_for(clinic, "Pending", start=days_ago(9), auto_apply=False)
    for back in range(9, 0, -1):  # daily good sessions, settled by morning: an advance
        log(pending, days_ago(back), pain_next_morning=2)
    unsettled = plan_for(clinic, "Unsettled", start=days_ago(20))
    log(unsettled, days_ago(5))
    log(unsettled, days_ago(3), pain_before=2, pain_next_morning=5)
    log(unsettled, days_ago(0))
    expired = plan_for(clinic, "Expired", start=days_ago(100))  # screening valid 90 days
    log_this_week(expired)
    low = plan_for(clinic, "Lowadherence", start=days_ago(20))
    # 1 of 3 planned sessions: today's walked, Wednesday's and Friday's missed (an unlogged
    # today would not count yet: there is still time to walk).
    log(low, days_ago(0))
    due = plan_for(clinic, "Due", start=days_ago(80))  # screening ends in 10 days
    log_this_week(due)
    patient_in(clinic, "Needsscreening")
    patient_in(clinic, "Readyforplan", screened_on=days_ago(1))
    steady = plan_for(clinic, "Steady", start=days_ago(20))
    log_this_week(steady)
    ended = plan_for(clinic, "Completed", start=days_ago(30))
    services.plan_complete(plan=ended, actor=None)
    patient_in(clinic, "Archived", archived_at=timezone.now())


# --- Who may see it ---------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("clinicians:login"))


def test_patient_is_sent_to_the_portal(client, clinic):
    patient = patient_in(clinic, "Portal", user=UserFactory())
    client.force_login(patient.user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:today")


def test_another_clinics_patients_are_never_listed(dashboard, clinic, stranger):
    patient_in(clinic, "Ours")
    response = dashboard.get(URL, {"q": stranger.last_name})
    assert rows_of(response) == []
    response = dashboard.get(URL)
    assert rows_of(response) == ["Ours"]
    assert stranger.last_name not in response.content.decode()
    assert response.context["counts"]["total"] == 1


def test_empty_clinic_offers_to_add_the_first_patient(dashboard):
    response = dashboard.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "No patients yet" in page
    assert reverse("clinicians:patient_new") in page


# --- Flags and order --------------------------------------------------------------------------


@pytest.mark.usefixtures("ward")
def test_patients_are_sorted_by_their_most_urgent_flag_then_by_name(dashboard):
    response = dashboard.get(URL)
    assert rows_of(response) == [
        "Fall",
        "Pending",
        "Unsettled",
        "Expired",
        "Lowadherence",
        "Due",
        "Needsscreening",
        "Readyforplan",
        "Completed",
        "Steady",
    ]


@pytest.mark.usefixtures("ward")
def test_each_patient_carries_the_flags_that_apply_in_words(dashboard):
    response = dashboard.get(URL)
    flags = {row.patient.last_name: [f.code for f in row.flags] for row in response.context["rows"]}
    assert flags == {
        # The fall also invalidated the screening: it must be renewed before resuming.
        "Fall": ["safety_pause", "screening_expired"],
        "Pending": ["pending_decision"],
        "Unsettled": ["pain_unsettled"],
        "Expired": ["screening_expired"],
        "Lowadherence": ["non_adherent"],
        "Due": ["screening_due"],
        "Needsscreening": ["screening_needed"],
        "Readyforplan": ["no_plan"],
        "Completed": [],
        "Steady": [],
    }
    page = response.content.decode()
    for words in (
        "Paused: fall",
        "Awaiting approval: advance to level 2",
        "Next-morning pain up",
        "Screening expired",
        "Low adherence 1/3",
        "Screening due soon",
        "Screening needed",
        "No plan yet",
        "Plan completed",
    ):
        assert words in page


@pytest.mark.usefixtures("ward")
def test_summary_counts_each_flag_for_the_whole_clinic_and_links_to_the_filter(dashboard):
    response = dashboard.get(URL, {"q": "Steady"})  # a search narrows the list, not the summary
    counts = response.context["counts"]
    assert counts["total"] == 10  # the archived patient is not counted
    assert counts["attention"] == 8
    assert counts["screening_expired"] == 2  # Fall and Expired
    assert all(
        counts[code] == 1
        for code in (
            "safety_pause",
            "pending_decision",
            "pain_unsettled",
            "non_adherent",
            "screening_due",
            "screening_needed",
            "no_plan",
        )
    )
    page = response.content.decode()
    assert '<a href="?flag=safety_pause">' in page
    assert "Paused by a safety event" in page


@pytest.mark.usefixtures("ward")
@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("safety_pause", ["Fall"]),
        ("pending_decision", ["Pending"]),
        ("pain_unsettled", ["Unsettled"]),
        ("screening_expired", ["Fall", "Expired"]),
        ("non_adherent", ["Lowadherence"]),
        ("screening_due", ["Due"]),
        ("screening_needed", ["Needsscreening"]),
        ("no_plan", ["Readyforplan"]),
        (
            "attention",
            [
                *("Fall", "Pending", "Unsettled", "Expired", "Lowadherence", "Due"),
                *("Needsscreening", "Readyforplan"),
            ],
        ),
    ],
)
def test_filter_by_flag_lists_only_those_patients(dashboard, flag, expected):
    response = dashboard.get(URL, {"flag": flag})
    assert rows_of(response) == expected


def test_a_clinicians_pause_is_not_a_safety_pause(dashboard, clinic):
    plan = plan_for(clinic, "Holiday", start=days_ago(20))
    log_this_week(plan)
    services.plan_pause(plan=plan, actor=None, reason="On holiday for two weeks.")
    row = dashboard.get(URL).context["rows"][0]
    assert row.plan_status == "paused"
    assert "safety_pause" not in [f.code for f in row.flags]


def test_a_pause_after_resuming_from_a_fall_is_the_clinicians_not_a_safety_pause(dashboard, clinic):
    plan = plan_for(clinic, "Resumed", start=days_ago(20))
    log(plan, days_ago(2), fall=True)
    assert dashboard.get(URL).context["rows"][0].flags[0].text == "Paused: fall"
    services.screening_submit(
        patient=plan.patient, answers=clean_answers(plan.patient.condition), actor=None, today=TODAY
    )
    services.plan_resume(plan=plan, actor=None, today=TODAY)
    services.plan_pause(plan=plan, actor=None, reason="Away for a week.")
    (row,) = dashboard.get(URL).context["rows"]
    assert row.plan_status == "paused"
    assert "safety_pause" not in [f.code for f in row.flags]


def test_rescreening_clears_the_expired_flag_while_the_plan_runs(dashboard, clinic):
    plan = plan_for(clinic, "Rescreened", start=days_ago(100))
    log_this_week(plan)
    assert [f.code for f in dashboard.get(URL).context["rows"][0].flags] == ["screening_expired"]
    services.screening_submit(
        patient=plan.patient, answers=clean_answers(plan.patient.condition), actor=None, today=TODAY
    )
    assert dashboard.get(URL).context["rows"][0].flags == []


# --- What a row shows -------------------------------------------------------------------------


def test_row_shows_level_adherence_last_session_and_pain_trend(dashboard, clinic):
    plan = plan_for(clinic, "Rising", start=days_ago(20))
    for back, pain in ((13, 1), (11, 1), (9, 1), (7, 4), (3, 4), (1, 4)):
        log(plan, days_ago(back), pain_before=1, pain_worst=4, pain_after=pain)
    response = dashboard.get(URL)
    (row,) = response.context["rows"]
    assert (row.level_number, row.level_count) == (1, len(plan.levels))
    assert row.level_name
    assert not row.level_name.startswith("Level 1:")  # the number is said once, before it
    # The one adherence rule: Tue 17, Thu 19, Sat 21 Feb and Sun 1 Mar are rest days, walked
    # but not planned sessions; today (Monday, not walked yet) is not due. Last 7 days: Friday
    # done, Wednesday missed (before the rule: "2 of 3").
    assert (row.adherence_7.done, row.adherence_7.due, row.adherence_7.extra) == (1, 2, 1)
    # 28 days back reach the plan's start on 10 Feb: 8 Mondays, Wednesdays and Fridays gone by,
    # two of them walked (before: "6 of 9").
    assert (row.adherence_28.done, row.adherence_28.due, row.adherence_28.extra) == (2, 8, 4)
    assert row.last_session == days_ago(1)
    assert row.pain_trend.direction == "worse"
    page = response.content.decode()
    assert f"Level 1 of {len(plan.levels)}" in page
    assert "1 of 2 (50 %) +1 on rest days" in " ".join(strip_tags(page).split())
    assert "2 of 8 (25 %) +4 on rest days" in " ".join(strip_tags(page).split())
    assert "yesterday" in page
    assert "Worse" in page


def test_names_and_record_numbers_are_shown_as_text_never_as_markup(dashboard, clinic):
    # The rows are written in Python (clinicians/templatetags/today_table.py), not by the
    # template's autoescaping: everything a person typed must still arrive as text.
    plan_for(clinic, "<script>alert(1)</script>", start=days_ago(3), first_name="Ann & <b>Bo</b>")
    PatientFactory(clinic=clinic, last_name='O"Hara', external_id="<i>MRN-7</i>")
    page = dashboard.get(URL).content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;, Ann &amp; &lt;b&gt;Bo&lt;/b&gt;" in page
    assert "O&quot;Hara" in page
    assert "&lt;i&gt;MRN-7&lt;/i&gt;" in page
    assert "<i>MRN-7" not in page


@pytest.mark.parametrize(
    ("pains", "direction"),
    [
        ([4, 4, 4, 1, 1, 1], "worse"),  # newest first
        ([1, 1, 1, 4, 4, 4], "better"),
        ([2, 3, 2, 2, 2, 3], "steady"),
        ([5, 5, 5], ""),  # nothing to compare with
    ],
)
def test_pain_trend_compares_the_last_three_sessions_with_the_three_before(pains, direction):
    assert selectors.pain_trend_of(pains).direction == direction


# --- Search, filters, pagination -------------------------------------------------------------


def test_search_matches_name_record_number_and_email_words(dashboard, clinic):
    patient_in(clinic, "Okafor", first_name="Ada", external_id="MRN-778", email="ada@clinic.test")
    patient_in(clinic, "Okafor", first_name="Ben", external_id="MRN-901", email="ben@mail.test")
    patient_in(clinic, "Smith", first_name="Ada")
    assert rows_of(dashboard.get(URL, {"q": "okaf"})) == ["Okafor", "Okafor"]
    assert [
        r.patient.first_name for r in dashboard.get(URL, {"q": "ada okafor"}).context["rows"]
    ] == ["Ada"]
    assert [r.patient.first_name for r in dashboard.get(URL, {"q": "mrn-901"}).context["rows"]] == [
        "Ben"
    ]
    assert rows_of(dashboard.get(URL, {"q": "ada@clinic"})) == ["Okafor"]
    assert rows_of(dashboard.get(URL, {"q": "nobody"})) == []
    assert "No patient matches" in dashboard.get(URL, {"q": "nobody"}).content.decode()


def test_filters_by_condition_and_plan_status(dashboard, clinic):
    active = plan_for(clinic, "Active", start=days_ago(20))
    log_this_week(active)
    paused = plan_for(clinic, "Paused", start=days_ago(20))
    services.plan_pause(plan=paused, actor=None)
    ended = plan_for(clinic, "Ended", start=days_ago(20))
    services.plan_discontinue(plan=ended, actor=None, reason="Moved away.")
    patient_in(clinic, "Back", condition=L.CHRONIC_LOW_BACK_PAIN)
    patient_in(clinic, "Gone", archived_at=timezone.now())
    assert rows_of(dashboard.get(URL, {"status": "active"})) == ["Active"]
    assert rows_of(dashboard.get(URL, {"status": "paused"})) == ["Paused"]
    assert rows_of(dashboard.get(URL, {"status": "ended"})) == ["Ended"]
    assert rows_of(dashboard.get(URL, {"status": "none"})) == ["Back"]
    assert rows_of(dashboard.get(URL, {"status": "archived"})) == ["Gone"]
    assert rows_of(dashboard.get(URL, {"condition": L.CHRONIC_LOW_BACK_PAIN})) == ["Back"]
    assert "Gone" not in rows_of(dashboard.get(URL))


def test_unknown_filter_values_are_reported_and_ignored(dashboard, clinic):
    patient_in(clinic, "Anyone")
    response = dashboard.get(URL, {"flag": "bogus", "status": "x", "condition": "knee"})
    assert response.status_code == 200
    assert rows_of(response) == ["Anyone"]
    form = response.context["form"]
    assert set(form.errors) == {"flag", "status", "condition"}
    assert "Some filters were not understood" in response.content.decode()


@pytest.fixture
def crowd(clinic):
    for i in range(30):
        patient_in(clinic, f"Crowd{i:02d}")


@pytest.mark.usefixtures("crowd")
@pytest.mark.parametrize(
    ("page", "number", "first"),
    [
        ("", 1, "Crowd00"),
        ("2", 2, "Crowd25"),
        ("abc", 1, "Crowd00"),
        ("99", 2, "Crowd25"),
        ("0", 2, "Crowd25"),
        ("-1", 2, "Crowd25"),
    ],
)
def test_pages_of_25_and_a_bad_page_number_shows_the_first_or_last(dashboard, page, number, first):
    response = dashboard.get(URL, {"page": page} if page else {})
    assert response.status_code == 200
    assert response.context["page"].number == number
    rows = rows_of(response)
    assert rows[0] == first
    assert len(rows) == (25 if number == 1 else 5)


@pytest.mark.usefixtures("crowd")
def test_page_links_keep_the_search_and_filters(dashboard):
    page = dashboard.get(URL, {"q": "crowd", "status": "none"}).content.decode()
    assert "?q=crowd&amp;status=none&amp;page=2" in page


# --- Audit and cost ---------------------------------------------------------------------------


@pytest.mark.usefixtures("crowd")
def test_one_audit_event_per_page_naming_every_patient_shown(dashboard, clinician):
    """The page's read is one event (it was one per row) naming the patients shown in their
    order; each of them finds it in their own trail (the patient page and the API's filter)."""
    response = dashboard.get(URL, {"page": "2"})
    shown = [row.patient.pk for row in response.context["rows"]]
    assert len(shown) == 5
    event = AuditEvent.objects.get(action="patient.list")
    assert (event.patient_ref, event.detail) == (None, {"patients": shown})
    assert (event.actor_id, event.clinic_id) == (clinician.user_id, clinician.clinic_id)
    principal = principal_for_user(clinician.user)
    for pk in shown:
        page = selectors.patient_page(principal=principal, patient=Patient.objects.get(pk=pk))
        assert event.pk in {row.event.pk for row in page.audit_events}


def test_archived_patients_join_the_list_only_when_asked(clinic, clinician):
    patient_in(clinic, "Here")
    patient_in(clinic, "Gone", archived_at=timezone.now())
    principal = principal_for_user(clinician.user)
    names = lambda **kw: [  # noqa: E731
        p.last_name for p in selectors.patient_list_for_dashboard(principal=principal, **kw)
    ]
    assert names() == ["Here"]
    assert sorted(names(include_archived=True)) == ["Gone", "Here"]


def add_patients(clinic, start: int, count: int) -> None:
    """Patients with plans, sessions and decisions; every fifth fell, every seventh has no plan."""
    for i in range(start, start + count):
        if i % 7 == 0:
            patient_in(clinic, f"Many{i:03d}", screened_on=days_ago(2))
            continue
        plan = plan_for(clinic, f"Many{i:03d}", start=days_ago(20), auto_apply=i % 2 == 0)
        log(plan, days_ago(3), fall=i % 5 == 0)


def page_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_page_costs_the_same_queries_for_10_or_60_patients(dashboard, clinic):
    add_patients(clinic, 0, 10)
    dashboard.get(URL)  # the first page after signing in also extends the session
    assert page_queries(dashboard) == PAGE_QUERIES
    add_patients(clinic, 10, 50)
    assert page_queries(dashboard) == PAGE_QUERIES
    with CaptureQueriesContext(connection) as ctx:
        dashboard.get(URL, {"flag": "attention", "page": "2"})
    assert len(ctx.captured_queries) == PAGE_QUERIES
    with CaptureQueriesContext(connection) as ctx:
        dashboard.get(URL, {"q": "many", "flag": "attention", "page": "2"})
    assert len(ctx.captured_queries) == SEARCH_PAGE_QUERIES


@pytest.mark.usefixtures("ward")
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"flag": "attention"},
        *({"flag": flag.code} for flag in selectors.DASHBOARD_FLAGS),
        {"q": "fall"},
        {"status": "active"},
        {"condition": L.KNEE_OA},
        {"status": "archived"},
    ],
)
def test_the_pages_count_is_the_lists_whether_counted_or_read_from_the_summary(dashboard, filters):
    response = dashboard.get(URL, filters)
    listed = selectors.patient_list_for_dashboard(
        principal=principal_for_user(response.wsgi_request.user),
        search=filters.get("q", ""),
        flag=filters.get("flag", ""),
        condition=filters.get("condition", ""),
        status=filters.get("status", ""),
    )
    assert response.context["page"].paginator.count == listed.count()
