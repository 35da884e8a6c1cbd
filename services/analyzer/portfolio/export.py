"""The portfolio as one CSV table (pure): a row per figure, its section named in the first column.

Text that a spreadsheet would read as a formula (a segment or role starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with an apostrophe: the names come from the directory.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from services.analyzer.portfolio.schemas import PortfolioView

COLUMNS: Final = (
    "section",
    "segment",
    "role",
    "quarter",
    "dimension",
    "theme",
    "accounts",
    "position",
    "se",
    "low_in",
    "split_accounts",
    "share",
    "mean_gap",
    "mentions",
    "polarity",
    "annual_value",
    "value_at_risk",
    "most_often_low",
)
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")
# Sections and the list of the view each one's rows come from; the overall trends' segment reads "(all)".
SECTIONS: Final = (
    ("cell", "cells"),
    ("low_side", "low_sides"),
    ("dimension", "dimensions"),
    ("theme", "themes"),
    ("value_at_risk", "value_at_risk"),
    ("trend", "trends"),
    ("gap_trend", "gap_trends"),
    ("overall_trend", "overall_trends"),
    ("overall_gap", "overall_gaps"),
)
ALL_SEGMENTS: Final = "(all)"


def safe_text(value: str) -> str:
    """``value``, defused for spreadsheets if it would start a formula."""
    return "'" + value if value.startswith(_FORMULA) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


def to_csv(view: PortfolioView) -> str:
    """Every figure of ``view`` as CSV with a header row (``COLUMNS``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for section, name in SECTIONS:
        for item in getattr(view, name):
            row = item.model_dump()
            if section.startswith("overall"):
                row["segment"] = ALL_SEGMENTS
            writer.writerow([section if column == "section" else _cell(row.get(column)) for column in COLUMNS])
    return out.getvalue()
