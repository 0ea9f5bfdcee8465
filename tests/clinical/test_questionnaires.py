"""The published item texts of KOOS and RMDQ match the items rehab.clinical.outcomes scores."""

from __future__ import annotations

import pytest

from rehab.clinical import outcomes, questionnaires
from rehab.clinical.questionnaires import (
    KOOS_ITEM_TEXTS,
    KOOS_PARTS,
    RMDQ_INSTRUCTIONS,
    RMDQ_ITEM_TEXTS,
)

ALL_KOOS_ITEMS = [item for items in outcomes.KOOS_ITEMS.values() for item in items]
# S4/S5 ask whether the knee CAN straighten/bend fully: there "Always" is the answer without a
# problem. Everywhere else the question asks about a problem, so its absence comes first.
CAN_DO_ITEMS = {"S4", "S5"}
NO_PROBLEM = {"Never", "None", "Not at all"}
WORST_PROBLEM = {"Always", "Extreme", "Constantly", "Totally", "Extremely"}


def test_every_koos_item_scored_has_a_question_and_five_answers():
    assert set(KOOS_ITEM_TEXTS) == set(ALL_KOOS_ITEMS)
    for item in ALL_KOOS_ITEMS:
        question, answers = KOOS_ITEM_TEXTS[item]
        assert question, item
        assert question.strip() == question, item
        assert len(answers) == outcomes.KOOS_ITEM_MAX - outcomes.KOOS_ITEM_MIN + 1, item
        assert len(set(answers)) == len(answers), item


def test_koos_parts_hold_each_item_once_in_the_scorers_order():
    printed = [item for part in KOOS_PARTS for item in part.items]
    assert sorted(printed) == sorted(ALL_KOOS_ITEMS)
    assert len(printed) == len(set(printed)) == 42
    for subscale, items in outcomes.KOOS_ITEMS.items():
        in_parts = [i for part in KOOS_PARTS if part.subscale == subscale for i in part.items]
        assert tuple(in_parts) == items, subscale


@pytest.mark.parametrize(
    ("subscale", "count"),
    [("symptoms", 7), ("pain", 9), ("adl", 17), ("sport_rec", 5), ("qol", 4)],
)
def test_koos_section_sizes(subscale, count):
    items = [i for part in KOOS_PARTS if part.subscale == subscale for i in part.items]
    assert len(items) == count
    assert all(item in KOOS_ITEM_TEXTS for item in items)


def test_koos_printed_parts_in_order_with_stiffness_inside_symptoms():
    assert [(p.heading, p.subscale, len(p.items)) for p in KOOS_PARTS] == [
        ("Symptoms", "symptoms", 5),
        ("Stiffness", "symptoms", 2),
        ("Pain", "pain", 9),
        ("Function, daily living", "adl", 17),
        ("Function, sports and recreational activities", "sport_rec", 5),
        ("Quality of Life", "qol", 4),
    ]


def test_pain_activities_follow_the_sentence_they_complete():
    pain = next(part for part in KOOS_PARTS if part.subscale == "pain")
    (lead_1, first), (lead_2, rest) = pain.blocks
    assert (lead_1, first) == ("", ("P1",))
    assert lead_2 == questionnaires.PAIN_ACTIVITIES_STEM
    assert rest == tuple(f"P{n}" for n in range(2, 10))
    assert KOOS_ITEM_TEXTS["P2"][0] == "Twisting/pivoting on your knee"


@pytest.mark.parametrize("item", ALL_KOOS_ITEMS)
def test_koos_first_answer_scores_no_problem_and_last_the_worst(item):
    _, answers = KOOS_ITEM_TEXTS[item]
    if item in CAN_DO_ITEMS:
        assert (answers[0], answers[-1]) == ("Always", "Never")
    else:
        assert answers[0] in NO_PROBLEM
        assert answers[-1] in WORST_PROBLEM


def test_koos_answer_words_per_item_kind():
    kinds = {item: answers for item, (_, answers) in KOOS_ITEM_TEXTS.items()}
    assert kinds["S1"] == ("Never", "Rarely", "Sometimes", "Often", "Always")
    assert kinds["S4"] == ("Always", "Often", "Sometimes", "Rarely", "Never")
    assert kinds["S6"] == ("None", "Mild", "Moderate", "Severe", "Extreme")
    assert kinds["P1"] == ("Never", "Monthly", "Weekly", "Daily", "Always")
    assert kinds["Q1"] == ("Never", "Monthly", "Weekly", "Daily", "Constantly")
    assert kinds["Q2"] == ("Not at all", "Mildly", "Moderately", "Severely", "Totally")
    assert kinds["Q3"] == ("Not at all", "Mildly", "Moderately", "Severely", "Extremely")
    severity = [i for i in ALL_KOOS_ITEMS if kinds[i] == questionnaires.NONE_TO_EXTREME]
    # S6-S7, P2-P9, all 17 daily-living and 5 sport items, Q4.
    assert len(severity) == 2 + 8 + 17 + 5 + 1


def test_scoring_the_answer_words_goes_from_no_problem_to_extreme():
    best = dict.fromkeys(ALL_KOOS_ITEMS, 0)
    worst = {item: len(KOOS_ITEM_TEXTS[item][1]) - 1 for item in ALL_KOOS_ITEMS}
    assert set(outcomes.score("koos", best).values()) == {100.0}
    assert set(outcomes.score("koos", worst).values()) == {0.0}


def test_every_rmdq_item_has_its_sentence():
    assert tuple(RMDQ_ITEM_TEXTS) == outcomes.RMDQ_ITEMS
    assert len(RMDQ_ITEM_TEXTS) == 24
    for item, sentence in RMDQ_ITEM_TEXTS.items():
        assert sentence.endswith("."), item
        assert sentence[0].isupper(), item
        assert "back" in sentence, item  # each sentence is qualified by the back pain
    assert len(set(RMDQ_ITEM_TEXTS.values())) == 24


def test_rmdq_ticked_sentences_count_as_yes():
    ticked = {item: item in ("R1", "R13", "R24") for item in RMDQ_ITEM_TEXTS}
    assert outcomes.score("rmdq", ticked) == {outcomes.TOTAL: 3.0}


def test_instructions_are_present():
    assert RMDQ_INSTRUCTIONS[0].startswith("When your back hurts")
    assert RMDQ_INSTRUCTIONS[-1].endswith(
        "only tick the sentence if you are sure it describes you today."
    )
    assert questionnaires.KOOS_INSTRUCTIONS[0].startswith("This survey asks for your view")


def test_the_texts_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        KOOS_ITEM_TEXTS["S1"] = ("Changed?", questionnaires.NEVER_TO_ALWAYS)  # type: ignore[index]
    with pytest.raises(TypeError):
        RMDQ_ITEM_TEXTS["R1"] = "Changed."  # type: ignore[index]
