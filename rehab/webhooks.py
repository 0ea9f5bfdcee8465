"""The webhook channel: signing secrets, payload rendering and the guarded, signed POST.

Signed as the Standard Webhooks specification says, with its reference library: headers
`webhook-id` (the delivery's message id, the same on every attempt), `webhook-timestamp` (Unix
seconds of this attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` of
`id.timestamp.body`; two of them, space-separated, while a rotated secret's overlap runs).

A clinic administrator chooses the URL, so the POST must never reach the server's own network
(SSRF): the host is resolved here, every address it resolves to must be public, and the
connection goes to the address that was checked (the Host header and TLS name stay the URL's),
so a second DNS answer cannot slip a private address in between (DNS rebinding). Redirects are
not followed: a 3xx is a failed attempt. WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true lifts the address
rule (and allows plain http) for development and tests only.

Nothing here writes to the database; rehab.services.webhooks records what happened.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.crypto import salted_hmac
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
TIMEOUT_SECONDS = 10.0  # the rule: a 2xx within 10 s is a success
USER_AGENT = "Retrowalk-Webhooks/1"


class RefusedAddress(Exception):
    """The URL's host is, or resolves to, an address a webhook may not reach."""


# --- Secrets ---------------------------------------------------------------------------------


def new_seed() -> str:
    return secrets.token_hex(32)


def secret_for(seed: str) -> str:
    """The signing secret of a seed: `whsec_` and the base64 of 32 bytes, as the specification
    writes secrets. Derived with the server's key, so the database alone holds no secret."""
    key = salted_hmac(
        "rehab.WebhookEndpoint.secret",
        seed,
        secret=settings.WEBHOOKS_SECRET_KEY,
        algorithm="sha256",
    ).digest()
    return SECRET_PREFIX + base64.b64encode(key).decode()


# --- Payloads --------------------------------------------------------------------------------

# How each resource is shown: registered by the API door (rehab.api.webhook_payloads), so a
# payload carries the resource exactly as GET /api/v1/... shows it, while the services that emit
# events do not import the door.
_RENDERERS: dict[type[models.Model], Callable[[Any], dict]] = {}


def register_renderer(model: type[models.Model], render: Callable[[Any], dict]) -> None:
    _RENDERERS[model] = render


def render(resource: models.Model) -> dict:
    try:
        renderer = _RENDERERS[type(resource)]
    except KeyError:
        raise LookupError(f"No webhook renderer for {type(resource).__name__}") from None
    # Through JSON once, so the stored payload is what will be sent (dates as strings).
    return json.loads(json.dumps(renderer(resource), cls=DjangoJSONEncoder))


def body_of(payload: dict) -> str:
    """The exact bytes signed and sent: compact, keys in a fixed order."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, cls=DjangoJSONEncoder)


# --- The address rule ------------------------------------------------------------------------


def check_url(url: str) -> None:
    """The URL's own shape (at creation and before each attempt): ValueError saying what is
    wrong. Its addresses are checked at each attempt, when it is resolved."""
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS else ("https",)
    if parts.scheme not in allowed:
        raise ValueError("Use an https:// URL (the events carry patient data).")
    if not parts.hostname:
        raise ValueError("The URL has no host.")
    if parts.username or parts.password:
        raise ValueError("Put no user name or password in the URL; verify the signature instead.")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ValueError("The URL's port is not valid.") from None
    if not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            if parts.hostname.lower() in ("localhost", "localhost.localdomain") or (
                parts.hostname.lower().endswith(".localhost")
            ):
                raise ValueError("The URL points at this server.") from None
        else:
            if not is_public(address):
                raise ValueError("The URL points at a private or reserved address.")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A public unicast address: not private, loopback, link-local (cloud metadata lives
    there), shared, reserved, unspecified or multicast; an IPv4 address written as IPv6 is
    judged as itself."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> str:
    """The address to connect to: every address the host resolves to must be allowed (a name
    answering with a public and a private address is refused), the first is used."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OSError(f"The host name could not be resolved ({exc.__class__.__name__}).") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise OSError("The host name has no address.")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        for address in addresses:
            if not is_public(address):
                raise RefusedAddress(
                    f"The host resolves to a private or reserved address ({address}); "
                    "webhooks are only sent to public addresses."
                )
    return str(addresses[0])


# --- The attempt -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str = ""


def signature_headers(
    *, message_id: str, body: str, secrets_now: list[str], at: dt.datetime
) -> dict[str, str]:
    signatures = " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body) for secret in secrets_now
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def post(
    *, url: str, message_id: str, body: str, secrets_now: list[str], at: dt.datetime
) -> Attempt:
    """One signed POST of `body` to `url`; never raises for what the endpoint or the network
    does."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        check_url(url)
        target = httpx.URL(url)
        port = target.port or (443 if target.scheme == "https" else 80)
        address = resolve(target.host, port)
    except (ValueError, httpx.InvalidURL, RefusedAddress, OSError) as exc:
        return Attempt(ok=False, status_code=None, duration_ms=elapsed(), error=str(exc)[:300])
    headers = {
        **signature_headers(message_id=message_id, body=body, secrets_now=secrets_now, at=at),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        # The URL's own host, not the address connected to (virtual hosts, proxies).
        "host": target.netloc.decode("ascii"),
    }
    # trust_env=False: an HTTP(S)_PROXY in the environment would connect elsewhere than to
    # the address checked here.
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
        request = client.build_request(
            "POST",
            target.copy_with(host=address),
            content=body.encode(),
            headers=headers,
            # TLS checks the certificate against the URL's host name, not the address.
            extensions={"sni_hostname": target.host} if target.scheme == "https" else None,
        )
        try:
            response = client.send(request, stream=True)
            response.close()  # the body is not read: the status is the answer
        except httpx.TimeoutException:
            return Attempt(
                ok=False,
                status_code=None,
                duration_ms=elapsed(),
                error=f"No answer within {TIMEOUT_SECONDS:.0f} s.",
            )
        except httpx.HTTPError as exc:
            return Attempt(
                ok=False,
                status_code=None,
                duration_ms=elapsed(),
                error=f"The endpoint could not be reached ({exc.__class__.__name__}).",
            )
    duration = elapsed()
    code = response.status_code
    if duration > TIMEOUT_SECONDS * 1000:
        return Attempt(
            ok=False,
            status_code=code,
            duration_ms=duration,
            error=f"Answered after more than {TIMEOUT_SECONDS:.0f} s.",
        )
    if 200 <= code < 300:
        return Attempt(ok=True, status_code=code, duration_ms=duration)
    if 300 <= code < 400:
        return Attempt(
            ok=False,
            status_code=code,
            duration_ms=duration,
            error="The endpoint answered with a redirect; redirects are not followed.",
        )
    return Attempt(
        ok=False, status_code=code, duration_ms=duration, error=f"The endpoint answered {code}."
    )
