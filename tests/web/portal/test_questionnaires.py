"""Outcome questionnaires in the portal: which are due and when, the forms, scoring through the
service, answers kept with their errors when something is missing, and the scores over time in
plain words."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from freezegun import freeze_time

from patients.forms import outcomes as forms_outcomes
from rehab import services
from rehab.clinical import levels as L
from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import questionnaires
from rehab.models import AuditEvent, OutcomeScore, Plan
from tests.factories import (
    TODAY,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
)

pytestmark = pytest.mark.django_db
PROGRESS = "/portal/progress/"


def url(measure: str) -> str:
    return reverse("patients:questionnaire", args=[measure])


def plan_for(condition: str = L.KNEE_OA, *, start: dt.date = TODAY) -> Plan:
    patient = PatientFactory(user=UserFactory(), condition=condition)
    services.screening_submit(
        patient=patient, answers=clean_answers(condition), actor=None, today=start
    )
    return services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(condition),
        actor=None,
        start_date=start,
        today=start,
    )


@pytest.fixture
def plan():
    return plan_for()


@contextmanager
def on(client, plan: Plan, moment: str):
    """Signed in at a moment: a session does not outlive weeks of frozen time."""
    with freeze_time(moment):
        client.force_login(plan.patient.user)
        yield


def due_codes(client) -> list[str]:
    return [q["code"] for q in client.get(PROGRESS).context["due"]]


def psfs_post(*rows) -> dict:
    data = {}
    for n, (activity, score) in enumerate(rows, start=1):
        data[f"activity_{n}"] = activity
        data[f"score_{n}"] = "" if score is None else str(score)
    return data


def test_the_url_name_is_the_portals():
    assert reverse("patients:questionnaire", args=["nprs"]) == "/portal/questionnaires/nprs/"


def test_a_knee_plan_asks_for_koos_pain_and_activities_at_baseline(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.get(PROGRESS)
    assert [q["code"] for q in response.context["due"]] == ["koos", "nprs", "psfs"]
    html = response.content.decode()
    assert "Please fill in: Pain score, about 1 minute</a>" in html
    assert "Please fill in: Everyday activities (PSFS), about 5 minutes</a>" in html


def test_a_low_back_plan_asks_for_the_back_questionnaire_instead(client):
    plan = plan_for(L.CHRONIC_LOW_BACK_PAIN)
    with on(client, plan, "2026-03-02 12:00"):
        assert due_codes(client) == ["rmdq", "nprs", "psfs"]


def test_a_questionnaire_is_not_due_right_after_and_due_again_after_the_retest_weeks(client, plan):
    assert plan.protocol.retest_weeks == 6
    with on(client, plan, "2026-03-02 12:00"):
        client.post(url("nprs"), {"score": "6"})
        assert "nprs" not in due_codes(client)
    with on(client, plan, "2026-04-12 12:00"):  # 5 weeks and 6 days later
        response = client.get(PROGRESS)
        assert "nprs" not in [q["code"] for q in response.context["due"]]
        assert "Next time to fill it in: 13 April 2026." in response.content.decode()
    with on(client, plan, "2026-04-13 12:00"):  # 6 weeks later
        assert "nprs" in due_codes(client)


def test_a_protocol_without_a_retest_week_asks_again_every_two_weeks(client):
    plan = plan_for(L.PATELLOFEMORAL_PAIN)
    assert plan.protocol.retest_weeks is None
    with on(client, plan, "2026-03-02 12:00"):
        client.post(url("nprs"), {"score": "4"})
    with on(client, plan, "2026-03-15 12:00"):
        assert "nprs" not in due_codes(client)
    with on(client, plan, "2026-03-16 12:00"):
        assert "nprs" in due_codes(client)


def test_nothing_is_due_once_the_plan_has_ended(client, plan):
    services.plan_complete(plan=plan, actor=None)
    with on(client, plan, "2026-03-02 12:00"):
        assert due_codes(client) == []


def test_the_pain_score_form_is_one_0_to_10_scale(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        html = client.get(url("nprs")).content.decode()
    assert html.count('type="radio" name="score"') == 11
    assert "<legend>Think about your pain over the last 24 hours." in html
    assert "0 (no pain)" in html
    assert "10 (the worst pain you can imagine)" in html


def test_a_submitted_pain_score_is_scored_and_shown_with_its_change(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(url("nprs"), {"score": "6"})
    assert response.status_code == 302
    assert response["Location"] == PROGRESS + "#scores"
    with on(client, plan, "2026-04-13 12:00"):
        client.post(url("nprs"), {"score": "3"})
        response = client.get(PROGRESS)

    scores = OutcomeScore.objects.filter(patient=plan.patient, measure="nprs").order_by("taken_on")
    assert [(s.taken_on, s.scores) for s in scores] == [
        (dt.date(2026, 3, 2), {"total": 6.0}),
        (dt.date(2026, 4, 13), {"total": 3.0}),
    ]
    assert all(s.recorded_by == plan.patient.user for s in scores)
    html = response.content.decode()
    assert '<time datetime="2026-04-13">13 April 2026</time>:\n          3' in html
    assert "A lower number is better" in html
    assert "better by 3 points — a meaningful improvement" in html


def test_a_small_worsening_is_said_as_such(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        client.post(url("nprs"), {"score": "5"})
    with on(client, plan, "2026-04-13 12:00"):
        client.post(url("nprs"), {"score": "6"})  # 1 point and 20 %: under both thresholds
        html = client.get(PROGRESS).content.decode()
    assert "worse by 1 point — a small change" in html


def test_a_meaningful_worsening_suggests_talking_to_the_physiotherapist(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        client.post(url("nprs"), {"score": "3"})
    with on(client, plan, "2026-04-13 12:00"):
        client.post(url("nprs"), {"score": "4"})  # 1 point, but 33 % of the first score
        html = client.get(PROGRESS).content.decode()
    assert "worse by 1 point — worth talking about with your physiotherapist" in html


def test_activities_are_typed_by_the_patient_and_averaged(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(
            url("psfs"),
            psfs_post(("Climbing stairs", 4), ("Getting out of a car", 6), ("Gardening", 5)),
        )
    assert response.status_code == 302
    score = OutcomeScore.objects.get(patient=plan.patient, measure="psfs")
    assert score.scores == {"total": 5.0}
    assert [a["activity"] for a in score.answers["activities"]] == [
        "Climbing stairs",
        "Getting out of a car",
        "Gardening",
    ]


def test_the_activities_named_last_time_are_filled_in_again(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        client.post(url("psfs"), psfs_post(("Stairs", 4), ("Kneeling", 2), ("Shopping", 5)))
    with on(client, plan, "2026-04-13 12:00"):
        html = client.get(url("psfs")).content.decode()
    assert 'name="activity_1" value="Stairs"' in html
    assert 'name="activity_3" value="Shopping"' in html


def test_too_few_activities_keep_what_was_typed_with_a_400(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(
            url("psfs"), psfs_post(("Climbing stairs", 4), ("Getting out of a car", 6))
        )
    assert response.status_code == 400
    assert not OutcomeScore.objects.exists()
    html = response.content.decode()
    assert 'value="Climbing stairs"' in html
    assert 'value="Getting out of a car"' in html
    assert "Please name at least 3 activities" in html
    assert 'role="alert"' in html


def test_an_activity_too_long_is_asked_for_shorter_in_plain_words(client, plan):
    long = "Walking to the shops and back with a bag of shopping in each hand " * 2
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(
            url("psfs"), psfs_post((long, 4), ("Kneeling", 2), ("Getting out of a car", 6))
        )
    assert response.status_code == 400
    assert not OutcomeScore.objects.exists()
    assert response.context["form"].errors["activity_1"] == [
        "Please describe the activity in 100 characters or fewer."
    ]
    html = response.content.decode()
    assert "Ensure this value" not in html
    assert 'value="Kneeling"' in html


def test_an_activity_without_a_score_is_marked_on_its_own_question(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(
            url("psfs"), psfs_post(("Stairs", 4), ("", None), ("Kneeling", None), ("Car", 3))
        )
    assert response.status_code == 400
    form = response.context["form"]
    # The third row, not the third activity sent (the empty second row is skipped).
    assert form.errors["score_3"] == [
        "Please choose how well you can do this activity, from 0 to 10."
    ]
    assert "score_4" not in form.errors
    assert 'aria-invalid="true"' in response.content.decode()


def test_a_pain_score_left_blank_is_asked_for_again(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(url("nprs"), {})
    assert response.status_code == 400
    assert response.context["form"].errors["score"] == ["Please choose a number from 0 to 10."]
    assert not OutcomeScore.objects.exists()


def test_a_score_out_of_range_is_refused_by_the_form(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(url("nprs"), {"score": "11"})
    assert response.status_code == 400
    assert not OutcomeScore.objects.exists()


@pytest.mark.parametrize("missing", ["all", "one"])
def test_koos_without_all_its_item_texts_is_not_offered_as_a_form(
    client, plan, monkeypatch, missing
):
    texts = {} if missing == "all" else {k: v for k, v in KOOS_TEXTS.items() if k != "A9"}
    monkeypatch.setitem(forms_outcomes.ITEM_TEXTS, "koos", texts)
    assert not forms_outcomes.available_online("koos")
    with on(client, plan, "2026-03-02 12:00"):
        response = client.get(url("koos"))
        progress = client.get(PROGRESS).content.decode()
    assert response.status_code == 200
    assert "form" not in response.context
    assert "not available online yet" in response.content.decode()
    assert 'href="/portal/questionnaires/koos/"' not in progress
    with on(client, plan, "2026-03-02 12:00"):
        assert client.post(url("koos"), {"P1": "2"}).status_code == 400
    assert not OutcomeScore.objects.exists()


# --- KOOS and RMDQ with their published texts ---------------------------------------------------

KOOS_TEXTS = questionnaires.KOOS_ITEM_TEXTS
KOOS_ALL = [item for items in clinical_outcomes.KOOS_ITEMS.values() for item in items]
# A different answer in each part, so an item scored in the wrong part changes a score.
PER_SUBSCALE = {"symptoms": 0, "pain": 1, "adl": 2, "sport_rec": 3, "qol": 4}


def koos_post(*, leave_out=()) -> dict:
    return {
        item: str(value)
        for subscale, value in PER_SUBSCALE.items()
        for item in clinical_outcomes.KOOS_ITEMS[subscale]
        if item not in leave_out
    }


def koos_score(subscale: str) -> float:
    """KOOS user's guide: 100 - mean item score x 25; every item of a part answered alike."""
    return 100.0 - 25 * PER_SUBSCALE[subscale]


def every_page(client, measure: str) -> list:
    """The questionnaire's pages, as the patient pages through them."""
    first = client.get(url(measure))
    count = first.context["page_count"]
    return [first] + [client.get(f"{url(measure)}?page={n}") for n in range(2, count + 1)]


def test_the_knee_questionnaire_is_offered_with_its_published_wording(client, plan):
    assert forms_outcomes.available_online("koos")
    with on(client, plan, "2026-03-02 12:00"):
        progress = client.get(PROGRESS).content.decode()
        pages = [response.content.decode() for response in every_page(client, "koos")]
    assert 'href="/portal/questionnaires/koos/"' in progress
    assert "Please fill in: Knee questionnaire (KOOS), about 10 minutes</a>" in progress
    html = "".join(pages)
    assert "not available online yet" not in html
    assert html.count('type="radio"') == 42 * 5
    for paragraph in questionnaires.KOOS_INSTRUCTIONS:
        assert pages[0].count(f'<p class="instructions">{paragraph}</p>') == 1
        assert html.count(f'<p class="instructions">{paragraph}</p>') == 1
    for part in questionnaires.KOOS_PARTS:
        assert f"<legend>{part.heading}</legend>" in html
    for item in KOOS_ALL:
        question, _ = KOOS_TEXTS[item]
        assert f"<legend>{escape(question)}</legend>" in html
    # P2-P9 come after the sentence they complete, P1 before it.
    stem = html.index(questionnaires.PAIN_ACTIVITIES_STEM)
    assert html.index('name="P1"') < stem < html.index('name="P2"')
    assert html.index(questionnaires.STIFFNESS_INTRO) < html.index('name="S6"')
    assert "Questionnaire: KOOS, English version LK1.0, www.koos.nu" in html


def test_each_knee_answer_word_carries_the_score_the_manual_gives_it(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        fields = {}
        for response in every_page(client, "koos"):
            fields.update(response.context["form"].fields)
    words = {item: [label for _, label in fields[item].choices] for item in KOOS_ALL}
    values = {item: [value for value, _ in fields[item].choices] for item in KOOS_ALL}
    assert words["S1"] == ["Never", "Rarely", "Sometimes", "Often", "Always"]
    assert words["S4"] == ["Always", "Often", "Sometimes", "Rarely", "Never"]
    assert words["P2"] == ["None", "Mild", "Moderate", "Severe", "Extreme"]
    assert words["Q1"][-1] == "Constantly"
    for item in KOOS_ALL:
        assert words[item] == list(KOOS_TEXTS[item][1])
        assert values[item] == [0, 1, 2, 3, 4]


def test_a_knee_patient_fills_in_koos_and_sees_each_part_scored(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(url("koos"), koos_post())
        assert response.status_code == 302
        assert response["Location"] == PROGRESS + "#scores"
        html = client.get(PROGRESS).content.decode()
        assert "koos" not in due_codes(client)

    record = OutcomeScore.objects.get(patient=plan.patient, measure="koos")
    expected = {subscale: koos_score(subscale) for subscale in PER_SUBSCALE}
    assert record.scores == expected
    assert record.recorded_by == plan.patient.user
    assert record.answers == {item: int(value) for item, value in koos_post().items()}
    for subscale, score in expected.items():
        label = forms_outcomes.SUBSCALE_WORDS[subscale]
        assert f"<li>{label}: {forms_outcomes.number(score)}</li>" in html


@pytest.mark.parametrize(
    ("subscale", "answered", "scored"),
    [
        ("pain", 4, False),  # 4 of 9: under half
        ("pain", 5, True),
        ("symptoms", 3, False),  # 3 of 7
        ("symptoms", 4, True),
        ("qol", 1, False),  # 1 of 4
        ("qol", 2, True),  # exactly half is enough
    ],
)
def test_a_knee_part_with_under_half_its_questions_answered_is_not_scored(
    client, plan, subscale, answered, scored
):
    items = clinical_outcomes.KOOS_ITEMS[subscale]
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(url("koos"), koos_post(leave_out=items[answered:]))
        assert response.status_code == 302
        html = client.get(PROGRESS).content.decode()
    scores = OutcomeScore.objects.get(measure="koos").scores
    not_scored = f"<li>{forms_outcomes.SUBSCALE_WORDS[subscale]}: not scored</li>"
    if scored:
        assert scores[subscale] == koos_score(subscale)
        assert not_scored not in html
    else:
        assert scores[subscale] is None
        assert not_scored in html
    assert {sub: s for sub, s in scores.items() if sub != subscale} == {
        sub: koos_score(sub) for sub in PER_SUBSCALE if sub != subscale
    }


def test_a_knee_questionnaire_with_no_part_half_answered_asks_for_more(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(url("koos"), {"S1": "1"})
    assert response.status_code == 400
    assert not OutcomeScore.objects.exists()
    form = response.context["form"]
    errors = form.non_field_errors()
    assert (
        "Please answer at least half of the questions under “Symptoms” and “Stiffness”." in errors
    )
    assert "Please answer at least half of the questions under “Pain”." in errors
    assert "Please answer at least half of the questions under “Quality of Life”." in errors
    assert 'role="alert"' in response.content.decode()
    assert form["S1"].value() == "1"  # what was ticked stays ticked


def test_the_back_questionnaire_is_a_tick_list_of_the_24_published_sentences(client):
    plan = plan_for(L.CHRONIC_LOW_BACK_PAIN)
    with on(client, plan, "2026-03-02 12:00"):
        pages = [response.content.decode() for response in every_page(client, "rmdq")]
    html = "".join(pages)
    assert [page.count('type="checkbox"') for page in pages] == [8, 8, 8]
    assert f"<legend>{questionnaires.RMDQ_INSTRUCTIONS[0]}</legend>" in html
    for paragraph in questionnaires.RMDQ_INSTRUCTIONS[1:]:
        assert pages[0].count(f'<p class="hint">{paragraph}</p>') == 1
        assert html.count(f'<p class="hint">{paragraph}</p>') == 1
    sentences = questionnaires.RMDQ_ITEM_TEXTS.values()
    positions = [html.index(f">{escape(sentence)}</label>") for sentence in sentences]
    assert positions == sorted(positions)  # in the printed order
    assert "Questionnaire: Roland-Morris Disability Questionnaire" in html


@pytest.mark.parametrize(
    "ticked", [(), ("R1", "R5", "R24"), ("R2", "R3", "R9", "R13", "R17", "R18", "R22")]
)
def test_a_back_patient_fills_in_rmdq_and_scores_the_number_of_yes(client, ticked):
    plan = plan_for(L.CHRONIC_LOW_BACK_PAIN)
    with on(client, plan, "2026-03-02 12:00"):
        response = client.post(url("rmdq"), dict.fromkeys(ticked, "on"))
        assert response.status_code == 302
        html = client.get(PROGRESS).content.decode()
    record = OutcomeScore.objects.get(patient=plan.patient, measure="rmdq")
    assert record.scores == {"total": float(len(ticked))}
    assert record.answers == {item: item in ticked for item in clinical_outcomes.RMDQ_ITEMS}
    assert f'<time datetime="2026-03-02">2 March 2026</time>:\n          {len(ticked)}\n' in html


def test_a_measure_outside_the_plan_is_not_found(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        assert client.get(url("rmdq")).status_code == 404  # a knee plan
        assert client.get(url("odi")).status_code == 404  # licensed: clinicians only
        assert client.get(url("nonsense")).status_code == 404


def test_a_patient_without_a_plan_has_no_questionnaires(client):
    patient = PatientFactory(user=UserFactory())
    client.force_login(patient.user)
    assert client.get(url("nprs")).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(url("nprs"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("patients:login"))


def test_opening_a_questionnaire_is_audited(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        client.get(url("psfs"))
    event = AuditEvent.objects.get(action="outcome.read", patient=plan.patient)
    assert event.detail["measure"] == "psfs"


def _count(client, measure: str) -> int:
    client.get(url(measure))  # the session's first request refreshes its expiry
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(measure))
    assert response.status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_earlier_answers(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        few = _count(client, "psfs")
    for week in range(12):
        services.outcome_record(
            patient=plan.patient,
            measure="psfs",
            answers={"activities": [{"activity": f"A{n}", "score": 5} for n in range(3)]},
            actor=None,
            today=TODAY + dt.timedelta(weeks=week),
        )
    with on(client, plan, "2026-06-01 12:00"):
        many = _count(client, "psfs")
    # session + user, principal (clinician, patient), plan, protocol, scores, the audit write
    assert few == many == 8


def test_knee_scores_entered_by_the_clinic_are_shown_per_part_with_their_changes(client, plan):
    items = [item for items in clinical_outcomes.KOOS_ITEMS.values() for item in items]
    for day, answer in ((TODAY, 2), (TODAY + dt.timedelta(weeks=6), 1)):
        services.outcome_record(
            patient=plan.patient,
            measure="koos",
            answers=dict.fromkeys(items, answer),
            actor=None,
            today=day,
        )
    with on(client, plan, "2026-04-14 12:00"):
        html = client.get(PROGRESS).content.decode()
    assert "A higher score is better: scores go from 0 to 100" in html
    assert "<li>Pain: 75</li>" in html
    assert "<li>Quality of life: 50</li>" in html
    assert "<li>Pain: better by 25 points — a meaningful improvement</li>" in html
    assert "sport_rec" not in html


def test_the_knee_and_back_forms_cost_one_query_more_than_the_others_for_their_draft(client, plan):
    with on(client, plan, "2026-03-02 12:00"):
        assert _count(client, "koos") == 9
    back = plan_for(L.CHRONIC_LOW_BACK_PAIN)
    with on(client, back, "2026-03-02 12:00"):
        assert _count(client, "rmdq") == 9
