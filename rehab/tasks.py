"""Celery tasks: thin, take ids, call services, safe to run twice.

progression_evaluate records at most one decision per distinct result, and session_evaluate
claims its session first, so a task redelivered after a worker died (acks_late) does not
duplicate anything.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from rehab import audit_chain, notify, outbox, selectors, services
from rehab.models import ProgressionDecision

log = logging.getLogger(__name__)

NIGHTLY_BATCH_SIZE = 500


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),  # a locked or restarting database is transient
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def progression_evaluate_batch(
    plan_ids: list[int], trigger: str = ProgressionDecision.Trigger.NIGHTLY
) -> int:
    """Evaluate each plan that is still active; returns how many were evaluated."""
    return services.progression_evaluate_many(plan_ids=plan_ids, trigger=trigger)


@shared_task(acks_late=True)
def progression_nightly(batch_size: int = NIGHTLY_BATCH_SIZE) -> int:
    """Fan the nightly run out in batches of ids, so many workers share it and a failure costs
    one batch, not the night."""
    batches = 0
    batch: list[int] = []
    for plan_id in selectors.plan_ids_active().iterator(chunk_size=batch_size):
        batch.append(plan_id)
        if len(batch) == batch_size:
            progression_evaluate_batch.delay(batch)
            batches += 1
            batch = []
    if batch:
        progression_evaluate_batch.delay(batch)
        batches += 1
    log.info("progression_nightly queued %d batches", batches)
    return batches


REMINDER_SEND_RETRIES = 4


@shared_task(acks_late=True)
def reminders_dispatch() -> int:
    """Beat's every-few-minutes job: make today's reminder rows, then queue the ones now due.
    Running it twice at once queues some sends twice; each send claims its row first, so a
    patient still gets one reminder."""
    services.reminders_fail_stale()
    services.reminders_plan()
    due = selectors.reminder_ids_due(now=timezone.now())
    for reminder_id in due:
        reminder_send.delay(reminder_id)
    return len(due)


@shared_task(bind=True, acks_late=True, max_retries=REMINDER_SEND_RETRIES)
def reminder_send(self, reminder_id: int) -> str:
    final = self.request.retries >= self.max_retries
    try:
        return services.reminder_send(reminder_id=reminder_id, final_attempt=final)
    except notify.TransientSendError as exc:
        # Exponential backoff with jitter, capped: 30 s, 60 s, 120 s, 240 s (+ up to 50 %).
        delay = min(30 * 2**self.request.retries, 600)
        raise self.retry(exc=exc, countdown=delay + random.uniform(0, delay / 2)) from exc


@shared_task(
    acks_late=True,
    soft_time_limit=outbox.ALERT_SEND_SOFT_TIME_LIMIT,
    time_limit=outbox.ALERT_SEND_TIME_LIMIT,
)
def alert_pause(decision_id: int) -> int:
    """A decision's alerts: a pause's, or a hold's after a near fall or dizziness (the name is
    the one messages already queued carry)."""
    return services.alerts_for_decision(decision_id=decision_id)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),  # a locked or restarting database is transient
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def session_evaluate(session_id: int) -> int:
    """The plan's evaluation after a session that reported no safety signal; returns the id of
    the decision it arrived at (0 when it was done already). A second delivery does nothing."""
    decision = services.session_evaluate(session_id=session_id)
    return decision.pk if decision is not None else 0


@shared_task(acks_late=True)
def outbox_sweep() -> int:
    """Beat's every-minute job: hand a worker again the work the broker lost (sent while it was
    down) or a dead worker left claimed. The claims make a second delivery do nothing."""
    due = outbox.sweep()
    for report_id in due.report_ids:
        report_render.delay(report_id)
    for decision_id in due.decision_ids:
        alert_pause.delay(decision_id)
    for session_id in due.session_ids:
        session_evaluate.delay(session_id)
    for delivery_id in due.webhook_ids:
        webhook_deliver.delay(delivery_id)
    if due or due.failed:
        log.info(
            "outbox_sweep: %d report(s), %d alert decision(s), %d session evaluation(s), %d "
            "webhook deliveries handed over; %d dead claim(s) released, %d given up",
            len(due.report_ids),
            len(due.decision_ids),
            len(due.session_ids),
            len(due.webhook_ids),
            due.redriven,
            due.failed,
        )
    return len(due)


@shared_task(
    acks_late=True,
    soft_time_limit=outbox.WEBHOOK_SEND_SOFT_TIME_LIMIT,
    time_limit=outbox.WEBHOOK_SEND_TIME_LIMIT,
)
def webhook_deliver(delivery_id: int) -> str:
    """One attempt of a webhook delivery. It claims the row first, so a second message (the
    sweep's, a redelivery) does nothing; a failure schedules the next attempt on the row,
    which the outbox sweep hands over when it is due."""
    return services.webhook_deliver(delivery_id=delivery_id)


@shared_task(acks_late=True)
def webhook_deliveries_purge() -> int:
    """Daily: the delivery log keeps finished deliveries WEBHOOK_LOG_DAYS."""
    return services.webhook_deliveries_purge()


DIGEST_LOCAL_HOUR = 7  # [I] the digest arrives before the clinic's day starts


@shared_task(acks_late=True)
def digests_dispatch() -> int:
    """Hourly: each clinician whose clinic has reached its digest hour gets today's digest
    (once: the digest row is unique per clinician and day)."""
    now = timezone.now()
    sent = 0
    for clinician in selectors.clinicians_at_local_hour(now=now, hour=DIGEST_LOCAL_HOUR):
        sent += services.digest_send(clinician=clinician, now=now) == "sent"
    return sent


@shared_task(
    acks_late=True,
    soft_time_limit=outbox.REPORT_RENDER_SOFT_TIME_LIMIT,
    time_limit=outbox.REPORT_RENDER_TIME_LIMIT,
)
def report_render(report_id: int) -> str:
    try:
        return services.report_render(report_id=report_id)
    except Exception as exc:
        # Dead work stays visible: the report says it failed and why, instead of "rendering"
        # for ever. The error still propagates to Celery's own failure handling and logs.
        services.report_mark_failed(report_id=report_id, error=exc)
        raise


@shared_task(acks_late=True)
def audit_seal() -> int:
    """Every minute: chain the new audit events (rehab/audit_chain.py). Two at once are safe:
    each chain is sealed under its head row's lock."""
    return audit_chain.audit_seal()


@shared_task(acks_late=True)
def kept_forms_purge() -> int:
    """Hourly: remove the portal forms kept over an ended sign-in that nobody came back for, and
    the questionnaire drafts too old to be resumed."""
    return services.kept_forms_purge()


@shared_task(acks_late=True)
def audit_retention() -> int:
    """Daily: with AUDIT_RETENTION_DAYS set, remove the exported events it no longer keeps."""
    return sum(pruned.events for pruned in audit_chain.audit_retention())
