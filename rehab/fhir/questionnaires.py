"""Outcome measures as FHIR: each instrument a Questionnaire (built from rehab.clinical's
definitions, so the items are the ones the scorer reads), each recorded score a
QuestionnaireResponse (the answers as stored) and an Observation (the scores).

Ids: a Questionnaire's is the measure's code ("koos"), its canonical url
<FHIR_SYSTEM_BASE>/Questionnaire/<code>; an OutcomeScore's QuestionnaireResponse has the score's
id, its Observation "<score id>-outcome".

ODI and WOMAC are licensed and not embedded: a clinician enters the total only, so their
Questionnaire has the one item we store (the total) and says so; we never pretend to hold the
licensed items.
"""

from __future__ import annotations

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from rehab.clinical import outcomes as O
from rehab.clinical import questionnaires as Q
from rehab.fhir import codes
from rehab.models import OutcomeScore
from rehab.selectors import person_name

OUTCOME_PART = "outcome"
# The version of our definitions: raised when an instrument's items change, so a response names
# the items it answered.
QUESTIONNAIRE_VERSION = "1"


def questionnaire_url(measure: str) -> str:
    return f"{codes.system_base()}/Questionnaire/{measure}"


def measure_code(measure: str) -> dict:
    """A measure's score as a CodeableConcept: LOINC where we have its term, and always ours."""
    m = O.MEASURES[measure]
    codings = []
    if measure in codes.OUTCOME_LOINC:
        code, display = codes.OUTCOME_LOINC[measure]
        codings.append({"system": codes.LOINC, "code": code, "display": display})
    codings.append(
        {"system": codes.local_system(codes.OUTCOME_SYSTEM), "code": measure, "display": m.name}
    )
    return {"coding": codings, "text": m.name}


def _part_id(part: Q.KoosPart) -> str:
    """A printed part's linkId: its heading in lower case, words joined by hyphens."""
    return "-".join(part.heading.lower().replace(",", "").split())


def _koos_items() -> list[dict]:
    groups = []
    for part in Q.KOOS_PARTS:
        items = []
        for intro, block in part.blocks:
            if intro:
                items.append({"linkId": f"{block[0]}-intro", "text": intro, "type": "display"})
            for code in block:
                question, answers = Q.KOOS_ITEM_TEXTS[code]
                items.append(
                    {
                        "linkId": code,
                        "text": question,
                        "type": "integer",
                        # The printed answers, in order: the answer stored is the score 0-4.
                        "item": [
                            {
                                "linkId": f"{code}-answers",
                                "type": "display",
                                "text": "; ".join(f"{n} = {a}" for n, a in enumerate(answers)),
                            }
                        ],
                    }
                )
        groups.append(
            {
                "linkId": _part_id(part),
                "text": part.heading,
                "type": "group",
                "item": items,
            }
        )
    return groups


def _items(measure: str) -> list[dict]:
    if measure == "koos":
        return _koos_items()
    if measure == "rmdq":
        return [
            {"linkId": code, "text": text, "type": "boolean", "required": True}
            for code, text in Q.RMDQ_ITEM_TEXTS.items()
        ]
    if measure == "nprs":
        return [
            {
                "linkId": "score",
                "text": "Pain now, from 0 (no pain) to 10 (worst pain imaginable)",
                "type": "integer",
                "required": True,
            }
        ]
    if measure == "psfs":
        return [
            {
                "linkId": "activities",
                "text": f"{O.PSFS_MIN_ACTIVITIES} to {O.PSFS_MAX_ACTIVITIES} activities you "
                "find difficult, each rated from 0 (unable to do) to 10 (able to do it as "
                "before)",
                "type": "group",
                "repeats": True,
                "required": True,
                "item": [
                    {"linkId": "activity", "text": "Activity", "type": "string", "required": True},
                    {
                        "linkId": "score",
                        "text": "Rating (0-10)",
                        "type": "integer",
                        "required": True,
                    },
                ],
            }
        ]
    # ODI, WOMAC: the total the clinician enters.
    m = O.MEASURES[measure]
    return [
        {
            "linkId": O.TOTAL,
            "text": f"Total score ({m.minimum:g}-{m.maximum:g}), entered by the clinician",
            "type": "decimal",
            "required": True,
        }
    ]


_DESCRIPTIONS = {
    "koos": f"{Q.KOOS_VERSION}, in its published words ({Q.KOOS_ATTRIBUTION}). Each answer is "
    "stored as its score: the first printed answer 0, the last 4.",
    "rmdq": f"{Q.RMDQ_VERSION}. A ticked sentence is true (scores 1).",
    "nprs": "Numeric Pain Rating Scale: one rating from 0 to 10.",
    "psfs": "Patient-Specific Functional Scale: the patient's own activities, each rated.",
}


def questionnaires() -> list[Questionnaire]:
    """One Questionnaire per measure we record, in the order of rehab.clinical.outcomes."""
    found = []
    for code, m in O.MEASURES.items():
        description = _DESCRIPTIONS.get(
            code, f"{m.name}: {m.licence}. Only the total score is recorded here."
        )
        found.append(
            Questionnaire(
                id=code,
                url=questionnaire_url(code),
                version=QUESTIONNAIRE_VERSION,
                name=code.upper(),
                title=m.name,
                status="active",
                subjectType=["Patient"],
                description=description,
                code=measure_code(code)["coding"],
                item=_items(code),
            )
        )
    return found


def _answer_items(score: OutcomeScore) -> list[dict]:
    """The stored answers as response items, in the Questionnaire's shape (groups as its)."""
    answers = score.answers or {}
    if score.measure == "koos":
        groups = []
        for part in Q.KOOS_PARTS:
            items = [
                {
                    "linkId": code,
                    "text": Q.KOOS_ITEM_TEXTS[code][0],
                    "answer": [{"valueInteger": answers[code]}],
                }
                for code in part.items
                if answers.get(code) is not None
            ]
            if items:
                groups.append(
                    {
                        "linkId": _part_id(part),
                        "text": part.heading,
                        "item": items,
                    }
                )
        return groups
    if score.measure == "rmdq":
        return [
            {"linkId": code, "text": text, "answer": [{"valueBoolean": answers[code]}]}
            for code, text in Q.RMDQ_ITEM_TEXTS.items()
            if isinstance(answers.get(code), bool)
        ]
    if score.measure == "nprs" and answers.get("score") is not None:
        return [{"linkId": "score", "answer": [{"valueInteger": answers["score"]}]}]
    if score.measure == "psfs":
        return [
            {
                "linkId": "activities",
                "item": [
                    {"linkId": "activity", "answer": [{"valueString": entry["activity"]}]},
                    {"linkId": "score", "answer": [{"valueInteger": entry["score"]}]},
                ],
            }
            for entry in answers.get("activities") or []
        ]
    if answers.get(O.TOTAL) is not None:
        return [{"linkId": O.TOTAL, "answer": [{"valueDecimal": answers[O.TOTAL]}]}]
    return []


def questionnaire_response(score: OutcomeScore) -> QuestionnaireResponse:
    """The answers of one recorded questionnaire, as stored. Needs score.recorded_by loaded."""
    return QuestionnaireResponse(
        id=str(score.pk),
        meta={"lastUpdated": score.created_at},
        questionnaire=f"{questionnaire_url(score.measure)}|{QUESTIONNAIRE_VERSION}",
        status="completed",
        subject={"reference": f"Patient/{score.patient_id}"},
        basedOn=[{"reference": f"CarePlan/{score.plan_id}"}] if score.plan_id else None,
        authored=score.created_at,
        author={"display": person_name(score.recorded_by)} if score.recorded_by else None,
        item=_answer_items(score) or None,
    )


def _score_quantity(value: float) -> dict:
    return {"value": value, "unit": "{score}", "system": codes.UCUM, "code": "{score}"}


def _absent(why: str) -> dict:
    return {"coding": [{"system": codes.DATA_ABSENT_REASON, "code": "unknown"}], "text": why}


def outcome_observation(score: OutcomeScore) -> Observation:
    """The scores of one recorded questionnaire: a measure with one total as its value; KOOS
    with one component per subscale (LOINC and ours), a subscale that could not be scored (too
    few items answered) absent with the reason."""
    scores = score.scores or {}
    common = {
        "id": f"{score.pk}-{OUTCOME_PART}",
        "meta": {"lastUpdated": score.created_at},
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
                ]
            }
        ],
        "code": measure_code(score.measure),
        "subject": {"reference": f"Patient/{score.patient_id}"},
        "effectiveDateTime": score.taken_on,
        "issued": score.created_at,
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{score.pk}"}],
    }
    if score.measure != "koos":
        total = scores.get(O.TOTAL)
        if total is None:
            return Observation(dataAbsentReason=_absent("not scored"), **common)
        return Observation(valueQuantity=_score_quantity(total), **common)
    components = []
    for subscale in O.KOOS_SUBSCALES:
        loinc, display = codes.KOOS_SUBSCALE_LOINC[subscale]
        name = codes.KOOS_SUBSCALE_NAMES[subscale]
        component = {
            "code": {
                "coding": [
                    {"system": codes.LOINC, "code": loinc, "display": display},
                    {
                        "system": codes.local_system(codes.OUTCOME_SYSTEM),
                        "code": f"koos-{subscale.replace('_', '-')}",
                        "display": name,
                    },
                ],
                "text": name,
            }
        }
        value = scores.get(subscale)
        if value is None:
            component["dataAbsentReason"] = _absent("too few items answered to score")
        else:
            component["valueQuantity"] = _score_quantity(value)
        components.append(component)
    return Observation(component=components, **common)


def outcome_code_measures(system: str | None, code: str) -> set[str]:
    """The measures whose Observation a `code` token names (system|code or code alone)."""
    found = set()
    if system in (None, codes.LOINC):
        found |= {m for m, (loinc, _) in codes.OUTCOME_LOINC.items() if loinc == code}
    if system in (None, codes.local_system(codes.OUTCOME_SYSTEM)) and code in O.MEASURES:
        found.add(code)
    return found
