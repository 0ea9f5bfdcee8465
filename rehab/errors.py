"""The one domain error. Doors turn it into a 400/409 with its message and field errors."""

from __future__ import annotations


class RehabError(Exception):
    """A refusal a user can act on: `code` is stable for machines, `message` is for people.

    `fields` maps a field name to its messages, for forms and API clients. `status` is the HTTP
    status a door should answer with: 400 for bad input, 409 for a conflict with the record's
    current state (a paused plan, a duplicate log).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.status = status

    def __repr__(self) -> str:
        return f"RehabError({self.code!r}, {self.message!r})"

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


def validation_error(fields: dict[str, list[str] | str], message: str | None = None) -> RehabError:
    normalised = {name: msgs if isinstance(msgs, list) else [msgs] for name, msgs in fields.items()}
    if message is None:
        names = ", ".join(sorted(normalised))
        message = f"Please correct: {names}."
    return RehabError("validation_error", message, fields=normalised)
