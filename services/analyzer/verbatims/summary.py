"""Per role: what its comments talk about, in what tone, and its latest words (pure).

Also the one-line phrase an alert shows for the two sides of a split, e.g.
"IT: effort 5, support 3, negative; Procurement: price 2, positive".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.analyzer.verbatims.classify import DEFAULT_MATCHER, Matcher, classify
from services.analyzer.verbatims.sentiment import Label, label
from services.analyzer.verbatims.taxonomy import THEME_KEYS


@dataclass(frozen=True, slots=True)
class Comment:
    """One current answer's comment and who wrote it."""

    stakeholder_id: str
    role: str
    side: str
    at: datetime
    event_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ThemeCount:
    """How many of a role's comments name a theme, and their mean polarity on it."""

    theme: str
    count: int
    polarity: float

    @property
    def sentiment(self) -> Label:
        """The mean polarity as a label."""
        return label(self.polarity)


@dataclass(frozen=True, slots=True)
class Quote:
    """A comment as shown: its words, author, time, themes and tone."""

    stakeholder_id: str
    at: datetime
    event_id: str
    text: str
    themes: tuple[str, ...]
    polarity: float

    @property
    def sentiment(self) -> Label:
        """The comment's polarity as a label."""
        return label(self.polarity)


@dataclass(frozen=True, slots=True)
class RoleVerbatims:
    """One role's comments: their count, mean polarity, themes (most named first) and latest quotes."""

    role: str
    side: str
    comments: int
    polarity: float
    themes: tuple[ThemeCount, ...]
    quotes: tuple[Quote, ...]

    @property
    def sentiment(self) -> Label:
        """The mean polarity as a label."""
        return label(self.polarity)


def _role(role: str, side: str, comments: Sequence[Comment], quotes: int, matcher: Matcher) -> RoleVerbatims:
    found = [(c, classify(c.text, matcher)) for c in comments]
    tones: dict[str, list[float]] = {}
    for _, result in found:
        for hit in result.themes:
            tones.setdefault(hit.theme, []).append(hit.polarity)
    order = {key: i for i, key in enumerate(THEME_KEYS)}
    themes = sorted(
        (ThemeCount(key, len(values), sum(values) / len(values)) for key, values in tones.items()),
        key=lambda t: (-t.count, order.get(t.theme, len(order)), t.theme),
    )
    latest = sorted(found, key=lambda f: (f[0].at, f[0].event_id), reverse=True)[:quotes]
    return RoleVerbatims(
        role=role,
        side=side,
        comments=len(found),
        polarity=sum(r.polarity for _, r in found) / len(found),
        themes=tuple(themes),
        quotes=tuple(Quote(c.stakeholder_id, c.at, c.event_id, c.text, r.theme_keys, r.polarity) for c, r in latest),
    )


def by_role(comments: Iterable[Comment], *, quotes: int, matcher: Matcher = DEFAULT_MATCHER) -> list[RoleVerbatims]:
    """Each role with comments (client side first, then by role), with at most ``quotes`` latest quotes."""
    if quotes < 0:
        raise ValueError("quotes must not be negative")
    groups: dict[tuple[str, str], list[Comment]] = {}
    for comment in comments:
        if comment.text.strip():
            groups.setdefault((comment.side, comment.role), []).append(comment)
    keys = sorted(groups, key=lambda k: (k[0] != "client", k[0], k[1]))
    return [_role(role, side, groups[(side, role)], quotes, matcher) for side, role in keys]


def role_phrase(label_of_role: str, role: RoleVerbatims | None, *, themes: int = 3) -> str:
    """E.g. "IT: effort 5, support 3, negative"; "IT: no comments" when the role has none."""
    if role is None or role.comments == 0:
        return f"{label_of_role}: no comments"
    named = [f"{t.theme} {t.count}" for t in role.themes[:themes]] or ["no theme"]
    return f"{label_of_role}: {', '.join(named)}, {role.sentiment}"
