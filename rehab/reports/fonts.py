"""The report's TrueType fonts, registered with reportlab once per process."""

from __future__ import annotations

import os
from functools import cache

import reportlab
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "RehabSans"
FONT_BOLD = "RehabSans-Bold"

# The 14 standard PDF fonts only cover Windows-1252, so names such as "Łucja" or "Čapek" would
# print as boxes. DejaVu (Debian's fonts-dejavu-core) covers Central European, Greek and Cyrillic;
# Bitstream Vera ships inside the reportlab wheel, so the report still builds in a slim image.
_FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf"),
        os.path.join(os.path.dirname(reportlab.__file__), "fonts", "VeraBd.ttf"),
    ),
)


@cache
def register_fonts() -> tuple[str, str]:
    """Register the report's regular and bold font once per process; return their names."""
    for regular, bold in _FONT_CANDIDATES:
        if os.path.exists(regular) and os.path.exists(bold):
            pdfmetrics.registerFont(TTFont(FONT, regular))
            pdfmetrics.registerFont(TTFont(FONT_BOLD, bold))
            # Paragraph markup <b> looks up the family's bold face through these mappings.
            addMapping(FONT, 0, 0, FONT)
            addMapping(FONT, 1, 0, FONT_BOLD)
            addMapping(FONT, 0, 1, FONT)
            addMapping(FONT, 1, 1, FONT_BOLD)
            return FONT, FONT_BOLD
    raise RuntimeError("No TrueType font found for the report (reportlab's Vera.ttf is missing).")
