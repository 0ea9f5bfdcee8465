"""Clinician alerts: the e-mails a pause, a near fall or an off-plan session sends; the digest."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rehab import notify, outbox, scheduling, selectors
from rehab.clinical import progression as clinical_progression
from rehab.models import (
    Alert,
    Clinician,
    Patient,
    Plan,
    ProgressionDecision,
)
from rehab.services.common import site_url

# The reasons that name a session done outside what the plan allows (a setting, a speed or a
# slope beyond the screening's constraints).
OFF_PLAN_CODES = frozenset(clinical_progression.OUTSIDE_PLAN_CODES)


def _alert_recipients(plan: Plan) -> list[Clinician]:
    """The clinician who assigned the plan and the clinic's administrators, while their
    accounts are active (a deactivated colleague must not receive patient data)."""
    recipients = Clinician.objects.filter(clinic=plan.clinic, user__is_active=True).filter(
        Q(user_id=plan.assigned_by_id) | Q(is_clinic_admin=True)
    )
    return list(recipients.select_related("user"))


def patient_email_ref(patient: Patient) -> str:
    """How an e-mail's subject names a patient: subjects show on lock screens and in
    notification previews, so the record number and never a name (the body names them)."""
    return f"patient record {patient.pk}"


def alert_pause_subject(patient: Patient) -> str:
    return f"Plan paused: {patient_email_ref(patient)}"


def alert_hold_subject(patient: Patient) -> str:
    return f"Near fall or dizziness reported: {patient_email_ref(patient)}"


def alert_off_plan_subject(patient: Patient) -> str:
    return f"Session outside the plan: {patient_email_ref(patient)}"


def patient_page_url(patient: Patient) -> str:
    """The patient's page in the dashboard, for e-mails to clinicians (behind its sign-in)."""
    return site_url(reverse("clinicians:patient", args=[patient.pk]))


# What each kind of decision alert says: its subject, its templates (text and HTML, in
# templates/emails/) and which of the decision's reasons it names (a pause's pause reasons; a
# hold's near falls and dizziness, whatever else held the plan).
_DECISION_ALERTS = {
    Alert.Kind.PAUSE: (alert_pause_subject, "emails/alert_pause", ("pause",), ()),
    Alert.Kind.HOLD: (
        alert_hold_subject,
        "emails/alert_hold",
        (),
        clinical_progression.HOLD_ALERT_EVENTS,
    ),
    Alert.Kind.OFF_PLAN: (alert_off_plan_subject, "emails/alert_off_plan", (), OFF_PLAN_CODES),
}


def decision_alerts_record(decision: ProgressionDecision, *, kind: str) -> None:
    """A decision's alerts, one pending row per recipient, in the decision's own transaction:
    the outbox record of the sends to make (rehab/outbox.py)."""
    plan = decision.plan
    day = scheduling.local_day(timezone.now(), plan.clinic.timezone)
    Alert.objects.bulk_create(
        [
            Alert(clinician=clinician, kind=kind, decision=decision, day=day)
            for clinician in _alert_recipients(plan)
        ],
        ignore_conflicts=True,
    )


def alerts_for_decision(*, decision_id: int, now: dt.datetime | None = None) -> int:
    """Tell the plan's clinicians at once that a plan paused (fall, chest pain, severe pain) or
    held after a near fall or dizziness. Each recipient's alert is its own claimed send, so
    whatever redelivers the task sends nothing twice, and one recipient's failure is recorded
    on that alert alone."""
    now = now or timezone.now()
    decision = ProgressionDecision.objects.select_related("plan__patient__clinic").get(
        pk=decision_id
    )
    plan = decision.plan
    # The session that caused it, with what the patient wrote: the latest logged on the plan
    # when a logged session triggered the decision (services.session_log evaluates at once).
    session = None
    if decision.trigger == ProgressionDecision.Trigger.SESSION:
        # Logged in the decision's own transaction, so no later than it: an alert sent late
        # (by the sweep) never quotes a session logged after the one that caused it.
        session = (
            plan.sessions.filter(created_at__lte=decision.created_at)
            .order_by("-created_at", "-id")
            .first()
        )
    sent = 0
    pending = Alert.objects.filter(decision=decision, status=Alert.Status.PENDING)
    for alert in pending.select_related("clinician__user"):
        subject, template, outcomes, codes = _DECISION_ALERTS[alert.kind]
        context = {
            "alert": alert,
            "clinician": alert.clinician,
            "decision": decision,
            "plan": plan,
            "patient": plan.patient,
            "clinic": plan.clinic,
            "reasons": [
                r["text"]
                for r in decision.reasons
                if r.get("outcome") in outcomes or r.get("code") in codes
            ],
            "session": session,
            "patient_url": patient_page_url(plan.patient),
        }
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
        sent += _alert_send(alert, subject(plan.patient), text, now, html=html) == Alert.Status.SENT
    return sent


def digest_send(*, clinician: Clinician, now: dt.datetime | None = None) -> str:
    """The clinician's daily digest, once a day: referrals not acted on, decisions awaiting
    approval, non-adherent patients, screenings about to expire, next-morning pain not
    settled."""
    now = now or timezone.now()
    day = scheduling.local_day(now, clinician.clinic.timezone)
    alert, created = Alert.objects.get_or_create(
        clinician=clinician, kind=Alert.Kind.DIGEST, day=day
    )
    if not created and alert.status != Alert.Status.PENDING:
        return "not_claimed"
    digest = selectors.digest_for(clinic=clinician.clinic, today=day)
    if not any(digest.values()):
        return _alert_finish(alert, Alert.Status.SKIPPED, "Nothing needs attention today.", now)
    context = {
        "clinician": clinician,
        "day": day,
        # Each referral with the absolute link to its patient's page (behind sign-in).
        "referral_links": [(r, patient_page_url(r.screening.patient)) for r in digest["referrals"]],
        **digest,
    }
    text = render_to_string("emails/digest.txt", context)
    html = render_to_string("emails/digest.html", context)
    return _alert_send(alert, f"Retrowalk: {day:%d %b} — patients to look at", text, now, html=html)


def _alert_send(alert: Alert, subject: str, text: str, now: dt.datetime, *, html: str) -> str:
    if not outbox.claim(
        Alert, pk=alert.pk, waiting=Alert.Status.PENDING, running=Alert.Status.SENDING, now=now
    ):
        return "not_claimed"
    try:
        notify.send_email(to=alert.clinician.user.email, subject=subject, text=text, html=html)
    except notify.SendError as exc:
        return _alert_finish(alert, Alert.Status.FAILED, str(exc), now)
    return _alert_finish(alert, Alert.Status.SENT, "", now)


def _alert_finish(alert: Alert, status: str, detail: str, now: dt.datetime) -> str:
    Alert.objects.filter(pk=alert.pk).update(
        status=status, detail=detail[:300], sent_at=now if status == Alert.Status.SENT else None
    )
    return status
