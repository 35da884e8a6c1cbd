"""Precision and recall per theme, and tone accuracy, of the classifier on a labelled set.

``python -m tests.analyzer.verbatims.measure`` prints the tables of docs/model.md ("Verbatims").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.analyzer.verbatims.classify import classify
from services.analyzer.verbatims.sentiment import Label
from services.analyzer.verbatims.taxonomy import THEME_KEYS
from tests.analyzer.verbatims.labelled import HELD_OUT, LABELLED


@dataclass(frozen=True, slots=True)
class ThemeScore:
    """True positives, false positives and false negatives of one theme."""

    theme: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """Of the comments tagged with the theme, the share that are about it (1.0 when none are tagged)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Of the comments about the theme, the share tagged with it (1.0 when none are about it)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def theme_scores(labelled: Iterable[tuple[str, frozenset[str], Label]]) -> list[ThemeScore]:
    """Each theme's counts over the set, in taxonomy order."""
    rows = [(set(classify(text).theme_keys), gold) for text, gold, _ in labelled]
    return [
        ThemeScore(
            key,
            sum(1 for got, gold in rows if key in got and key in gold),
            sum(1 for got, gold in rows if key in got and key not in gold),
            sum(1 for got, gold in rows if key not in got and key in gold),
        )
        for key in THEME_KEYS
    ]


def tone_accuracy(labelled: Iterable[tuple[str, frozenset[str], Label]]) -> tuple[int, int]:
    """How many comments get their labelled overall tone, out of how many."""
    rows = [classify(text).sentiment == tone for text, _, tone in labelled]
    return sum(rows), len(rows)


def main() -> None:
    """Print the tables."""
    for name, labelled in (("development", LABELLED), ("held out", HELD_OUT)):
        print(f"{name} set ({len(labelled)} comments)")
        print("| theme | comments about it | tagged | precision | recall |")
        print("|---|---:|---:|---:|---:|")
        for s in theme_scores(labelled):
            print(f"| {s.theme} | {s.tp + s.fn} | {s.tp + s.fp} | {s.precision:.2f} | {s.recall:.2f} |")
        right, total = tone_accuracy(labelled)
        print(f"tone: {right} of {total} right\n")


if __name__ == "__main__":
    main()
