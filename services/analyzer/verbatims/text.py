"""Text normalisation for theme matching: words, lower case, inflections stripped (English only).

A light suffix stripper rather than a full stemmer: the taxonomy's terms go through the same function,
so all that matters is that a word and its inflections (``prices``, ``priced``, ``pricing``) land on
one form; a stem need not be a real word.
"""

from __future__ import annotations

import re
from typing import Final

_WORD: Final = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_DOUBLED_KEEP: Final = frozenset("lsz")  # "billed" -> "bill", "passed" -> "pass": keep these doubled


def _undouble(stem: str) -> str:
    # "shipped" -> "shipp" -> "ship"; "stopping" -> "stopp" -> "stop".
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in _DOUBLED_KEEP and stem[-1] not in "aeiou":
        return stem[:-1]
    return stem


def stem(word: str) -> str:
    """The word with a plural or inflection ending removed: ``tickets`` -> ``ticket``, ``priced`` -> ``pric``."""
    w = word.removesuffix("'s").replace("'", "")
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) > 5:
        w = _undouble(w[:-3])
    elif w.endswith("ed") and len(w) > 4:
        w = _undouble(w[:-2])
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def words(text: str) -> list[str]:
    """The lower-case words of ``text`` in order (letters, digits and an inner apostrophe)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def normalise(text: str) -> tuple[str, ...]:
    """The stems of the words of ``text``, in order: what theme terms are matched against."""
    return tuple(stem(w) for w in words(text))
