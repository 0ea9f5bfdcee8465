"""The long questionnaires (KOOS's 42 items, RMDQ's 24) page by page: each page saved as it is
left, resumed where left, the finished questionnaire scored as before, nothing lost when the
sign-in ends on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from patients import keep
from patients.forms import outcomes as forms_outcomes
from rehab import selectors, services
from rehab.access import principal_for_user
from rehab.clinical import levels as L
from rehab.clinical import outcomes as clinical_outcomes
from rehab.errors import RehabError
from rehab.models import AuditEvent, OutcomeScore, QuestionnaireDraft
from tests.web.portal.test_questionnaires import (
    PER_SUBSCALE,
    koos_post,
    koos_score,
    on,
    plan_for,
    url,
)

pytestmark = pytest.mark.django_db
NOW = "2026-03-02 12:00"
KOOS_PAGES = forms_outcomes.questionnaire_pages("koos")


@pytest.fixture
def plan():
    return plan_for()


def page_post(number: int, go: str = "next", *, leave_out=()) -> dict:
    """The answers of KOOS page `number` (1-based) as its form posts them."""
    items = KOOS_PAGES[number - 1].items
    answers = koos_post(leave_out=leave_out)
    return {
        **{item: answers[item] for item in items if item in answers},
        "page": str(number),
        "go": go,
    }


def _checked(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{name}" value="(\d)"[^>]*checked', html)


def test_koos_has_a_page_for_each_scored_part():
    assert [page.title for page in KOOS_PAGES] == [
        "Symptoms and Stiffness",
        "Pain",
        "Function, daily living",
        "Function, sports and recreational activities",
        "Quality of Life",
    ]
    assert sum(len(page.items) for page in KOOS_PAGES) == 42
    rmdq = forms_outcomes.questionnaire_pages("rmdq")
    assert [len(page.items) for page in rmdq] == [8, 8, 8]
    assert forms_outcomes.questionnaire_pages("nprs") == ()


def test_each_page_is_saved_as_it_is_left_and_the_next_one_shown(client, plan):
    with on(client, plan, NOW):
        first = client.get(url("koos")).content.decode()
        response = client.post(url("koos"), page_post(1))
        second = client.get(response["Location"]).content.decode()
    assert "<strong>Page 1 of 5</strong>: Symptoms and Stiffness" in first
    assert response.status_code == 302
    assert response["Location"] == url("koos") + "?page=2"
    assert "<strong>Page 2 of 5</strong>: Pain" in second
    draft = QuestionnaireDraft.objects.get(patient=plan.patient, measure="koos")
    assert draft.page == 1
    assert draft.answers == dict.fromkeys(KOOS_PAGES[0].items, 0)
    assert not OutcomeScore.objects.exists()
    event = AuditEvent.objects.get(action="outcome.draft_save")
    assert event.detail == {"measure": "koos", "page": 1, "items": 7}


def test_opening_the_questionnaire_again_resumes_where_it_was_left(client, plan):
    with on(client, plan, NOW):
        client.post(url("koos"), page_post(1))
        client.post(url("koos"), page_post(2))
    with on(client, plan, "2026-03-02 18:00"):  # later that day, a new sign-in
        html = client.get(url("koos")).content.decode()
        back = client.get(url("koos") + "?page=2").content.decode()
    assert "<strong>Page 3 of 5</strong>" in html
    assert "Welcome back. Your answers so far are saved" in html
    assert _checked(back, "P1") == ["1"]  # what was chosen on the page is chosen again


def test_previous_page_saves_this_page_and_shows_the_one_before_filled_in(client, plan):
    with on(client, plan, NOW):
        client.post(url("koos"), page_post(1))
        response = client.post(url("koos"), page_post(2, "back"))
        html = client.get(response["Location"]).content.decode()
    assert response["Location"] == url("koos") + "?page=1"
    assert _checked(html, "S1") == ["0"]
    draft = QuestionnaireDraft.objects.get()
    assert draft.answers["P1"] == 1


def test_save_and_finish_later_keeps_the_page(client, plan):
    with on(client, plan, NOW):
        client.post(url("koos"), page_post(1))
        response = client.post(url("koos"), page_post(2, "later"))
        progress = client.get(response["Location"]).content.decode()
        resumed = client.get(url("koos")).content.decode()
    assert response["Location"] == reverse("patients:progress")
    assert "Your answers so far are saved" in progress
    assert "<strong>Page 2 of 5</strong>" in resumed
    assert QuestionnaireDraft.objects.get().answers["P9"] == 1


def test_the_last_page_scores_the_whole_questionnaire_as_before(client, plan):
    with on(client, plan, NOW):
        for number in range(1, 5):
            assert client.post(url("koos"), page_post(number)).status_code == 302
        response = client.post(url("koos"), page_post(5))
    assert response["Location"] == reverse("patients:progress") + "#scores"
    record = OutcomeScore.objects.get(patient=plan.patient, measure="koos")
    assert record.scores == {subscale: koos_score(subscale) for subscale in PER_SUBSCALE}
    assert record.answers == {item: int(value) for item, value in koos_post().items()}
    assert not QuestionnaireDraft.objects.exists()


def test_a_refusal_when_finishing_is_shown_on_its_page_filled_in_and_kept(client, plan):
    with on(client, plan, NOW):
        client.post(url("koos"), {"S1": "2", "page": "1", "go": "next"})
        for number in range(2, 5):
            client.post(url("koos"), {"page": str(number), "go": "next"})
        response = client.post(url("koos"), {"Q4": "3", "page": "5", "go": "next"})
    # No part is half answered: the service refuses, and the first part it names is shown.
    assert response.status_code == 400
    html = response.content.decode()
    assert "<strong>Page 1 of 5</strong>: Symptoms and Stiffness" in html
    assert "Please answer at least half of the questions under" in html
    assert _checked(html, "S1") == ["2"]
    assert not OutcomeScore.objects.exists()
    assert QuestionnaireDraft.objects.get().answers == {"S1": 2, "Q4": 3}


def test_the_back_questionnaire_is_ticked_over_three_pages(client):
    plan = plan_for(L.CHRONIC_LOW_BACK_PAIN)
    ticked = {"R2", "R9", "R17", "R24"}
    pages = forms_outcomes.questionnaire_pages("rmdq")
    with on(client, plan, NOW):
        for number, page in enumerate(pages, start=1):
            data = {item: "on" for item in page.items if item in ticked}
            response = client.post(url("rmdq"), {**data, "page": str(number), "go": "next"})
            assert response.status_code == 302
    record = OutcomeScore.objects.get(measure="rmdq")
    assert record.scores == {"total": 4.0}
    assert record.answers == {item: item in ticked for item in clinical_outcomes.RMDQ_ITEMS}


def test_a_draft_is_the_patients_own(client, plan):
    other = plan_for()
    with on(client, plan, NOW):
        client.post(url("koos"), page_post(1))
        client.post(url("koos"), page_post(2))
    with on(client, other, NOW):
        html = client.get(url("koos")).content.decode()
    assert "<strong>Page 1 of 5</strong>" in html
    assert "Welcome back" not in html
    assert _checked(html, "S1") == []
    principal = principal_for_user(other.patient.user)
    assert selectors.portal_questionnaire_draft(principal, measure="koos") is None


def test_a_bad_answer_on_a_page_is_a_400_on_that_page_and_nothing_saved(client, plan):
    with on(client, plan, NOW):
        response = client.post(url("koos"), {**page_post(2), "P1": "9"})
    assert response.status_code == 400
    assert "Please choose one of the answers given." in response.content.decode()
    assert not QuestionnaireDraft.objects.exists()


def test_a_page_post_costs_a_fixed_number_of_queries(client, plan, django_assert_num_queries):
    with on(client, plan, NOW):
        client.get(url("koos"))  # the session's first request refreshes its expiry
        # session, user, principal (clinician, patient), plan, protocol, scores, draft; the
        # save: savepoint, the draft locked (or made: savepoint, insert, release), update,
        # audit, release
        with django_assert_num_queries(16):
            client.post(url("koos"), page_post(1))
        with django_assert_num_queries(13):
            client.post(url("koos"), page_post(2))
        with django_assert_num_queries(13):
            client.post(url("koos"), page_post(3))


def test_the_service_takes_only_the_measures_own_questions(plan):
    patient = plan.patient
    with pytest.raises(RehabError) as refused:
        services.questionnaire_draft_save(
            patient=patient, measure="koos", answers={"R1": True}, page=0, actor=None
        )
    assert "R1" in refused.value.fields
    with pytest.raises(RehabError):
        services.questionnaire_draft_save(
            patient=patient, measure="nprs", answers={"score": 3}, page=0, actor=None
        )
    assert not QuestionnaireDraft.objects.exists()


def test_a_page_sent_after_the_sign_in_ended_is_saved_after_signing_in(client, plan):
    with freeze_time(NOW) as clock:
        client.force_login(plan.patient.user)
        client.post(url("koos"), page_post(1))
        page = client.get(url("koos") + "?page=2").content.decode()
        kept_for = re.search(rf'name="{keep.KEPT_FOR_FIELD}" value="([^"]+)"', page)[1]
        clock.tick(dt.timedelta(minutes=45))  # a slow page
        sent = client.post(url("koos"), {**page_post(2), keep.KEPT_FOR_FIELD: kept_for})
        assert sent["Location"].startswith(reverse("patients:login"))
        client.post(
            reverse("patients:login"),
            {"username": plan.patient.user.username, "password": "pw", "next": url("koos")},
        )
        response = client.get(url("koos"))
    assert response.status_code == 302
    assert response["Location"] == url("koos") + "?page=3"
    assert QuestionnaireDraft.objects.get().answers["P9"] == 1


def test_a_draft_older_than_the_setting_starts_afresh(client, plan, settings):
    settings.QUESTIONNAIRE_DRAFT_DAYS = 7
    with on(client, plan, NOW):
        client.post(url("koos"), page_post(1))
        client.post(url("koos"), page_post(2))
    with on(client, plan, "2026-03-09 12:01"):  # a week and a minute later
        html = client.get(url("koos")).content.decode()
        client.post(url("koos"), page_post(3))
    assert "<strong>Page 1 of 5</strong>" in html
    assert "Welcome back" not in html
    assert _checked(html, "S1") == []
    # The week-old answers are not added to: the draft holds this week's page only.
    assert set(QuestionnaireDraft.objects.get().answers) == set(KOOS_PAGES[2].items)


def test_my_progress_says_where_to_carry_on(client, plan):
    with on(client, plan, NOW):
        before = client.get(reverse("patients:progress")).content.decode()
        client.post(url("koos"), page_post(1))
        client.post(url("koos"), page_post(2, "later"))
        after = client.get(reverse("patients:progress")).content.decode()
    assert "Please fill in: Knee questionnaire (KOOS)" in before
    assert "Carry on with: Knee questionnaire (KOOS), from page 2 of 5</a>" in after
    assert "Please fill in: Knee questionnaire (KOOS)" not in after


def test_the_hourly_purge_removes_drafts_too_old_to_be_resumed(client, plan, settings):
    # Health answers nobody will be offered again are not kept: the kept-forms purge takes them.
    from rehab import tasks

    settings.QUESTIONNAIRE_DRAFT_DAYS = 7
    with on(client, plan, NOW):
        client.post(url("koos"), page_post(1))
    with freeze_time("2026-03-09 11:59"):
        assert tasks.kept_forms_purge() == 0
    with freeze_time("2026-03-09 12:01"):
        assert tasks.kept_forms_purge() == 1
    assert not QuestionnaireDraft.objects.exists()
