"""The PDF progress report and the charts it shares with the pages (PDF and SVG).

`build_report` (pdf) turns a `ReportData` (data) into PDF bytes; its sections, layout and words
live beside it, `fonts` registers its TrueType fonts once per process, and `charts` draws the
charts for the PDF and, as SVG, for the pages.
"""

from rehab.reports.charts import (
    PALETTE,
    Chart,
    Series,
    SessionPoint,
    chart_drawing,
    chart_svg,
    chart_text_alternative,
    effort_chart,
    format_date,
    minutes_speed_charts,
    next_morning_pain_chart,
    pain_chart,
)
from rehab.reports.data import (
    AUDIENCES,
    CALENDAR_STATES,
    CalendarDay,
    LevelChange,
    OutcomeRow,
    Reference,
    ReportData,
    ReportNote,
    SafetyEvent,
)
from rehab.reports.fonts import FONT, FONT_BOLD, register_fonts
from rehab.reports.pdf import build_report

__all__ = (
    "AUDIENCES",
    "CALENDAR_STATES",
    "FONT",
    "FONT_BOLD",
    "PALETTE",
    "CalendarDay",
    "Chart",
    "LevelChange",
    "OutcomeRow",
    "Reference",
    "ReportData",
    "ReportNote",
    "SafetyEvent",
    "Series",
    "SessionPoint",
    "build_report",
    "chart_drawing",
    "chart_svg",
    "chart_text_alternative",
    "effort_chart",
    "format_date",
    "minutes_speed_charts",
    "next_morning_pain_chart",
    "pain_chart",
    "register_fonts",
)
