"""Text marked for translation: `gettext` through a translator installed at startup.

Pure Python, so the wording stays importable (and testable) without Django: rehab.apps installs
Django's `gettext` when the app registry is ready; until then (a pure test, a script) every text
is returned as written.

The vocabularies are dicts built at import time, before any language is active, so their
strings are only *marked* there, with `gettext_noop` (which `makemessages` finds, as it finds
`gettext`), and translated when read, by the functions that hand them out (`adverse_event`,
`reason_text`, ...). Nothing here translates at import time: the words would be frozen in the
language of whichever request imported the module first. Callers therefore read words through
those functions, never from the dicts.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ("gettext", "gettext_noop", "install_translator")


def _as_written(message: str) -> str:
    return message


_translate: Callable[[str], str] = _as_written


def install_translator(translate: Callable[[str], str] | None) -> Callable[[str], str]:
    """Translate every later `gettext` with `translate` (None: the text as written); returns
    the translator it replaces."""
    global _translate
    previous, _translate = _translate, translate or _as_written
    return previous


def gettext(message: str) -> str:
    """`message` in the active language."""
    return _translate(message)


def gettext_noop(message: str) -> str:
    """Marks `message` for translation without translating it: it is translated when read."""
    return message
