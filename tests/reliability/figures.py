"""The line of figures every fault scenario prints and asserts, collected for the run's summary table."""

from __future__ import annotations

from dataclasses import dataclass

COLLECTED: list[Figures] = []


@dataclass(frozen=True, slots=True)
class Figures:
    """What one scenario injected and what it found when it reconciled the books.

    ``lost``: acknowledged events the analyzer does not hold as applied (or whose answer it does not
    hold). ``doubled``: answers held beyond one per acknowledged answer, or events applied that no
    one acknowledged. ``deliveries``: webhook requests the receiver got, ``distinct`` the alert changes
    among them (zero where the scenario has no subscriber).
    """

    fault: str
    faults: int
    acknowledged: int
    lost: int
    doubled: int
    deliveries: int = 0
    distinct: int = 0
    note: str = ""

    def line(self) -> str:
        """One greppable line: ``FIGURES fault=... faults=... acknowledged=... lost=... doubled=...``."""
        text = (
            f"FIGURES fault={self.fault} faults={self.faults} acknowledged={self.acknowledged} "
            f"lost={self.lost} doubled={self.doubled} deliveries={self.deliveries} distinct={self.distinct}"
        )
        return f"{text} ({self.note})" if self.note else text


def report(figures: Figures) -> Figures:
    """Print the scenario's line and keep it for the summary table at the end of the run."""
    print(f"\n{figures.line()}")
    COLLECTED.append(figures)
    return figures


def table(rows: list[Figures]) -> list[str]:
    """The collected figures as a Markdown table."""
    lines = [
        "| fault kind | faults | events acknowledged | lost | doubled | webhook deliveries (distinct) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in rows:
        deliveries = f"{f.deliveries} ({f.distinct})" if f.deliveries or f.distinct else "-"
        lines.append(f"| {f.fault} | {f.faults} | {f.acknowledged} | {f.lost} | {f.doubled} | {deliveries} |")
    return lines
