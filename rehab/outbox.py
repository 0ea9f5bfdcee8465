"""Deferred work is a row before it is a message (the transactional outbox, STYLE.md §15).

A service records the work it causes in its own transaction, as the work row itself in a state a
worker picks up: the Alert rows of a pause or of a near fall's hold (pending), a Report
(pending), a day's Reminder rows, a session whose progression evaluation is due (its
`evaluation_due_on`, set in the log's own INSERT). After commit it sends a Celery message as a
fast path only; when the broker is down that send fails fast, is logged, and the request still
succeeds. Every OUTBOX_SWEEP_SECONDS beat runs `tasks.outbox_sweep`, which hands a worker again
whatever is waiting too long (pending past one sweep interval) or was claimed by a worker that
died (`rendering`/`sending` past the task's hard time limit). Workers claim a row with a guarded
update, so the sweep's message and a redelivered one never render or send twice. A session's
evaluation is claimed in the transaction that records its decision, so it has no claim to go
stale: a worker that dies mid-way leaves it due. Reminders already work this way through
`reminders_dispatch`. A webhook delivery is its own outbox row: the sweep also hands over each
one whose next attempt has come due (it is the retries' clock) and releases dead claims.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from rehab.celery import app as celery_app
from rehab.models import Alert, Report, SessionLog, WebhookDelivery

log = logging.getLogger(__name__)

# Hard time limits of the tasks (tasks.py uses them): a claim older than its limit plus a
# margin belongs to a worker that is dead, because a live one would have been killed by now.
REPORT_RENDER_SOFT_TIME_LIMIT = 90
REPORT_RENDER_TIME_LIMIT = 120
ALERT_SEND_SOFT_TIME_LIMIT = 50
ALERT_SEND_TIME_LIMIT = 60
CLAIM_MARGIN = dt.timedelta(seconds=30)
REPORT_CLAIM_DEAD_AFTER = dt.timedelta(seconds=REPORT_RENDER_TIME_LIMIT) + CLAIM_MARGIN
ALERT_CLAIM_DEAD_AFTER = dt.timedelta(seconds=ALERT_SEND_TIME_LIMIT) + CLAIM_MARGIN
# A webhook attempt: resolving the host, then the 10 s POST.
WEBHOOK_SEND_SOFT_TIME_LIMIT = 25
WEBHOOK_SEND_TIME_LIMIT = 30
WEBHOOK_CLAIM_DEAD_AFTER = dt.timedelta(seconds=WEBHOOK_SEND_TIME_LIMIT) + CLAIM_MARGIN
# A report whose render killed its worker this often is failed, not tried for ever; a pause
# alert interrupted mid-send is sent again (twice is better than a fall alert never arriving).
MAX_ATTEMPTS = 3
# Deferred session evaluations handed over again by one sweep (a minute's worth at a busy clinic
# group's peak, a few seconds of a worker's time).
SWEEP_SESSIONS = 2000
# Webhook deliveries handed over by one sweep, the earliest due first (the rest next sweep).
SWEEP_WEBHOOKS = 2000

# The alerts sent at once for a decision (tasks.alert_pause): a pause's, a hold's after a near
# fall or dizziness, and a session's done outside the plan's settings; the digest is the other kind.
DECISION_ALERT_KINDS = (Alert.Kind.PAUSE, Alert.Kind.HOLD, Alert.Kind.OFF_PLAN)

# What a publish raises when the broker cannot be reached (kombu wraps most of it; redis-py's
# own errors and socket errors can escape from the connection pool).
BROKER_ERRORS = (KombuError, RedisError, OSError)


# Where the tasks live: a message names its task, so the services that record work need not
# import the tasks (which import the services). RehabConfig.ready() registers them with Celery.
TASKS_MODULE = "rehab.tasks"


def enqueue_after_commit(task_name: str, *ids: int) -> None:
    """Send `tasks.<task_name>(*ids)` once the current transaction commits; a fast path only."""
    transaction.on_commit(partial(_enqueue, task_name, ids))


def _enqueue(task_name: str, ids: tuple[int, ...]) -> None:
    # By name: a registered task runs as its .delay() would (in-process when tasks are eager,
    # as in the tests); one this process never loaded is still published for a worker.
    message = celery_app.signature(f"{TASKS_MODULE}.{task_name}", args=ids)
    try:
        message.apply_async()
    except BROKER_ERRORS as exc:
        # The row is committed: the sweep delivers it once the broker is back. Ids only here,
        # never patient data.
        log.warning(
            "broker unreachable (%s); %s%s waits for the outbox sweep",
            exc.__class__.__name__,
            task_name,
            ids,
        )


@dataclass
class Due:
    """What the sweep hands to workers again."""

    report_ids: list[int] = field(default_factory=list)
    decision_ids: list[int] = field(default_factory=list)
    session_ids: list[int] = field(default_factory=list)
    webhook_ids: list[int] = field(default_factory=list)
    redriven: int = 0
    failed: int = 0

    def __len__(self) -> int:
        return (
            len(self.report_ids)
            + len(self.decision_ids)
            + len(self.session_ids)
            + len(self.webhook_ids)
        )


def sweep(*, now: dt.datetime | None = None) -> Due:
    """Release dead claims and list the work waiting longer than one sweep interval."""
    now = now or timezone.now()
    due = Due()
    _release_dead_claims(
        Report.objects.filter(
            _claimed_before(now - REPORT_CLAIM_DEAD_AFTER), status=Report.Status.RENDERING
        ),
        running=Report.Status.RENDERING,
        waiting=Report.Status.PENDING,
        failed=Report.Status.FAILED,
        reason_field="error",
        due=due,
    )
    _release_dead_claims(
        Alert.objects.filter(
            _claimed_before(now - ALERT_CLAIM_DEAD_AFTER),
            kind__in=DECISION_ALERT_KINDS,
            status=Alert.Status.SENDING,
        ),
        running=Alert.Status.SENDING,
        waiting=Alert.Status.PENDING,
        failed=Alert.Status.FAILED,
        reason_field="detail",
        due=due,
    )
    # A digest is only worth its morning: one interrupted mid-send is failed, as reminders are.
    due.failed += Alert.objects.filter(
        _claimed_before(now - ALERT_CLAIM_DEAD_AFTER),
        kind=Alert.Kind.DIGEST,
        status=Alert.Status.SENDING,
    ).update(status=Alert.Status.FAILED, detail="Interrupted while sending; not retried.")

    waited = now - dt.timedelta(seconds=settings.OUTBOX_SWEEP_SECONDS)
    due.report_ids = list(
        Report.objects.filter(status=Report.Status.PENDING, created_at__lt=waited)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    due.decision_ids = list(
        Alert.objects.filter(
            kind__in=DECISION_ALERT_KINDS, status=Alert.Status.PENDING, created_at__lt=waited
        )
        .order_by("decision_id")
        .values_list("decision_id", flat=True)
        .distinct()
    )
    # Through the partial index on the due sessions only (SessionLog.Meta). At most
    # SWEEP_SESSIONS a sweep, oldest first: after a long outage the backlog is handed over a
    # sweep at a time rather than all at once into the broker (the next sweep takes the rest).
    due.session_ids = list(
        SessionLog.objects.filter(evaluation_due_on__isnull=False, created_at__lt=waited)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:SWEEP_SESSIONS]
    )
    # A webhook attempt interrupted mid-POST (its worker died) is due again at once: its
    # attempt counted, and the receiver drops a duplicate by its webhook-id.
    due.redriven += WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - WEBHOOK_CLAIM_DEAD_AFTER
    ).update(status=WebhookDelivery.Status.PENDING, claimed_at=None, next_attempt_at=now)
    # Due: a retry whose time has come (no message waits for it: the sweep is its clock), or
    # a first attempt whose fast-path message the broker lost.
    due.webhook_ids = list(
        WebhookDelivery.objects.filter(
            Q(attempts__gt=0, next_attempt_at__lte=now) | Q(attempts=0, next_attempt_at__lt=waited),
            status=WebhookDelivery.Status.PENDING,
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:SWEEP_WEBHOOKS]
    )
    return due


def _claimed_before(moment: dt.datetime) -> Q:
    # Rows claimed before claims were recorded (no claimed_at) count from their creation, so
    # an alert stuck 'sending' since then is released too.
    return Q(claimed_at__lt=moment) | Q(claimed_at__isnull=True, created_at__lt=moment)


def _release_dead_claims(rows, *, running, waiting, failed, reason_field, due: Due) -> None:
    for pk, attempts in rows.values_list("id", "attempts"):
        # Guarded by the status it was read in, so two sweeps at once release it once.
        still_claimed = rows.model.objects.filter(pk=pk, status=running, attempts=attempts)
        if attempts >= MAX_ATTEMPTS:
            due.failed += still_claimed.update(
                status=failed,
                **{reason_field: f"Interrupted {attempts} times (the worker stopped); given up."},
            )
        else:
            due.redriven += still_claimed.update(status=waiting, claimed_at=None)


def claim(model, *, pk: int, waiting: str, running: str, now: dt.datetime) -> bool:
    """The guarded claim: only one worker turns a waiting row into a running one."""
    return bool(
        model.objects.filter(pk=pk, status=waiting).update(
            status=running, claimed_at=now, attempts=F("attempts") + 1
        )
    )
