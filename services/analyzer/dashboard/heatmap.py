"""The portfolio's heat map, role x segment, as inline SVG (pure, like ``charts``).

Each cell's colour says the mean position (red below zero, green above, grey for no position), its text
the position and its standard error, its ``<title>`` the same with the account count. The colours are
literal values of this module, set as SVG presentation attributes (no ``style``, which the dashboard's
content security policy forbids); every label is escaped by ``markup.render``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from services.analyzer.dashboard.markup import Markup, join, render

# From strongly negative to strongly positive; the middle one is a neutral position.
PALETTE: Final = ("#b91c1c", "#dc2626", "#f87171", "#fecaca", "#f1f5f9", "#bbf7d0", "#4ade80", "#16a34a", "#15803d")
EMPTY: Final = "#ffffff"
DARK: Final = frozenset({0, 1, 7, 8})  # the fills dark enough to need white text


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One role in one segment: its mean position, standard error and account count (None: not heard)."""

    position: float | None
    se: float | None
    accounts: int


def bin_of(position: float) -> int:
    """The palette index of a position on -1 ... +1 (clamped): nine equal bins."""
    clamped = max(-1.0, min(1.0, position))
    return min(len(PALETTE) - 1, int((clamped + 1.0) / 2.0 * len(PALETTE)))


def short(name: str, most: int = 18) -> str:
    """A label cut to ``most`` characters (the full one is in the cell's title)."""
    return name if len(name) <= most else name[: most - 3] + "..."


def _text(cell: HeatCell) -> str:
    if cell.position is None:
        return "-"
    return f"{cell.position:+.2f}" + ("" if cell.se is None else f" ±{cell.se:.2f}")


def heat_map(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[HeatCell]],
    *,
    label: str,
    cell_width: int = 132,
    cell_height: int = 40,
) -> Markup:
    """``cells[r][c]`` for each row label (a role) and column label (a segment)."""
    if len(cells) != len(rows) or any(len(line) != len(columns) for line in cells):
        raise ValueError("cells must have one line per row and one cell per column")
    left, top = 150, 28
    width, height = left + cell_width * len(columns) + 4, top + cell_height * len(rows) + 4
    parts: list[Markup] = []
    for c, column in enumerate(columns):
        parts.append(
            render(
                '<text class="tick heat-column" x="{x}" y="{y}" text-anchor="middle">{text}</text>',
                x=left + c * cell_width + cell_width // 2,
                y=top - 10,
                text=short(column),
            )
        )
    for r, row in enumerate(rows):
        y = top + r * cell_height
        parts.append(
            render(
                '<text class="tick heat-row" x="{x}" y="{y}" text-anchor="end">{text}</text>',
                x=left - 8,
                y=y + cell_height // 2 + 4,
                text=short(row, 22),
            )
        )
        for c, cell in enumerate(cells[r]):
            index = bin_of(cell.position) if cell.position is not None else None
            fill = EMPTY if index is None else PALETTE[index]
            ink = "#ffffff" if index in DARK else "#0f172a"
            title = f"{row} in {columns[c]}: " + (
                "no position" if cell.position is None else f"{_text(cell)} over {cell.accounts} account(s)"
            )
            parts.append(
                render(
                    '<g class="heat-cell" data-row="{row}" data-column="{column}"><title>{title}</title>'
                    '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="#e2e8f0"/>'
                    '<text x="{tx}" y="{ty}" text-anchor="middle" fill="{ink}" font-size="12">{text}</text></g>',
                    row=row,
                    column=columns[c],
                    title=title,
                    x=left + c * cell_width,
                    y=y,
                    w=cell_width,
                    h=cell_height,
                    fill=fill,
                    ink=ink,
                    tx=left + c * cell_width + cell_width // 2,
                    ty=y + cell_height // 2 + 4,
                    text=_text(cell),
                )
            )
    return render(
        '<svg class="chart heat-map" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}"'
        ' xmlns="http://www.w3.org/2000/svg">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=join(parts),
    )
