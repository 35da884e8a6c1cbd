"""``/v1/accounts/{account_id}/verbatims``: what each role says, by theme and tone, with its latest words."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query

from services.analyzer.deps import FORBIDDEN, ReadKey, SessionDep
from services.analyzer.repository import directory
from services.analyzer.verbatims import repository
from services.analyzer.verbatims.schemas import AccountVerbatims, role_view
from services.analyzer.verbatims.summary import by_role
from shared.errors import ERROR_RESPONSES, ErrorBody, NotFound

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=FORBIDDEN)

DEFAULT_QUOTES: Final = 5
MAX_QUOTES: Final = 50


@router.get(
    "/{account_id}/verbatims",
    response_model=AccountVerbatims,
    responses={**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "Unknown account"}},
    summary="Themes, sentiment and latest comments per role",
)
async def verbatims(
    account_id: str,
    session: SessionDep,
    _: ReadKey,
    quotes: Annotated[
        int, Query(ge=0, le=MAX_QUOTES, description="Latest comments shown per role (0: counts only)")
    ] = DEFAULT_QUOTES,
) -> AccountVerbatims:
    """Per role, from the comments of the current answers: theme counts, tone and the latest quotes.

    Computed on every call from the stored comments, so an erased person's words are gone with their answers.
    """
    if await directory.get_account(session, account_id) is None:
        raise NotFound(f"no account {account_id!r}")
    found = (await repository.comments(session, [account_id])).get(account_id, [])
    roles = by_role(found, quotes=quotes)
    return AccountVerbatims(
        account_id=account_id, comments=sum(r.comments for r in roles), roles=[role_view(r) for r in roles]
    )
