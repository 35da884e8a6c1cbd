"""``/v1/accounts``: accounts, their stakeholders and (with the model) positions and divergence."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from services.analyzer.db.models import AccountAlias, StakeholderAlias
from services.analyzer.deps import ClientDep, SessionDep
from services.analyzer.repository import directory, responses
from services.analyzer.schemas import AccountView, StakeholderView
from shared.errors import ERROR_RESPONSES, ErrorBody, NotFound

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get(
    "/{account_id}",
    response_model=AccountView,
    responses={**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "Unknown account"}},
    summary="One account with its stakeholders",
)
async def get_account(account_id: str, session: SessionDep, _: ClientDep) -> AccountView:
    """The account, each stakeholder's role, side, answers held and latest answer time."""
    account = await directory.get_account(session, account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    people = await directory.list_stakeholders(session, account_id)
    stats = await responses.stats_by_stakeholder(session, account_id)
    account_aliases = list(
        await session.scalars(
            select(AccountAlias.alias).where(AccountAlias.account_id == account_id).order_by(AccountAlias.alias)
        ),
    )
    person_aliases: dict[str, list[str]] = {}
    for alias, sid in await session.execute(
        select(StakeholderAlias.alias, StakeholderAlias.stakeholder_id)
        .where(StakeholderAlias.account_id == account_id)
        .order_by(StakeholderAlias.alias),
    ):
        person_aliases.setdefault(sid, []).append(alias)
    return AccountView(
        account_id=account.account_id,
        name=account.name,
        segment=account.segment,
        renewal_date=account.renewal_date,
        annual_value=account.annual_value,
        aliases=account_aliases,
        as_of=account.last_event_at,
        stakeholders=[
            StakeholderView(
                stakeholder_id=p.stakeholder_id,
                name=p.name,
                role=p.role,
                side=p.side,
                influence=p.influence,
                aliases=person_aliases.get(p.stakeholder_id, []),
                responses=stats[p.stakeholder_id].responses if p.stakeholder_id in stats else 0,
                last_response_at=stats[p.stakeholder_id].last_response_at if p.stakeholder_id in stats else None,
            )
            for p in people
        ],
    )
