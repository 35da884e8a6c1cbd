"""Sentiment of a comment: VADER's lexicon model (offline, shipped in its package), with B2B words added.

VADER scores a text's ``compound`` polarity in [-1, +1] from a general English lexicon plus rules for
negation ("not reliable"), intensifiers and contrast ("but"). Words a client uses about a supplier that
its lexicon lacks or reads neutrally (``expensive``, ``outage``, ``clunky``) are added from
``DOMAIN_LEXICON``. Deterministic, no I/O after the lexicon is first loaded.
"""

from __future__ import annotations

from functools import cache
from typing import Final, Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Label = Literal["positive", "negative", "neutral"]

# VADER's own cut-offs for a positive or negative text.
THRESHOLD: Final = 0.05

# Valences on VADER's -4 ... +4 scale, for words its general lexicon lacks or reads neutrally, and 0 for
# the names of topics it reads as praise: "support never calls back" is not positive because of "support".
DOMAIN_LEXICON: Final[dict[str, float]] = {
    "support": 0.0,
    "value": 0.0,
    "innovation": 0.0,
    "success": 0.0,
    "expensive": -1.5,
    "overpriced": -2.2,
    "pricey": -1.2,
    "costly": -1.5,
    "affordable": 1.2,
    "outage": -2.0,
    "outages": -2.0,
    "downtime": -1.8,
    "unreliable": -2.0,
    "reliable": 1.5,
    "stable": 1.0,
    "unstable": -1.8,
    "buggy": -2.0,
    "bugs": -1.2,
    "crashes": -1.8,
    "clunky": -1.6,
    "cumbersome": -1.6,
    "intuitive": 1.6,
    "seamless": 1.8,
    "painless": 1.5,
    "responsive": 1.2,
    "unresponsive": -1.8,
    "outdated": -1.4,
    "slow": -1.2,
    "sluggish": -1.4,
    "workaround": -0.8,
    "workarounds": -0.8,
    "hassle": -1.5,
    "overdue": -1.2,
    "ignored": -1.8,
    "chasing": -1.0,
    "proactive": 1.5,
    "transparent": 1.3,
    "nightmare": -2.5,
    "unanswered": -1.5,
    "dated": -1.0,
    "generic": -0.8,
    "steep": -1.0,
    "saves": 1.8,
    "tailored": 1.2,
}


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()  # reads the lexicon shipped in the package, once
    analyzer.lexicon.update(DOMAIN_LEXICON)
    return analyzer


def polarity(text: str) -> float:
    """VADER's compound polarity of ``text``, from -1 (most negative) to +1 (most positive)."""
    score: float = _analyzer().polarity_scores(text)["compound"]
    return score


def label(score: float) -> Label:
    """``positive`` at +0.05 or more, ``negative`` at -0.05 or less, ``neutral`` between (VADER's cut-offs)."""
    if score >= THRESHOLD:
        return "positive"
    if score <= -THRESHOLD:
        return "negative"
    return "neutral"
