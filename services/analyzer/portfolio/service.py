"""The portfolio view over the stored account states: reads through ``repository``, figures from ``figures``.

Each account is read as ``GET /v1/accounts/{id}`` reads it (its stored state as of its own latest event),
without writing anything. The quarters are recomputed from the answers held (``model.history``, monthly
buckets), because the stored state keeps its series only over the trend window: each quarter reads the
positions as of its end, and the quarter still running as of the selection's latest event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.assessment import ModelConfig, held_answer
from services.analyzer.db.account_state_codec import decode
from services.analyzer.db.models import Account, AccountModel, Response, Stakeholder
from services.analyzer.model.account_state import AccountState, PersonFacts
from services.analyzer.model.history import Person
from services.analyzer.model.history import history as model_history
from services.analyzer.portfolio import repository
from services.analyzer.portfolio.facts import account_facts, quarter_facts
from services.analyzer.portfolio.figures import AccountFacts, Portfolio, portfolio
from services.analyzer.portfolio.quarters import Quarter, last_quarters
from services.analyzer.verbatims import repository as verbatims_repository
from services.analyzer.verbatims.summary import Comment, by_role

MAX_ACCOUNTS: Final = 1000
DEFAULT_ACCOUNTS: Final = 500
MAX_QUARTERS: Final = 8
DEFAULT_QUARTERS: Final = 4


@dataclass(frozen=True, slots=True)
class PortfolioResult:
    """The figures, whether the account limit cut the selection short, and the time they are as of."""

    figures: Portfolio
    truncated: bool
    as_of: datetime | None
    segments: tuple[str, ...]


def _as_of(account: Account, model: AccountModel, clock: datetime | None) -> datetime:
    """The time an account is read as of: its event clock, as ``Assessor.snapshot`` reads it."""
    return clock or max(account.last_event_at, model.as_of)


async def build(
    session: AsyncSession,
    config: ModelConfig,
    *,
    segments: Sequence[str] = (),
    limit: int = DEFAULT_ACCOUNTS,
    quarters: int = DEFAULT_QUARTERS,
) -> PortfolioResult:
    """The portfolio over the first ``limit`` accounts (by id) of ``segments`` (all when empty)."""
    rows = await repository.accounts(session, segments=segments, limit=limit + 1)
    truncated = len(rows) > limit
    rows = rows[:limit]
    ids = [account.account_id for account, _ in rows]
    people = await repository.stakeholders(session, ids)
    answers = await repository.current_answers(session, ids)
    comments = await verbatims_repository.comments(session, ids)
    states = {account.account_id: decode(model.document) for account, model in rows}
    times = {a.account_id: _as_of(a, m, states[a.account_id].clock) for a, m in rows}
    latest = max(times.values(), default=None)
    wanted = last_quarters(latest, quarters) if latest is not None else []
    facts = [
        _facts(
            config,
            account,
            states[account.account_id],
            at=times[account.account_id],
            people=people.get(account.account_id, []),
            answers=answers.get(account.account_id, []),
            comments=comments.get(account.account_id, []),
            quarters=wanted,
            latest=latest,
        )
        for account, _ in rows
    ]
    return PortfolioResult(
        figures=portfolio(facts, [q.label for q in wanted]),
        truncated=truncated,
        as_of=latest,
        segments=tuple(sorted(set(segments))),
    )


def _facts(
    config: ModelConfig,
    account: Account,
    state: AccountState,
    *,
    at: datetime,
    people: Sequence[Stakeholder],
    answers: Sequence[Response],
    comments: Sequence[Comment],
    quarters: Sequence[Quarter],
    latest: datetime | None,
) -> AccountFacts:
    """One account's facts: its snapshot as of ``at``, its comments by role and its quarters."""
    facts = {
        p.stakeholder_id: PersonFacts(
            role=p.role,
            side=p.side,
            influence=p.influence,
            known_since=p.first_seen_at,
            decision_maker=p.decision_maker,
        )
        for p in people
    }
    snap = state.snapshot(
        account.account_id,
        at,
        facts,
        thresholds=config.thresholds,
        half_life=config.half_life,
        renewal_date=account.renewal_date,
        risk_model=config.risk,
    )
    held = [held_answer(r) for r in answers]
    points = []
    if held and quarters and latest is not None:
        persons = {sid: Person(role=f.role, side=f.side, influence=f.influence) for sid, f in facts.items()}
        points = model_history(
            held,
            persons,
            bucket="month",
            first=quarters[0].start,
            last=latest,
            thresholds=config.thresholds,
            half_life=config.half_life,
        )
    return account_facts(
        account_id=account.account_id,
        segment=account.segment,
        annual_value=account.annual_value,
        snap=snap,
        records=state.records(facts),
        verbatims=by_role(comments, quotes=0),
        quarters=quarter_facts(points, quarters, latest, config.thresholds) if latest is not None else (),
        half_life=config.half_life,
    )
