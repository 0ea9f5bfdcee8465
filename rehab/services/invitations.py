"""Portal invitations: inviting a patient, checking a link, and accepting it with a password."""

from __future__ import annotations

import datetime as dt
import secrets
from functools import partial

from django.conf import settings as django_settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rehab import notify, scheduling, selectors
from rehab.audit import Actor, as_user, audit_record
from rehab.errors import RehabError, validation_error
from rehab.models import (
    Patient,
    PortalInvite,
    User,
)
from rehab.services.common import clean_row, require_active_patient

_INVITE_USED = (
    "This invitation has already been used. Sign in with your e-mail address and the password "
    "you chose, or ask your clinic for help."
)


def invite_check(*, invite: PortalInvite | None, now: dt.datetime | None = None) -> PortalInvite:
    """The invitation if its link may still be used; otherwise the RehabError its holder should
    read (404 for an unknown link, 410 for one that worked once but no longer does)."""
    if invite is None:
        raise RehabError(
            "invite_not_found",
            "This invitation link is not valid. Check that the whole link was copied from the "
            "e-mail, or ask your clinic to send a new one.",
            status=404,
        )
    patient = invite.patient
    state = invite.state(now)
    if state == "used" or patient.user_id is not None:
        raise RehabError("invite_used", _INVITE_USED, status=410)
    # An address changed since the e-mail went out means the link may be in the wrong mailbox.
    address_changed = invite.sent_to.lower() != patient.email.strip().lower()
    if state == "revoked" or patient.archived_at is not None or address_changed:
        raise RehabError(
            "invite_revoked",
            "This invitation is no longer valid; a newer one may have been sent. Use the link in "
            "the most recent e-mail from your clinic, or ask them to send a new one.",
            status=410,
        )
    if state == "expired":
        raise RehabError(
            "invite_expired",
            "This invitation has expired. Ask your clinic to send a new one.",
            status=410,
        )
    return invite


@transaction.atomic
def patient_invite(*, patient: Patient, actor: Actor, base_url: str | None = None) -> PortalInvite:
    """Invite a patient to the portal by e-mail: one single-use link, valid for
    settings.INVITE_VALID_DAYS days. Earlier unused invitations stop working.

    Only the token's hash is stored; the link goes out once the invitation is committed. When
    the e-mail cannot be sent, the returned invitation's `send_error` says why (and a new
    invitation simply replaces it).
    """
    require_active_patient(patient)
    if patient.user_id is not None:
        raise RehabError(
            "portal_account_exists",
            f"{patient.full_name} already has a portal account. They can sign in, or reset "
            "their password from the portal's sign-in page.",
            status=409,
        )
    if not patient.email.strip():
        raise RehabError(
            "email_required",
            f"{patient.full_name} has no e-mail address; add one to their record first.",
            fields={"email": ["An e-mail address is needed for an invitation."]},
        )
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one invite at a time
    now = timezone.now()
    revoked = PortalInvite.objects.filter(
        patient=patient, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invite = PortalInvite.objects.create(
        patient=patient,
        token_hash=selectors.invite_token_hash(token),
        sent_to=patient.email.strip(),
        created_by=as_user(actor),
        created_at=now,
        expires_at=now + dt.timedelta(days=django_settings.INVITE_VALID_DAYS),
    )
    audit_record(
        actor=actor,
        action="portal.invite",
        obj=invite,
        patient=patient,
        detail={"revoked_earlier": revoked},
    )
    link = (base_url or django_settings.SITE_URL).rstrip("/") + reverse(
        "patients:invite_accept", args=[token]
    )
    invite.send_error = ""
    # The token lives only in this closure and the e-mail: never in a table or a task queue.
    transaction.on_commit(partial(_invite_send, invite, link))
    return invite


def _invite_send(invite: PortalInvite, link: str) -> None:
    patient = invite.patient
    context = {
        "patient": patient,
        "clinic": patient.clinic,
        "link": link,
        "expires_on": scheduling.local_day(invite.expires_at, patient.timezone),
        "valid_days": django_settings.INVITE_VALID_DAYS,
    }
    try:
        notify.send_email(
            to=invite.sent_to,
            subject=f"{patient.clinic.name}: your backward-walking plan online",
            text=render_to_string("emails/invite.txt", context),
            html=render_to_string("emails/invite.html", context),
        )
    except notify.SendError as exc:
        invite.send_error = str(exc)
        audit_record(
            actor=None,
            action="portal.invite_failed",
            obj=invite,
            patient=patient,
            detail={"error": exc.__class__.__name__},
        )


@transaction.atomic
def invite_accept(*, token: str, password: str, username: str | None = None) -> User:
    """Turn an invitation into a portal account: the patient chooses a password, the link is
    used up, the account is linked to the patient's record. Returns the new user."""
    found = selectors.portal_invite_for_token(token=token)
    if found is not None:
        # Locked, so two submissions of one link cannot both get past the checks.
        found = (
            PortalInvite.objects.select_for_update()
            .select_related("patient__clinic")
            .get(pk=found.pk)
        )
    invite = invite_check(invite=found)
    patient = invite.patient
    username = (username or "").strip() or selectors.portal_username_for(email=invite.sent_to)
    user = User(
        username=username,
        email=invite.sent_to,
        first_name=patient.first_name[:150],
        last_name=patient.last_name[:150],
    )
    clean_row(user, exclude=["password"])
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise validation_error(
            {"password": list(exc.messages)}, "Please choose a different password."
        ) from exc
    now = timezone.now()
    claimed = PortalInvite.objects.filter(
        pk=invite.pk, used_at__isnull=True, revoked_at__isnull=True
    ).update(used_at=now)
    if not claimed:
        raise RehabError("invite_used", _INVITE_USED, status=410)
    user.set_password(password)
    user.save()
    linked = Patient.objects.filter(pk=patient.pk, user__isnull=True).update(
        user=user, updated_at=now
    )
    if not linked:  # an account was linked in between; the transaction rolls back
        raise RehabError("invite_used", _INVITE_USED, status=410)
    patient.user = user
    audit_record(actor=user, action="portal.invite_accept", obj=invite, patient=patient)
    return user
