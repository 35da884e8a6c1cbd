"""The theme classifier: which taxonomy themes a comment talks about, and in what tone (pure).

A comment is cut into clauses at sentence ends and contrast words ("but", "however", ...), so that in
"great support, but the renewal quote is steep" support reads positive and price negative. A theme is
found where one of its terms occurs (``text.normalise`` on both sides); its sentiment is that of the
clauses naming it. Negation changes the tone (VADER), never the theme: "no outages" is about reliability.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from services.analyzer.verbatims.sentiment import Label, label, polarity
from services.analyzer.verbatims.taxonomy import THEMES, Theme
from services.analyzer.verbatims.text import normalise

_CLAUSE: Final = re.compile(
    r"[.!?;]+(?:\s+|$)|\n+|,?\s*\b(?:but|however|although|though|whereas|while|yet|except)\b,?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ThemeHit:
    """A theme a comment talks about, and the polarity of the clauses that name it."""

    theme: str
    polarity: float

    @property
    def sentiment(self) -> Label:
        """The hit's polarity as a label."""
        return label(self.polarity)


@dataclass(frozen=True, slots=True)
class Classification:
    """A comment's overall polarity and its themes (each once, in taxonomy order)."""

    polarity: float
    themes: tuple[ThemeHit, ...]

    @property
    def sentiment(self) -> Label:
        """The comment's polarity as a label."""
        return label(self.polarity)

    @property
    def theme_keys(self) -> tuple[str, ...]:
        """The keys of the themes found."""
        return tuple(h.theme for h in self.themes)


class Matcher:
    """Finds the themes of a token sequence by their terms (built once per taxonomy)."""

    def __init__(self, themes: Iterable[Theme]) -> None:
        self._themes = tuple(themes)
        # first stem -> [(the term's stems, theme key)], longest terms first
        self._index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for theme in self._themes:
            for term in theme.terms:
                stems = normalise(term)
                if not stems:
                    raise ValueError(f"the term {term!r} of theme {theme.key!r} has no words")
                self._index.setdefault(stems[0], []).append((stems, theme.key))
        for entries in self._index.values():
            entries.sort(key=lambda e: -len(e[0]))

    def themes(self, tokens: tuple[str, ...]) -> set[str]:
        """The keys of the themes whose terms occur in ``tokens``."""
        found: set[str] = set()
        for i, token in enumerate(tokens):
            for stems, key in self._index.get(token, ()):
                if tokens[i : i + len(stems)] == stems:
                    found.add(key)
        return found

    @property
    def order(self) -> tuple[str, ...]:
        """The theme keys in taxonomy order."""
        return tuple(t.key for t in self._themes)


DEFAULT_MATCHER: Final = Matcher(THEMES)


def clauses(text: str) -> list[str]:
    """``text`` cut at sentence ends and contrast words, without the empty pieces."""
    return [c.strip() for c in _CLAUSE.split(text) if c and c.strip()]


def classify(text: str, matcher: Matcher = DEFAULT_MATCHER) -> Classification:
    """The comment's overall polarity and each theme it names with the polarity of its clauses."""
    per_theme: dict[str, list[float]] = {}
    for clause in clauses(text):
        found = matcher.themes(normalise(clause))
        if not found:
            continue
        tone = polarity(clause)
        for key in found:
            per_theme.setdefault(key, []).append(tone)
    hits = tuple(ThemeHit(key, sum(per_theme[key]) / len(per_theme[key])) for key in matcher.order if key in per_theme)
    return Classification(polarity(text), hits)
