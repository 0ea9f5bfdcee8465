"""Codes in words, for clinicians and for patients: one wording for the pages, the portal and
the PDF. Pure Python, no Django."""

from rehab.wording.reasons import BECAUSE, because, join_words, patient_reason, reason_text

__all__ = ("BECAUSE", "because", "join_words", "patient_reason", "reason_text")
