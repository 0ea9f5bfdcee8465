"""A patient's whole record in words, for the readable summary of their data export.

Everything the acting principal may see of the patient, read through the scoped selectors: a
clinician's export has the clinical notes, a patient's does not (no door shows a patient the
clinic's working notes). A fixed number of queries, whatever the size of the record: one per
kind of row.
"""

from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING

from django.utils import timezone

from rehab import wording
from rehab.access import Principal
from rehab.clinical import levels as L
from rehab.clinical.outcomes import MEASURES
from rehab.models import Patient
from rehab.selectors.common import person_name
from rehab.selectors.scoped import (
    clinical_notes_for,
    decisions_for,
    outcomes_for,
    plans_for,
    screenings_for,
    sessions_for,
)

if TYPE_CHECKING:
    from rehab.reports.record import RecordSummary


def _day(value) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def _moment(value, zone) -> str:
    return f"{timezone.localtime(value, zone):%Y-%m-%d %H:%M}" if value else ""


def _pain(value) -> str:
    return "" if value is None else str(value)


def _answers(answers) -> str:
    """A questionnaire's answers as "item: value" pairs (PSFS: each activity and its score)."""
    if isinstance(answers, dict) and isinstance(answers.get("activities"), list):
        return "; ".join(
            f"{entry.get('activity', '')}: {entry.get('score', '')}"
            for entry in answers["activities"]
            if isinstance(entry, dict)
        )
    if isinstance(answers, dict):
        return "; ".join(f"{key}: {value}" for key, value in answers.items())
    return ""


def patient_record(*, principal: Principal, patient: Patient) -> RecordSummary:
    """The record of `patient` (one of selectors.patients_for(principal)) as the summary's words."""
    from rehab.reports.record import RecordSummary, RecordTable  # reportlab only when exporting

    # Times in the clinic's zone, as its pages show them.
    tz = zoneinfo.ZoneInfo(principal.clinic.timezone)
    plans = list(plans_for(principal).filter(patient=patient).order_by("start_date", "pk"))
    plan_names = {plan.pk: plan for plan in plans}
    details = [
        ("Name", patient.full_name),
        ("Date of birth", _day(patient.date_of_birth)),
        ("Clinic's record number", patient.external_id),
        ("E-mail", patient.email),
        ("Phone", patient.phone),
        ("Condition", L.CONDITIONS.get(patient.condition, patient.condition)),
        ("Time zone", patient.timezone),
        (
            "Reminders",
            # A row just made holds the default as it was given ("09:00"), a read one a time.
            f"{patient.get_reminder_channel_display()} at {str(patient.reminder_time)[:5]}"
            if patient.reminders_enabled
            else "Off",
        ),
        ("Portal account", "Yes" if patient.user_id else "No"),
        ("Record created", _moment(patient.created_at, tz)),
        ("Archived", _moment(patient.archived_at, tz) or "No"),
    ]
    plan_rows = [
        (
            plan.protocol_name,
            str(plan.get_status_display()),
            _day(plan.start_date),
            _moment(plan.ended_at, tz),
            f"{plan.current_level + 1}: {plan.level_name(plan.current_level)}",
            plan.status_reason,
        )
        for plan in plans
    ]
    level_rows = [
        (plan.protocol_name, str(index + 1), level.describe())
        for plan in plans
        for index, level in enumerate(plan.level_objs())
    ]
    sessions = (
        sessions_for(principal)
        .select_related(None)
        .filter(patient=patient)
        .order_by("date", "pk")
        .only(
            "date",
            "plan_id",
            "level_index",
            "minutes_done",
            "pain_before",
            "pain_worst",
            "pain_after",
            "pain_next_morning",
            "effort",
            "fall",
            "near_fall",
            "dizziness",
            "chest_pain",
            "notes",
        )
    )
    session_rows = []
    for session in sessions:
        events = [
            name
            for name, happened in (
                ("fall", session.fall),
                ("near fall", session.near_fall),
                ("dizziness", session.dizziness),
                ("chest pain", session.chest_pain),
            )
            if happened
        ]
        session_rows.append(
            (
                _day(session.date),
                str(session.level_index + 1),
                str(session.minutes_done),
                f"{session.pain_before}/{session.pain_worst}/{session.pain_after}/"
                f"{_pain(session.pain_next_morning)}",
                str(session.effort),
                ", ".join(events),
                session.notes,
            )
        )
    outcome_rows = [
        (
            _day(score.taken_on),
            MEASURES[score.measure].name if score.measure in MEASURES else score.measure,
            "; ".join(f"{name}: {value}" for name, value in (score.scores or {}).items()),
            _answers(score.answers),
        )
        for score in outcomes_for(principal)
        .select_related(None)
        .filter(patient=patient)
        .order_by("taken_on", "pk")
    ]
    decision_rows = [
        (
            _day(decision.evaluated_on),
            plan_names[decision.plan_id].protocol_name if decision.plan_id in plan_names else "",
            str(decision.get_outcome_display()),
            f"{decision.from_level + 1} → {decision.to_level + 1}",
            str(decision.get_status_display()),
            " ".join(wording.reason_text(reason) for reason in decision.reasons or ()),
            decision.note,
        )
        for decision in decisions_for(principal)
        .select_related(None)
        .filter(plan__patient=patient)
        .order_by("evaluated_on", "pk")
    ]
    screening_rows = [
        (
            _moment(screening.screened_at, tz),
            str(screening.get_status_display()),
            str(screening.get_referral_display()),
            _day(screening.valid_until),
            screening.invalidated_reason,
        )
        for screening in screenings_for(principal)
        .select_related(None)
        .filter(patient=patient)
        .order_by("screened_at", "pk")
    ]
    sections = [
        RecordTable(
            "Plans",
            ("Protocol", "Status", "Started", "Ended", "Current level", "Reason"),
            plan_rows,
            (0.22, 0.12, 0.12, 0.16, 0.2, 0.18),
        ),
        RecordTable(
            "Levels of each plan",
            ("Protocol", "Level", "Prescription"),
            level_rows,
            (0.25, 0.08, 0.67),
        ),
        RecordTable(
            "Sessions",
            ("Date", "Level", "Minutes", "Pain", "Effort", "Events", "Notes"),
            session_rows,
            (0.13, 0.07, 0.09, 0.15, 0.08, 0.13, 0.35),
            intro="Pain 0-10: before / worst / after / next morning. Effort: Borg CR10.",
        ),
        RecordTable(
            "Outcome scores and questionnaires",
            ("Date", "Measure", "Scores", "Answers"),
            outcome_rows,
            (0.13, 0.27, 0.25, 0.35),
        ),
        RecordTable(
            "Progression decisions",
            ("Date", "Plan", "Outcome", "Levels", "Status", "Reasons", "Note"),
            decision_rows,
            (0.11, 0.14, 0.1, 0.08, 0.11, 0.28, 0.18),
        ),
        RecordTable(
            "Screenings",
            ("Screened", "Result", "Referral", "Valid until", "Invalidated"),
            screening_rows,
            (0.18, 0.17, 0.2, 0.15, 0.3),
        ),
    ]
    if principal.is_staff:
        notes = (
            clinical_notes_for(principal)
            .select_related("author")
            .filter(patient=patient)
            .order_by("noted_on", "pk")
        )
        sections.append(
            RecordTable(
                "Clinical notes",
                ("Written", "By", "Note"),
                [(_day(note.noted_on), person_name(note.author), note.text) for note in notes],
                (0.17, 0.18, 0.65),
            )
        )
    return RecordSummary(
        patient_name=patient.full_name,
        clinic_name=principal.clinic.name,
        generated_at=timezone.localtime(timezone.now(), tz),
        details=details,
        sections=sections,
    )
