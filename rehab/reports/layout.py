"""The report's styles for either audience, and its tables and lists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import ListFlowable, ListItem, Table, TableStyle
from reportlab.platypus import Paragraph as _Paragraph
from reportlab.platypus.paragraph import cleanBlockQuotedText
from reportlab.platypus.paraparser import ParaFrag, ParaParser

from rehab.reports.fonts import FONT, FONT_BOLD

# --- paragraphs ----------------------------------------------------------------------------------


# Markup starts with "<" or "&"; user text reaches a paragraph escaped (words.markup), so text
# without either is plain words, and ">" alone is left to the parser to be safe.
_MARKUP = re.compile(r"[<>&]")


@cache
def _plain_fragment(style: ParagraphStyle) -> ParaFrag:
    """What reportlab's parser makes of plain words in `style`, but for the words themselves.

    Parsing is done once per style (styles_for keeps one set of styles per process).
    """
    _, frags, _ = ParaParser().parse("x", style)
    return frags[0]


class Paragraph(_Paragraph):
    """reportlab's Paragraph, that skips the markup parser for plain words and breaks its lines
    once per width.

    A 12-week report has about 330 paragraphs, most of them table cells of plain words (dates,
    notes, "2 Done"): for those the parser's single fragment is copied from one parsed in the
    same style, with the text cleaned as the parser would have had it. And a table measures every
    cell to size its rows, measures them again for each page it is split across, and once more
    to draw them; each time reportlab broke the lines anew, the largest part of the build. The
    lines depend only on the width (and on the text and style, which a paragraph never changes;
    split halves are new paragraphs), so the last answer is kept for that width.
    """

    def __init__(self, text: str | None, style: ParagraphStyle, **kwargs: Any) -> None:
        # reportlab makes split halves through this class too, with their fragments (kwargs).
        if not kwargs and text and not _MARKUP.search(text):
            cleaned = cleanBlockQuotedText(text)
            if cleaned:
                template = _plain_fragment(style)
                # The lists (links, underlines) are the paragraph's own, as a fresh parse's are.
                fragment = template.clone(
                    text=cleaned,
                    **{k: list(v) for k, v in template.__dict__.items() if isinstance(v, list)},
                )
                super().__init__(cleaned, style, frags=[fragment])
                return
        super().__init__(text, style, **kwargs)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        kept = self.__dict__.get("_wrapped")
        if kept is not None and kept[0] == availWidth and kept[1] is self.frags:
            _, _, self.width, self.height, self.blPara, self._wrapWidths = kept
            return self.width, self.height
        width, height = super().wrap(availWidth, availHeight)
        if width:  # 0: too narrow to hold a line, and nothing was broken
            self._wrapped = (availWidth, self.frags, width, height, self.blPara, self._wrapWidths)
        return width, height


# --- styles --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    patient: bool
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    note: ParagraphStyle
    calendar: ParagraphStyle
    footer_size: float


@cache
def styles_for(patient: bool) -> Styles:
    """The styles of either audience's report, made once per process (nothing changes them)."""
    # The patient version is larger: many readers are older and read it on paper.
    size = 12 if patient else 9
    leading = size * 1.35
    cell_size = 11 if patient else 8
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=size, leading=leading, spaceAfter=size * 0.4
    )
    return Styles(
        patient=patient,
        body=body,
        small=ParagraphStyle(
            "small", parent=body, fontSize=size - 1.5, leading=(size - 1.5) * 1.3, spaceAfter=2
        ),
        cell=ParagraphStyle(
            "cell", parent=body, fontSize=cell_size, leading=cell_size * 1.25, spaceAfter=0
        ),
        cell_head=ParagraphStyle(
            "cell_head",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=cell_size,
            leading=cell_size * 1.25,
            spaceAfter=0,
        ),
        h1=ParagraphStyle(
            "h1", parent=body, fontName=FONT_BOLD, fontSize=size + 8, leading=(size + 8) * 1.2
        ),
        h2=ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=size + 3,
            leading=(size + 3) * 1.25,
            spaceBefore=size,
            spaceAfter=size * 0.4,
            keepWithNext=1,
            alignment=TA_LEFT,
        ),
        note=ParagraphStyle(
            "note",
            parent=body,
            backColor=colors.HexColor("#FFF4E5"),
            borderColor=colors.HexColor("#E69F00"),
            borderWidth=0.6,
            borderPadding=5,
            spaceBefore=10,  # clears the border padding, which is drawn outside the text box
            spaceAfter=8,
        ),
        # One size down in the week grid so "18 Missed" fits its cell at the patient's size.
        calendar=ParagraphStyle(
            "calendar",
            parent=body,
            fontSize=cell_size - 1 if patient else cell_size,
            leading=(cell_size - 1) * 1.25 if patient else cell_size * 1.25,
            spaceAfter=0,
        ),
        footer_size=9 if patient else 7.5,
    )


_TABLE_STYLE = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#BBBBBB")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF4")),
    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
]


def grid_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    st: Styles,
    cell: ParagraphStyle | None = None,
) -> Table:
    """A table of markup strings that splits across pages and repeats its header row.

    Header and cells are already-escaped markup. splitInRow lets one very long note break inside
    its row instead of failing the whole build with a LayoutError.
    """
    data = [[Paragraph(cell, st.cell_head) for cell in header]]
    data += [[Paragraph(text, cell or st.cell) for text in row] for row in rows]
    return Table(
        data,
        colWidths=list(widths),
        repeatRows=1,
        splitInRow=1,
        style=TableStyle(_TABLE_STYLE),
        hAlign="LEFT",
    )


def bullets(items: Sequence[str], st: Styles) -> ListFlowable:
    return ListFlowable(
        [ListItem(Paragraph(item, st.body), leftIndent=12) for item in items],
        bulletType="bullet",
        start="•",
        bulletFontName=FONT,
        bulletFontSize=st.body.fontSize,
        leftIndent=12,
    )
