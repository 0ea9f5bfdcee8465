"""The report's codes and values in words for either audience, and user text made safe markup.

Every piece of user text passes through `markup` (xml escape) before it reaches Paragraph markup:
a note such as "<b>pain & swelling</b>" must print literally and never break the document.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

from rehab import wording
from rehab.clinical.outcomes import MEASURES
from rehab.clinical.progression import REASON_CODES
from rehab.reports.charts import format_date
from rehab.reports.data import ReportData

_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_SEPARATORS = re.compile(r"[\s,;|/]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def markup(value: str) -> str:
    """User text made safe for Paragraph markup: escaped, line breaks kept, controls dropped."""
    # Control characters are not valid XML and would make the paragraph parser fail.
    cleaned = _CONTROL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    return escape(cleaned).replace("\n", "<br/>")


def _codes_only(reason: str) -> list[str] | None:
    """The reason's codes when it is nothing but known codes ("min_days; low_adherence")."""
    parts = [part for part in _SEPARATORS.split(reason.strip()) if part]
    if parts and all(part in REASON_CODES for part in parts):
        return parts
    return None


def reason_words(reason: str, *, patient: bool) -> str:
    """A level change's reason in words, as escaped markup."""
    codes = _codes_only(reason)
    if codes is not None:
        # Bare codes are put in the pages' words (rehab.wording); no reader sees a code.
        if patient:
            return markup(wording.patient_reason([{"code": c} for c in codes]))
        return " ".join(markup(wording.reason_sentence(c)) for c in codes)
    if not patient:
        return markup(reason)

    def plain(match: re.Match[str]) -> str:
        code = match.group(0)
        if code in REASON_CODES:
            return wording.reason_because(code)
        return code.replace("_", " ")

    # Free text that quotes a code ("held: min_days") still must not show the code to a patient.
    return markup(_CODE.sub(plain, reason))


def _audience(patient: bool) -> wording.Audience:
    return wording.PATIENT if patient else wording.CLINICIAN


def event_words(event: str, *, patient: bool) -> str:
    if event.strip() in wording.ADVERSE_EVENTS:
        return wording.adverse_event(event.strip(), _audience(patient))
    return _CODE.sub(lambda m: m.group(0).replace("_", " "), event) if patient else event


def status_words(status: str, *, patient: bool) -> str:
    if status.strip().lower() in wording.PLAN_STATUSES:
        return wording.plan_status(status.strip().lower(), _audience(patient))
    return status.replace("_", " ") if patient else status


def subscale_words(subscale: str, *, patient: bool) -> str:
    return wording.subscale(subscale, _audience(patient))


def day_state_words(state: str, *, patient: bool) -> str:
    return wording.day_state(state, _audience(patient))


def measure_words(measure: str, *, patient: bool) -> str:
    known = MEASURES.get(measure.strip().lower())
    if known is None:
        return measure
    return known.name if patient else known.code.upper()


def format_number(value: float | None, missing: str) -> str:
    if value is None:
        return missing
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def format_percent(value: float) -> str:
    # Half-up, as people round: 62.5 % is "63 %", not banker's "62 %".
    whole = Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{whole} %"


def record_number_words(data: ReportData) -> str:
    return data.record_number.strip() or "none recorded"


def birth_date_words(data: ReportData) -> str:
    return format_date(data.date_of_birth) if data.date_of_birth else "not recorded"


def first_upper(text: str) -> str:
    # str.capitalize would lower the rest: "RW-0042" must stay as the clinic wrote it.
    return text[:1].upper() + text[1:]


def identity(data: ReportData) -> str:
    """The patient as a filed page names them: name, record number and date of birth."""
    number, born = record_number_words(data), birth_date_words(data)
    return f"{data.patient_name} · Record no. {number} · Born {born}"


def generated_words(moment: datetime) -> str:
    zone = moment.tzname() or ""
    return f"{format_date(moment.date())} {moment:%H:%M} {zone}".rstrip()
