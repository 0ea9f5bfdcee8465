"""A clinic's team: adding clinicians, their password links, and who may administer the clinic."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.html import escape
from django.utils.http import urlsafe_base64_encode

from rehab import notify, selectors
from rehab.audit import Actor, as_user, audit_record
from rehab.errors import RehabError, validation_error
from rehab.models import (
    Clinic,
    Clinician,
    User,
)
from rehab.services.common import clean_row
from rehab.services.keys import personal_tokens_revoke_all


def _lock_clinic(clinic: Clinic) -> Clinic:
    # Team changes of one clinic run one at a time, so two administrators removing each other's
    # rights at once cannot leave the clinic with none.
    return Clinic.objects.select_for_update().get(pk=clinic.pk)


def _other_active_admins(clinician: Clinician) -> int:
    return (
        Clinician.objects.filter(
            clinic_id=clinician.clinic_id, is_clinic_admin=True, user__is_active=True
        )
        .exclude(pk=clinician.pk)
        .count()
    )


def _set_password_link(user: User) -> str:
    path = reverse(
        "clinicians:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{django_settings.SITE_URL}{path}"


def _address_owned_by_another(user: User) -> bool:
    """An e-mail address belongs to the first account made with it. A later account with the
    same address (added by another clinic, which must not learn that the address is taken)
    never gets a password link for it, so it can never sign in with it or take it over."""
    return User.objects.filter(email__iexact=user.email, pk__lt=user.pk).exists()


def _send_set_password_email(clinician: Clinician, actor: Actor) -> None:
    user = clinician.user
    sender = as_user(actor)
    context = {
        "user": user,
        "clinic": clinician.clinic,
        "invited_by": (sender.get_full_name() or sender.get_username()) if sender else "",
    }
    if _address_owned_by_another(user):
        # The owner of the address is told, not the clinic: the administrator sees the same
        # "a link was e-mailed" as for a new address (see clinician_create).
        _send_team_email(
            user,
            subject=f"Retrowalk: {clinician.clinic.name} tried to add this address",
            text=render_to_string("emails/clinician_address_taken.txt", context),
        )
        return
    link = _set_password_link(user)
    text = render_to_string(
        "emails/clinician_welcome.txt",
        {
            **context,
            "link": link,
            "valid_hours": max(1, django_settings.PASSWORD_RESET_TIMEOUT // 3600),
            "username": user.get_username(),
        },
    )
    _send_team_email(
        user,
        subject=f"Your Retrowalk account at {clinician.clinic.name}",
        text=text,
        link=link,
    )


def _send_team_email(user: User, *, subject: str, text: str, link: str = "") -> None:
    paragraphs = [escape(p).replace("\n", "<br>") for p in text.strip().split("\n\n")]
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    if link:
        html = html.replace(escape(link), f'<a href="{escape(link)}">{escape(link)}</a>')
    try:
        notify.send_email(to=user.email, subject=subject, text=text, html=html)
    except notify.SendError as exc:
        # Raised inside the transaction: nothing is kept, so the administrator can simply retry.
        raise RehabError(
            "email_not_sent",
            f"The e-mail to {user.email} could not be sent ({exc}). Nothing was changed; "
            "please try again later.",
            status=503,
        ) from exc


@transaction.atomic
def clinician_create(
    *,
    clinic: Clinic,
    actor: Actor,
    first_name: str,
    last_name: str,
    email: str,
    username: str | None = None,
    title: str = "Physiotherapist",
    is_clinic_admin: bool = False,
) -> Clinician:
    """Add a clinician to the clinic. The account has no password until they set one through
    the link e-mailed to them, so no one else ever knows it.

    No clinic may learn of, or block, another clinic's accounts. So an address that already
    has an account elsewhere is not refused (a refusal would tell this clinic that the address
    is known to Retrowalk): the account is made all the same and the administrator sees what
    they see for any new address, but no password link goes out; the address's owner is told
    instead, and the new account can never sign in with the address or take it from its owner
    (rehab.backends.account_for). Usernames may not contain "@", so no one can make a username
    that reads as someone else's e-mail address."""
    _lock_clinic(clinic)
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    email, username = (email or "").strip(), (username or "").strip()
    errors: dict[str, list[str]] = {}
    for field, value, what in (
        ("first_name", first_name, "a first name"),
        ("last_name", last_name, "a last name"),
        ("email", email, "an e-mail address for the set-password link"),
    ):
        if not value:
            errors[field] = [f"Give {what}."]
    if email and Clinician.objects.filter(clinic=clinic, user__email__iexact=email).exists():
        # Within the clinic there is nothing to hide: the team list shows every address.
        errors["email"] = ["A clinician of this clinic already uses this e-mail address."]
    if "@" in username:
        errors["username"] = [
            "A username cannot contain “@”. Leave it empty: they can sign in with their e-mail "
            "address."
        ]
    elif username and User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is taken; choose another or leave it empty."]
    if errors:
        raise validation_error(errors)
    user = User(
        username=username or selectors.portal_username_for(email=email),
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    user.set_unusable_password()
    clean_row(user, exclude=["password"])
    clinician = Clinician(
        clinic=clinic, user=user, title=(title or "").strip(), is_clinic_admin=is_clinic_admin
    )
    clean_row(clinician, exclude=["user"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # the same username, taken a moment ago
        raise validation_error({"username": "This username is taken; choose another."}) from exc
    clinician.user = user
    clinician.save()
    audit_record(
        actor=actor,
        action="clinician.create",
        obj=clinician,
        clinic=clinic,
        detail={"username": user.username, "is_clinic_admin": is_clinic_admin},
    )
    _send_set_password_email(clinician, actor)
    return clinician


@transaction.atomic
def clinician_send_password_link(*, clinician: Clinician, actor: Actor) -> Clinician:
    """E-mail a new set-password link, e.g. when the first one expired or went astray."""
    if not clinician.user.is_active:
        raise RehabError(
            "clinician_inactive",
            f"{clinician} is deactivated; reactivate the account first.",
            status=409,
        )
    if not clinician.user.email:
        raise validation_error({"email": "This account has no e-mail address."})
    audit_record(
        actor=actor, action="clinician.password_link", obj=clinician, clinic=clinician.clinic
    )
    _send_set_password_email(clinician, actor)
    return clinician


@transaction.atomic
def clinician_set_active(*, clinician: Clinician, active: bool, actor: Actor) -> Clinician:
    """Deactivate (they can no longer sign in; their records stay) or reactivate a clinician."""
    _lock_clinic(clinician.clinic)
    user = User.objects.select_for_update().get(pk=clinician.user_id)
    clinician.user = user
    if user.is_active == active:
        return clinician
    if not active:
        if as_user(actor) is not None and as_user(actor).pk == user.pk:
            raise RehabError(
                "cannot_deactivate_self",
                "You cannot deactivate your own account; ask another administrator.",
                status=409,
            )
        if clinician.is_clinic_admin:
            _refuse_last_admin(clinician)
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        personal_tokens_revoke_all(user=user)
    audit_record(
        actor=actor,
        action="clinician.activate" if active else "clinician.deactivate",
        obj=clinician,
        clinic=clinician.clinic,
    )
    return clinician


def _refuse_last_admin(clinician: Clinician) -> None:
    """A clinic always keeps one active administrator, who can manage its team and keys."""
    if _other_active_admins(clinician) == 0:
        raise RehabError(
            "last_admin",
            f"{clinician} is the clinic's only active administrator; make someone else an "
            "administrator first.",
            status=409,
        )


@transaction.atomic
def clinician_set_admin(*, clinician: Clinician, is_clinic_admin: bool, actor: Actor) -> Clinician:
    """Grant or remove the clinic administrator's rights (team and API keys)."""
    _lock_clinic(clinician.clinic)
    clinician = (
        Clinician.objects.select_for_update().select_related("user", "clinic").get(pk=clinician.pk)
    )
    if clinician.is_clinic_admin == is_clinic_admin:
        return clinician
    if not is_clinic_admin and clinician.user.is_active:
        _refuse_last_admin(clinician)
    clinician.is_clinic_admin = is_clinic_admin
    clinician.save(update_fields=["is_clinic_admin"])
    audit_record(
        actor=actor,
        action="clinician.admin_grant" if is_clinic_admin else "clinician.admin_remove",
        obj=clinician,
        clinic=clinician.clinic,
    )
    return clinician
