"""Request lines in logs without health data or secrets.

A query string carries what people typed (`?search=Bloggs`, `?external_id=...`) and some paths
carry a secret (a patient's calendar-feed token, a portal invitation, a password-reset link):
anyone who reads the logs could use or learn them. Logs keep the path without its query string,
with the secret segments masked. gunicorn.conf.py (in the repository root) installs
PrivateAccessLogger for gunicorn; LOGGING installs PrivatePathFilter for Django's own request
loggers (runserver's request lines, "Not Found: /path" warnings).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from gunicorn.glogging import Logger

MASK = "…"

# Path segments that are credentials. The reset link's uid is not secret, its token is; Django
# swaps the token for "set-password" on the first visit, which is left readable.
_SECRET_SEGMENTS = [
    re.compile(r"(?P<keep>/calendar/)[^/]+?(?P<tail>\.ics)$"),
    re.compile(r"(?P<keep>/invite/)[^/]+(?P<tail>/?)$"),
    re.compile(r"(?P<keep>/password-reset/[^/]+/)(?!set-password/)[^/]+(?P<tail>/?)$"),
]


def private_path(url: str) -> str:
    """A path or URL (absolute, or a request target) without its query string and fragment,
    with any secret segment masked."""
    if not url or url == "-":
        return url
    parts = urlsplit(url)
    path = parts.path
    for pattern in _SECRET_SEGMENTS:
        path = pattern.sub(lambda m: f"{m['keep']}{MASK}{m['tail']}", path)
    if parts.scheme or parts.netloc:
        return (
            f"{parts.scheme}://{parts.netloc}{path}" if parts.scheme else f"//{parts.netloc}{path}"
        )
    return path


def private_request_line(line: str) -> str:
    """'GET /clinic/?search=Bloggs HTTP/1.1' -> 'GET /clinic/ HTTP/1.1'."""
    method, _, rest = line.partition(" ")
    target, _, protocol = rest.rpartition(" ") if rest.count(" ") else (rest, "", "")
    cleaned = " ".join(part for part in (method, private_path(target), protocol) if part)
    return cleaned


class PrivateAccessLogger(Logger):
    """gunicorn's logger with the request line, path, query string and referrer cleaned in
    every access-log atom, whatever access_log_format names; and the request target cleaned
    from gunicorn's own "Error handling request /path?..." messages."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = "{} {} {}".format(
            environ["REQUEST_METHOD"],
            private_path(environ.get("RAW_URI") or environ.get("PATH_INFO", "")),
            environ["SERVER_PROTOCOL"],
        )
        atoms["U"] = private_path(atoms.get("U") or "")
        atoms["q"] = "-"
        atoms["f"] = private_path(atoms.get("f") or "-")
        if "{referer}i" in atoms:
            atoms["{referer}i"] = private_path(atoms["{referer}i"])
        if "{location}o" in atoms:
            atoms["{location}o"] = private_path(atoms["{location}o"])
        return atoms

    def exception(self, msg, *args, **kwargs):
        super().exception(msg, *_clean_args(args), **kwargs)

    def error(self, msg, *args, **kwargs):
        super().error(msg, *_clean_args(args), **kwargs)


def _clean_args(args) -> tuple:
    return tuple(private_path(a) if isinstance(a, str) and a.startswith("/") else a for a in args)


class PrivatePathFilter(logging.Filter):
    """For Django's request loggers: runserver's request lines ('"GET /x?y HTTP/1.1" 200 5')
    and "Not Found: /path" carry the request target in their arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_clean_arg(arg) for arg in record.args)
        return True


def _clean_arg(arg):
    if not isinstance(arg, str):
        return arg
    if arg.startswith("/"):
        return private_path(arg)
    if re.match(r"^[A-Z]+ \S+ HTTP/[\d.]+$", arg):
        return private_request_line(arg)
    return arg
