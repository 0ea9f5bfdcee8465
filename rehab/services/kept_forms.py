"""A portal form kept over an ended sign-in, found again by a one-time token after signing in."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from rehab import selectors
from rehab.audit import audit_record
from rehab.models import (
    KeptForm,
    Patient,
    QuestionnaireDraft,
    User,
)

KEPT_USE = "use"  # the kept form is the signed-in patient's and this page's: send it again


KEPT_ELSEWHERE = "elsewhere"  # theirs, for another page: left for that page, which is named


KEPT_GONE = "gone"  # none, expired, or another account's (then removed unseen)


@dataclass(frozen=True)
class KeptFormTaken:
    state: str  # KEPT_USE, KEPT_ELSEWHERE or KEPT_GONE
    data: dict[str, list[str]] | None = None  # with KEPT_USE: the fields as they were sent
    path: str = ""  # with KEPT_ELSEWHERE: the page it was sent to


def kept_form_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def kept_form_keep(
    *, user_id: int, path: str, data: dict[str, list[str]], now: dt.datetime | None = None
) -> str | None:
    """Keep a portal form that arrived after its sign-in had ended, for the account whose page
    it came from (`user_id`, which the door read from the form's signed field). Returns the
    random token that finds it again (for an HttpOnly cookie; only its hash is stored), or None
    when that account is no longer a patient's. One kept form per account: a newer one
    replaces it (the same walk saved twice is one walk)."""
    now = now or timezone.now()
    KeptForm.objects.filter(expires_at__lte=now).delete()  # anyone's, so none outlives its time
    patient = (
        Patient.objects.select_related("clinic", "user")
        .filter(user_id=user_id, user__is_active=True, archived_at__isnull=True)
        .first()
    )
    if patient is None:
        return None
    KeptForm.objects.filter(user_id=user_id).delete()
    token = secrets.token_urlsafe(32)
    kept = KeptForm.objects.create(
        token_hash=kept_form_token_hash(token),
        user_id=user_id,
        path=path[:200],
        data=data,
        created_at=now,
        expires_at=now + dt.timedelta(hours=django_settings.PORTAL_KEPT_FORM_HOURS),
    )
    # The field names only, never what was typed.
    audit_record(
        actor=patient.user,
        action="portal.form_kept",
        obj=kept,
        patient=patient,
        detail={"fields": sorted(data)[:50]},
    )
    return token


@transaction.atomic
def kept_forms_purge(*, now: dt.datetime | None = None) -> int:
    """Remove the kept forms past PORTAL_KEPT_FORM_HOURS and the questionnaire drafts past
    QUESTIONNAIRE_DRAFT_DAYS (beat, hourly): answers nobody will be offered again are not kept.
    Not audited one by one: each was audited when kept or saved, and none was ever scored."""
    now = now or timezone.now()
    forms, _ = KeptForm.objects.filter(expires_at__lte=now).delete()
    drafts, _ = QuestionnaireDraft.objects.filter(
        updated_at__lt=selectors.questionnaire_draft_fresh_since(now)
    ).delete()
    return forms + drafts


@transaction.atomic
def kept_form_take(
    *, token: str, user: User, path: str, now: dt.datetime | None = None
) -> KeptFormTaken:
    """The kept form a signed-in patient's browser names (by its cookie's token), for the page
    at `path`: KEPT_USE with its data, removed as it is handed over; KEPT_ELSEWHERE with the
    page it belongs to when that is another page of theirs; KEPT_GONE otherwise. A form kept
    for another account is removed without being shown or saved: on a shared device, the next
    patient to sign in never sees the last one's answers."""
    now = now or timezone.now()
    kept = (
        KeptForm.objects.select_for_update()
        .filter(token_hash=kept_form_token_hash(token or ""))
        .first()
    )
    if kept is None:
        return KeptFormTaken(KEPT_GONE)
    mine = kept.user_id == user.pk
    fresh = kept.expires_at > now
    if mine and fresh and kept.path != path:
        return KeptFormTaken(KEPT_ELSEWHERE, path=kept.path)
    owner = Patient.objects.select_related("clinic").filter(user_id=kept.user_id).first()
    kept_id = kept.pk
    kept.delete()
    if owner is not None:
        reason = "used" if mine and fresh else ("expired" if mine else "other_account")
        audit_record(
            actor=user,
            action="portal.form_kept_used" if reason == "used" else "portal.form_kept_discarded",
            patient=owner,
            detail={"kept_form": kept_id, "reason": reason},
        )
    if mine and fresh:
        return KeptFormTaken(KEPT_USE, data=kept.data)
    return KeptFormTaken(KEPT_GONE)
