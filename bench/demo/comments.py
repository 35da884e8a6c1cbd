"""What the demo's people write beside some answers: comments by story, role and score (pure).

In the splitting stories (``SPLIT_STORIES``) the decision makers write about price and value and IT
about effort, in the tone of their score; elsewhere, and for the other roles, people write about any
theme of the taxonomy (docs/model.md, "Verbatims"). As real comments do, some are off-theme
(``OFF_THEME_RATE``) and some mix the story's theme with another (``MIXED_RATE``). Ticket ratings are
about support, now and then about reliability. A comment draws only from the generator's second
random stream, so comments never move a score, an alert or the backtest (``generator``).
"""

from __future__ import annotations

import random
from typing import Final, Literal

from bench.demo.archetypes import DECISION_MAKERS, ArchetypeName

Tone = Literal["positive", "neutral", "negative"]

# The stories whose roles drift apart: the decision makers' side against IT's (bench/demo/archetypes.py).
SPLIT_STORIES: Final[frozenset[ArchetypeName]] = frozenset(
    {"quietly_splitting", "decision_makers_cooling", "silent_decision_maker", "recovering", "unhappy_it_person"}
)
RELATIONSHIP_COMMENT_RATE: Final = 0.45  # the share of relationship-survey answers with a comment
TICKET_COMMENT_RATE: Final = 0.30  # the share of rated tickets with a comment
OFF_THEME_RATE: Final = 0.15  # comments that name no theme ("Nothing to add")
MIXED_RATE: Final = 0.20  # comments that add a second, other theme to the story's
STORY_THEME_RATE: Final = 0.85  # in a splitting story, the chance a role's comment keeps to its story theme

# Per theme and tone, sentences that name the theme with one of the taxonomy's terms.
PHRASES: Final[dict[str, dict[Tone, tuple[str, ...]]]] = {
    "price": {
        "positive": (
            "The pricing is fair for what we get.",
            "Good discount at the last negotiation, the budget holds.",
            "Licence costs are predictable, which finance appreciates.",
        ),
        "neutral": (
            "Pricing is in line with the market.",
            "The invoice process works, nothing special about the cost.",
        ),
        "negative": (
            "The renewal quote is far too expensive for us.",
            "Another price uplift this year, frustrating, our budget cannot absorb it.",
            "Licence fees keep rising and billing is confusing.",
            "We pay more every year and nobody explains the cost.",
        ),
    },
    "value": {
        "positive": (
            "Clear return on investment, the business case paid off.",
            "Real productivity gains across the team, well worth it.",
            "We can show the board great savings this year.",
        ),
        "neutral": (
            "The value is there, though hard to measure.",
            "Some benefit so far, we will review the business case at renewal.",
        ),
        "negative": (
            "Hard to justify the spend, we see little value.",
            "The expected savings never showed up, the ROI is disappointing.",
            "Not worth the money at this point.",
        ),
    },
    "effort": {
        "positive": (
            "Setup was easy and the integration just works.",
            "The API is intuitive, our team configured it in a day.",
            "Very little effort to run on our side, great.",
        ),
        "neutral": (
            "Integration took the usual effort.",
            "The configuration is manageable once you know it.",
        ),
        "negative": (
            "Every upgrade is painful and the integration breaks, a terrible waste of our time.",
            "Far too much manual effort, it is exhausting to keep this running.",
            "The SSO setup was a hassle and the configuration is clunky.",
            "Complicated to integrate with our systems, lots of workarounds.",
        ),
    },
    "support": {
        "positive": (
            "Support resolved the ticket quickly, thanks.",
            "Great support team, fast and helpful.",
            "The engineer fixed it the same day, excellent.",
        ),
        "neutral": (
            "Ticket closed, support did what was needed.",
            "Support response time was acceptable.",
        ),
        "negative": (
            "Support took a week to answer the ticket, awful.",
            "We had to escalate twice before anyone helped, frustrating.",
            "The help desk closed the ticket without a fix, very poor.",
        ),
    },
    "reliability": {
        "positive": (
            "Stable and reliable all quarter.",
            "No outage this year, performance is good.",
        ),
        "neutral": ("One minor incident, otherwise stable.",),
        "negative": (
            "Another outage during our busiest week.",
            "Performance is slow and we keep hitting errors.",
            "Too many bugs in the last release, it feels unstable.",
        ),
    },
    "communication": {
        "positive": (
            "They keep us informed and reply quickly, good.",
            "Clear communication before every change.",
        ),
        "neutral": ("The newsletter updates are fine.",),
        "negative": (
            "We find out about changes from our own users, no heads up.",
            "Poor communication, emails go unanswered.",
        ),
    },
    "relationship": {
        "positive": (
            "Our account manager is a great partner.",
            "A trusted partnership, they listen to us.",
        ),
        "neutral": ("The quarterly business review was useful.",),
        "negative": (
            "They take us for granted as a customer, disappointing.",
            "The account manager changed again, no relationship to speak of.",
        ),
    },
    "innovation": {
        "positive": (
            "The roadmap looks strong, the new features help.",
            "Nice automation in the latest release.",
        ),
        "neutral": ("We are waiting to see the roadmap.",),
        "negative": ("The product feels outdated next to competitors.",),
    },
    "business_understanding": {
        "positive": ("They understand our business and our workflow well, helpful.",),
        "neutral": ("Some industry knowledge, could be more tailored.",),
        "negative": ("A one size fits all approach that ignores our needs.",),
    },
}
GENERAL_THEMES: Final = tuple(PHRASES)  # outside a story, any theme, price and effort included
TICKET_THEMES: Final = (("support", 0.85), ("reliability", 0.15))
OFF_THEME: Final[tuple[str, ...]] = (
    "Nothing to add this quarter.",
    "Busy period on our side, will say more next time.",
    "See my previous answer.",
    "No comment.",
    "Fine overall.",
    "Our team is reorganising, hard to say.",
)


def tone(score: float, *, low: float, high: float) -> Tone:
    """The comment's tone from the answer: at most ``low`` negative, at least ``high`` positive."""
    if score <= low:
        return "negative"
    return "positive" if score >= high else "neutral"


def story_theme(rng: random.Random, archetype: ArchetypeName, role: str) -> str:
    """The theme a person's comment is about: their story's for a splitting story's roles, else any."""
    if archetype in SPLIT_STORIES and rng.random() < STORY_THEME_RATE:
        if role in DECISION_MAKERS:
            # Procurement and finance talk money first; the sponsor weighs what it brings.
            return rng.choice(
                ("price", "price", "value") if role != "executive_sponsor" else ("value", "value", "price")
            )
        if role == "it":
            return "effort"
    return rng.choice(GENERAL_THEMES)


def _sentence(rng: random.Random, theme: str, mood: Tone) -> str:
    return rng.choice(PHRASES[theme][mood])


def _compose(rng: random.Random, theme: str, mood: Tone) -> str:
    """One sentence on ``theme``, or off-theme noise, or the theme plus another (a mixed comment)."""
    roll = rng.random()
    if roll < OFF_THEME_RATE:
        return rng.choice(OFF_THEME)
    first = _sentence(rng, theme, mood)
    if roll < OFF_THEME_RATE + MIXED_RATE:
        other = rng.choice([t for t in PHRASES if t != theme])
        return f"{first} {_sentence(rng, other, rng.choice(('positive', 'neutral', 'negative')))}"
    return first


def relationship_comment(rng: random.Random, archetype: ArchetypeName, role: str, nps: int) -> str | None:
    """The comment beside a relationship-survey answer (NPS 0-10), or None (most answers carry none)."""
    if rng.random() >= RELATIONSHIP_COMMENT_RATE:
        return None
    return _compose(rng, story_theme(rng, archetype, role), tone(nps, low=5, high=8))


def ticket_comment(rng: random.Random, csat: int) -> str | None:
    """The comment beside a ticket's rating (CSAT 1-5), or None."""
    if rng.random() >= TICKET_COMMENT_RATE:
        return None
    roll, theme = rng.random(), TICKET_THEMES[-1][0]
    for name, share in TICKET_THEMES:
        roll -= share
        if roll < 0:
            theme = name
            break
    return _compose(rng, theme, tone(csat, low=2, high=4))
