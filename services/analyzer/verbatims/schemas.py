"""The verbatims as the API shows them (``GET /v1/accounts/{account_id}/verbatims``, ``themes_by_side``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.analyzer.model.rules.figures import role_label
from services.analyzer.verbatims.sentiment import Label
from services.analyzer.verbatims.summary import RoleVerbatims, role_phrase


class ThemeCountView(BaseModel):
    """A theme a role's comments name."""

    theme: str = Field(description="the theme's key in the taxonomy (docs/model.md, Verbatims)")
    count: int = Field(description="how many of the role's comments name it")
    polarity: float = Field(description="mean polarity (-1 ... +1) of the clauses naming it")
    sentiment: Label


class QuoteView(BaseModel):
    """One comment, as its author wrote it (plain text: escape it wherever it is shown)."""

    stakeholder_id: str
    at: datetime
    event_id: str
    text: str
    themes: list[str]
    polarity: float
    sentiment: Label


class RoleVerbatimsView(BaseModel):
    """One role's comments: how many, their tone, their themes (most named first) and the latest ones."""

    role: str
    side: str
    comments: int
    polarity: float = Field(description="mean polarity (-1 ... +1) of the role's comments")
    sentiment: Label
    themes: list[ThemeCountView]
    quotes: list[QuoteView] = Field(description="the latest comments, newest first, at most `quotes`")


class AccountVerbatims(BaseModel):
    """What each role of the account says in the comments of its current answers."""

    account_id: str
    comments: int
    roles: list[RoleVerbatimsView]


class SideThemes(BaseModel):
    """The themes of one side of the widest gap (the role at that end)."""

    role: str
    comments: int
    sentiment: Label | None = Field(description="null when the role has no comments")
    themes: list[ThemeCountView]


class ThemesBySide(BaseModel):
    """What the roles at either end of the widest gap talk about, from their current comments."""

    high: SideThemes
    low: SideThemes
    summary: str = Field(description='e.g. "IT: effort 5, support 3, negative; Procurement: price 2, positive"')


def themes(role: RoleVerbatims) -> list[ThemeCountView]:
    """A role's theme counts as the API shows them."""
    return [
        ThemeCountView(theme=t.theme, count=t.count, polarity=t.polarity, sentiment=t.sentiment) for t in role.themes
    ]


def role_view(role: RoleVerbatims) -> RoleVerbatimsView:
    """A role's verbatims as the API shows them."""
    return RoleVerbatimsView(
        role=role.role,
        side=role.side,
        comments=role.comments,
        polarity=role.polarity,
        sentiment=role.sentiment,
        themes=themes(role),
        quotes=[
            QuoteView(
                stakeholder_id=q.stakeholder_id,
                at=q.at,
                event_id=q.event_id,
                text=q.text,
                themes=list(q.themes),
                polarity=q.polarity,
                sentiment=q.sentiment,
            )
            for q in role.quotes
        ],
    )


def _side(role: str, found: RoleVerbatims | None) -> SideThemes:
    if found is None:
        return SideThemes(role=role, comments=0, sentiment=None, themes=[])
    return SideThemes(role=role, comments=found.comments, sentiment=found.sentiment, themes=themes(found))


def themes_by_side(roles: list[RoleVerbatims], high_role: str, low_role: str) -> ThemesBySide:
    """The client roles at the high and low end of a gap, the low side first in the summary."""
    client = {r.role: r for r in roles if r.side == "client"}
    high, low = client.get(high_role), client.get(low_role)
    summary = f"{role_phrase(role_label(low_role), low)}; {role_phrase(role_label(high_role), high)}"
    return ThemesBySide(high=_side(high_role, high), low=_side(low_role, low), summary=summary)
