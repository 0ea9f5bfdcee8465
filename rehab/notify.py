"""Reminder channels: e-mail and an SMS gateway reached through a configurable HTTP webhook.

A channel raises TransientSendError when trying again later may work (a gateway timeout, an SMTP
server that hung up) and PermanentSendError when it will not (no address, a refused recipient);
the caller records which, so a reminder that never arrives says why.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMultiAlternatives


class SendError(Exception):
    pass


class TransientSendError(SendError):
    pass


class PermanentSendError(SendError):
    pass


def send_email(*, to: str, subject: str, text: str, html: str) -> None:
    if not to:
        raise PermanentSendError("The patient has no e-mail address.")
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except ValueError as exc:
        # Django refuses a header with a line break (BadHeaderError) or an address it cannot
        # encode: the message can never be built, so this recipient's send fails for good.
        raise PermanentSendError(
            f"The message could not be built ({exc.__class__.__name__}: a header or the "
            "address has a line break or is malformed)."
        ) from exc
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise PermanentSendError(
            f"The mail server refused the message ({exc.__class__.__name__})."
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientSendError(
            f"The mail server could not be reached ({exc.__class__.__name__})."
        ) from exc


def send_sms(*, to: str, text: str) -> None:
    url = settings.SMS_WEBHOOK_URL
    if not url:
        raise PermanentSendError("No SMS gateway is configured (SMS_WEBHOOK_URL).")
    if not to:
        raise PermanentSendError("The patient has no phone number.")
    headers = {"Content-Type": "application/json"}
    if settings.SMS_WEBHOOK_TOKEN:
        headers["Authorization"] = f"Bearer {settings.SMS_WEBHOOK_TOKEN}"
    request = urllib.request.Request(
        url, data=json.dumps({"to": to, "text": text}).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.SMS_WEBHOOK_TIMEOUT) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise TransientSendError(f"The SMS gateway answered {exc.code}.") from exc
        raise PermanentSendError(f"The SMS gateway refused the message ({exc.code}).") from exc
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise TransientSendError("The SMS gateway could not be reached.") from exc
