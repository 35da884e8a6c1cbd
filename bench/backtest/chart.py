"""``python -m bench.backtest.chart``: precision against recall per rule, drawn as an SVG (stdlib only).

Reads the figures ``make backtest BACKTEST_ARGS="--json docs/benchmarks/backtest.json"`` wrote and
draws each rule's mean precision against its mean recall, the held-out demo seeds and the independent
generator's seeds as two marker shapes, with a bar of one standard deviation each way over the
portfolios and each generator's share of bad renewals as a dashed line: a rule on that line flags
accounts no better than at random. The picture is docs/images/backtest-precision-recall.svg.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

WIDTH: Final = 760
HEIGHT: Final = 500
LEFT, RIGHT, TOP, BOTTOM = 70, 250, 40, 60
RECALL_MAX: Final = 1.0
PRECISION_MAX: Final = 0.8
COLOURS: Final[Mapping[str, str]] = {
    "renewal_risk": "#d62728",
    "stakeholder_divergence": "#1f77b4",
    "divergence_widening": "#9467bd",
    "masked_by_average": "#17becf",
    "any_divergence_alert": "#8c564b",
    "nps_below_0": "#7f7f7f",
    "nps_below_-20": "#2ca02c",
}
# Drawn hollow: the union of the three divergence alerts, which often sits on stakeholder_divergence.
HOLLOW: Final = frozenset({"any_divergence_alert"})
SOURCES: Final[Mapping[str, str]] = {"demo": "demo generator, held-out seeds", "independent": "independent generator"}


def _x(recall: float) -> float:
    return LEFT + recall / RECALL_MAX * (WIDTH - LEFT - RIGHT)


def _y(precision: float) -> float:
    return HEIGHT - BOTTOM - precision / PRECISION_MAX * (HEIGHT - TOP - BOTTOM)


def _marker(source: str, x: float, y: float, colour: str, *, hollow: bool = False) -> str:
    """A circle for the demo generator, a triangle for the independent one; hollow and larger for a union rule."""
    paint = f'fill="none" stroke="{colour}" stroke-width="2"' if hollow else f'fill="{colour}" stroke="#fff"'
    size = 1.6 if hollow else 1.0
    if source == "demo":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{5.5 * size:.1f}" {paint}/>'
    a, b = 7 * size, 6.5 * size
    points = f"{x:.1f},{y - a:.1f} {x - b:.1f},{y + 5 * size:.1f} {x + b:.1f},{y + 5 * size:.1f}"
    return f'<polygon points="{points}" {paint}/>'


def _line(x1: float, y1: float, x2: float, y2: float, style: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {style}/>'


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _axes() -> list[str]:
    parts = []
    for k in range(11):
        recall = k / 10
        x = _x(recall)
        parts.append(_line(x, TOP, x, HEIGHT - BOTTOM, 'stroke="#eee"'))
        parts.append(_text(x, HEIGHT - BOTTOM + 18, f"{recall:.1f}", anchor="middle", size=11))
    for k in range(9):
        precision = k / 10
        y = _y(precision)
        parts.append(_line(LEFT, y, WIDTH - RIGHT, y, 'stroke="#eee"'))
        parts.append(_text(LEFT - 8, y + 4, f"{precision:.1f}", anchor="end", size=11))
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
        'fill="none" stroke="#333"/>'
    )
    parts.append(
        _text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 18, "recall (share of bad renewals flagged)", anchor="middle")
    )
    middle = (TOP + HEIGHT - BOTTOM) / 2
    parts.append(
        _text(
            20,
            middle,
            "precision (share of flags that went badly)",
            anchor="middle",
            extra=f' transform="rotate(-90 20 {middle:.1f})"',
        )
    )
    return parts


def _spread(row: Mapping[str, Any], name: str) -> tuple[float, float]:
    figure = row[name]
    return float(figure["mean"]), float(figure["sd"] or 0.0)


def draw(report: Mapping[str, Any]) -> str:
    """The SVG document for a ``--json`` report of ``bench.backtest``."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        _text(LEFT, 24, "Each rule over held-out portfolios: mean precision against mean recall, ±1 sd", size=14),
        *_axes(),
    ]
    for source in SOURCES:
        if source not in report:
            continue
        base = float(report[source]["base_rate"]["mean"])
        y = _y(base)
        dash = "6,4" if source == "demo" else "2,3"
        parts.append(_line(LEFT, y, WIDTH - RIGHT, y, f'stroke="#555" stroke-dasharray="{dash}"'))
        parts.append(_text(WIDTH - RIGHT - 4, y - 4, f"bad share {base:.2f} ({source})", anchor="end", size=10))
    for source in SOURCES:
        for rule, row in report.get(source, {}).get("rules", {}).items():
            colour = COLOURS.get(rule, "#000")
            recall, recall_sd = _spread(row, "recall")
            precision, precision_sd = _spread(row, "precision")
            x, y = _x(recall), _y(precision)
            faint = f'stroke="{colour}" stroke-opacity="0.35"'
            parts.append(_line(_x(max(0.0, recall - recall_sd)), y, _x(min(RECALL_MAX, recall + recall_sd)), y, faint))
            low, high = max(0.0, precision - precision_sd), min(PRECISION_MAX, precision + precision_sd)
            parts.append(_line(x, _y(low), x, _y(high), faint))
            parts.append(_marker(source, x, y, colour, hollow=rule in HOLLOW))
    parts += _legend()
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _legend() -> list[str]:
    x, y = WIDTH - RIGHT + 20, TOP + 6
    parts = [_text(x, y + 4, "rule", size=12, extra=' font-weight="bold"')]
    for rule, colour in COLOURS.items():
        y += 20
        paint = f'fill="none" stroke="{colour}" stroke-width="2"' if rule in HOLLOW else f'fill="{colour}"'
        parts.append(f'<rect x="{x}" y="{y - 5:.1f}" width="14" height="10" {paint}/>')
        parts.append(_text(x + 20, y + 4, rule, size=12))
    y += 34
    parts.append(_text(x, y + 4, "portfolios", size=12, extra=' font-weight="bold"'))
    for source, label in SOURCES.items():
        y += 20
        parts.append(_marker(source, x + 7, y, "#555"))
        parts.append(_text(x + 20, y + 4, label, size=12))
    return parts


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.backtest.chart", description=__doc__)
    parser.add_argument("--input", type=Path, default=Path("docs/benchmarks/backtest.json"))
    parser.add_argument("--output", type=Path, default=Path("docs/images/backtest-precision-recall.svg"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Read the report, write the SVG."""
    args = parse(argv)
    args.output.write_text(draw(json.loads(args.input.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
