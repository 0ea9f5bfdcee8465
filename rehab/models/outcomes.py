"""What is measured and written about a patient: questionnaire scores, a questionnaire's
draft, clinicians' notes."""

from __future__ import annotations

from django.db import models

from rehab.models.fields import DATE_RANGE, NOTE_MAX
from rehab.models.people import Patient, User
from rehab.models.plans import Plan
from rehab.validators import note_validators


class OutcomeScore(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="outcome_scores")
    plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="outcome_scores"
    )
    measure = models.CharField(max_length=10)
    taken_on = models.DateField(validators=DATE_RANGE)
    answers = models.JSONField()
    scores = models.JSONField()  # subscale -> score (None where too few items were answered)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient", "measure", "taken_on", "id"]
        indexes = [models.Index(fields=["patient", "measure", "taken_on"])]

    def __str__(self) -> str:
        return f"{self.measure.upper()} of {self.patient} on {self.taken_on}"


class ClinicalNote(models.Model):
    """A dated note a clinician writes on a patient's record. Its clinic is the patient's: the
    selectors scope notes through the patient, as sessions and outcome scores are scoped."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="clinical_notes")
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # The day the note is about (a phone call yesterday may be written up today).
    noted_on = models.DateField(validators=DATE_RANGE)
    text = models.TextField(max_length=NOTE_MAX, validators=note_validators(NOTE_MAX))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-noted_on", "-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-noted_on", "-created_at"])]

    def __str__(self) -> str:
        return f"Note on {self.patient} for {self.noted_on}"


class QuestionnaireDraft(models.Model):
    """A long questionnaire (KOOS's 42 items, RMDQ's 24) answered page by page: the answers of
    the pages done so far, so a patient whose phone locks or whose sign-in ends resumes where
    they left off. One per patient and measure; removed when the questionnaire is scored."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="questionnaire_drafts"
    )
    measure = models.CharField(max_length=10)
    answers = models.JSONField(default=dict)
    page = models.PositiveSmallIntegerField(default=0)  # the next page to show, 0-based
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "measure"], name="questionnaire_draft_one_per_measure"
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure.upper()} draft, page {self.page + 1}"
