"""What the page selectors share: how a person is named on a page."""

from __future__ import annotations


def person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""
