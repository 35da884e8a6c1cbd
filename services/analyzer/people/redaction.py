"""Pure helpers of an erasure: the hash an erased id is remembered by, and redaction of stored text.

An erased person's rows are deleted, but their ids, name and words may also sit inside rows that
stay: an alert's evidence, an outbox record, a webhook body already sent, a journey moment's
attributes. Those values are redacted in place: every occurrence of what identified the person is
replaced by ``[erased]``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

ERASED: Final = "[erased]"
# Shorter needles are replaced only where they are a whole value: "Al" must not eat "Alert".
MIN_SUBSTRING: Final = 4
# A comment is replaced as a substring only when long enough to be the person's own words, not a
# common phrase ("ok", "fine") that other text shares.
MIN_COMMENT_SUBSTRING: Final = 16
_HASH_PREFIX: Final = b"feedback-erasure-v1\x00"


def normalise(identifier: str) -> str:
    """How ids are compared: trimmed, case-folded (an e-mail's case carries no meaning)."""
    return identifier.strip().casefold()


def subject_hash(identifier: str) -> str:
    """The SHA-256 an erased id is remembered by (hex). It is a pseudonym, not an anonymous value:
    whoever guesses an id can test the guess, so the erasure tables are as private as the database."""
    return hashlib.sha256(_HASH_PREFIX + normalise(identifier).encode()).hexdigest()


@dataclass(frozen=True)
class Needles:
    """What identified a person, compiled for redaction."""

    whole: frozenset[str]  # case-folded values replaced only when they are the entire string
    pattern: re.Pattern[str] | None  # substrings replaced anywhere

    @classmethod
    def of(cls, identifiers: Iterable[str], names: Iterable[str], comments: Iterable[str]) -> Needles:
        """Needles for a person's ids and names (substrings of 4+ characters) and comments (16+)."""
        words = {w.strip() for w in (*identifiers, *names) if w and w.strip()}
        said = {c.strip() for c in comments if c and c.strip()}
        whole = frozenset(normalise(w) for w in words | said)
        long = sorted(
            {w for w in words if len(w) >= MIN_SUBSTRING} | {c for c in said if len(c) >= MIN_COMMENT_SUBSTRING},
            key=len,
            reverse=True,  # the longest first, so an e-mail goes before the name inside it
        )
        pattern = re.compile("|".join(re.escape(w) for w in long), re.IGNORECASE) if long else None
        return cls(whole, pattern)

    def __bool__(self) -> bool:
        return bool(self.whole) or self.pattern is not None

    def text(self, value: str) -> str:
        """``value`` with every needle replaced by ``[erased]``."""
        if normalise(value) in self.whole:
            return ERASED
        return self.pattern.sub(ERASED, value) if self.pattern is not None else value

    def found_in(self, value: str) -> bool:
        """Whether ``value`` holds a needle."""
        return self.text(value) != value

    def json(self, value: Any) -> Any:
        """A JSON value with every string (keys included) redacted (compare with ``==`` to see a change)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.json(v) for k, v in value.items()}
        return value
