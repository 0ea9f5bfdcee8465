"""Outcome measures: recording a score, and questionnaires answered page by page through a draft."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from rehab import selectors
from rehab.audit import Actor, AuditAction, as_user, audit_record
from rehab.clinical import outcomes as clinical_outcomes
from rehab.errors import validation_error
from rehab.models import (
    OutcomeScore,
    Patient,
    QuestionnaireDraft,
)
from rehab.models.webhooks import WebhookEvent
from rehab.services.common import check_dates, check_json, require_active_patient
from rehab.services.webhooks import webhook_emit

PSFS_ACTIVITY_MAX = 100


@transaction.atomic
def outcome_record(
    *,
    patient: Patient,
    measure: str,
    answers: dict[str, Any],
    actor: Actor,
    taken_on: dt.date | None = None,
    today: dt.date | None = None,
) -> OutcomeScore:
    require_active_patient(patient)
    if measure not in clinical_outcomes.MEASURES:
        raise validation_error(
            {"measure": f"Unknown measure; use one of {', '.join(clinical_outcomes.MEASURES)}."}
        )
    today = today or patient.local_today()
    taken_on = taken_on or today
    check_dates(taken_on=taken_on)
    if taken_on > today:
        raise validation_error({"taken_on": "An outcome cannot be dated in the future."})
    if not isinstance(answers, dict):
        raise validation_error({"answers": "Answers must be an object."})
    # PSFS names its activities in the patient's words; the portal's form allows 100 characters.
    check_json(answers, field=None, max_length=PSFS_ACTIVITY_MAX)
    try:
        scores = clinical_outcomes.score(measure, answers)
    except clinical_outcomes.InvalidAnswers as exc:
        raise validation_error(exc.errors, "Some answers are not valid.") from exc
    record = OutcomeScore.objects.create(
        patient=patient,
        plan=selectors.plan_open(patient=patient),
        measure=measure,
        taken_on=taken_on,
        answers=answers,
        scores=scores,
        recorded_by=as_user(actor),
    )
    audit_record(
        actor=actor,
        action=AuditAction.OUTCOME_RECORD,
        obj=record,
        patient=patient,
        detail={"measure": measure},
    )
    webhook_emit(
        clinic=patient.clinic,
        event=WebhookEvent.OUTCOME_RECORDED,
        resource=record,
        patient_id=patient.pk,
    )
    return record


# Questionnaires long enough to be answered page by page, with their items (rehab.clinical).
DRAFT_MEASURES: dict[str, tuple[str, ...]] = {
    "koos": tuple(item for items in clinical_outcomes.KOOS_ITEMS.values() for item in items),
    "rmdq": tuple(clinical_outcomes.RMDQ_ITEMS),
}


@transaction.atomic
def questionnaire_draft_save(
    *, patient: Patient, measure: str, answers: dict[str, Any], page: int, actor: Actor
) -> QuestionnaireDraft:
    """Keep a page of a long questionnaire's answers, so that the patient resumes at `page`
    (0-based) with them. `answers` are the page's own, laid over the draft's earlier ones (an
    answer can be changed, not cleared).
    Whether they are complete is outcome_record's to say when the questionnaire is finished;
    here only that they are this measure's items, each a plain value."""
    require_active_patient(patient)
    items = DRAFT_MEASURES.get(measure)
    if items is None:
        raise validation_error({"measure": "This questionnaire is answered on one page."})
    errors = {
        key: "Not a question of this questionnaire."
        for key, value in answers.items()
        if key not in items or not isinstance(value, bool | int)
    }
    if errors or not isinstance(page, int) or page < 0:
        raise validation_error(errors or {"page": "Not a page of this questionnaire."})
    draft, _ = QuestionnaireDraft.objects.select_for_update().get_or_create(
        patient=patient, measure=measure
    )
    # A draft older than QUESTIONNAIRE_DRAFT_DAYS is not resumed (selectors), nor added to.
    fresh = draft.updated_at >= selectors.questionnaire_draft_fresh_since()
    draft.answers = {**(draft.answers if fresh else {}), **answers}
    draft.page = page
    draft.save()
    audit_record(
        actor=actor,
        action=AuditAction.OUTCOME_DRAFT_SAVE,
        obj=draft,
        patient=patient,
        detail={"measure": measure, "page": page, "items": len(answers)},
    )
    return draft


@transaction.atomic
def questionnaire_finish(
    *, patient: Patient, measure: str, answers: dict[str, Any], actor: Actor
) -> OutcomeScore:
    """Score a questionnaire answered page by page (outcome_record, as any other) and remove
    its draft in the same transaction; a refusal leaves the draft as it was."""
    record = outcome_record(patient=patient, measure=measure, answers=answers, actor=actor)
    QuestionnaireDraft.objects.filter(patient=patient, measure=measure).delete()
    return record
