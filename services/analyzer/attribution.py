"""Who an answer belongs to: resolving vendor identities against the directory (docs/vendors/README.md).

Order: the stakeholder id, then aliases, then an email equal to a known id or alias (emails are
passed as plain identities, so the same lookups cover them). The account comes from the payload
where it resolves (account ids and aliases), else from the resolved person.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.repository import identities
from shared.events import SurveyResponse


@dataclass(frozen=True, slots=True)
class Attribution:
    """The account and person an answer counts for."""

    account_id: str
    stakeholder_id: str


async def attribute(session: AsyncSession, event: SurveyResponse) -> Attribution | None:
    """The answer's account and person, or None while the directory cannot tell (keep it waiting)."""
    if event.account_id is not None and event.stakeholder_id is not None:
        # Both named directly by our own ids (the API's form; a Typeform hidden field, a vendor's
        # external_id): the account exists from this event on, as for any event (docs/api.md).
        named = await identities.account_for(session, event.account_id) or event.account_id
        person = await identities.person_for(session, event.stakeholder_id, account_id=named)
        return Attribution(named, person[1] if person else event.stakeholder_id)

    people, accounts = identities_of(event)
    account_id: str | None = None
    for candidate in accounts:
        account_id = await identities.account_for(session, candidate)
        if account_id is not None:
            break
    for candidate in people:
        person = await identities.person_for(session, candidate, account_id=account_id)
        if person is not None:
            return Attribution(*person)
    if account_id is not None and event.stakeholder_id is not None:
        # The person is named by the customer's own id at an account known under an alias.
        return Attribution(account_id, event.stakeholder_id)
    return None


async def known_respondent(session: AsyncSession, event: SurveyResponse) -> tuple[str | None, Attribution | None]:
    """The account the directory knows the answer under, and the person it knows as its respondent.

    Reads only: an answer whose identity is unverified is shown against the people it names, but it
    must never create an account or a person (docs/security.md, "Who may answer as whom").
    """
    people, accounts = identities_of(event)
    account_id: str | None = None
    for candidate in accounts:
        account_id = await identities.account_for(session, candidate)
        if account_id is not None:
            break
    for candidate in people:
        person = await identities.person_for(session, candidate, account_id=account_id)
        if person is not None:
            return person[0], Attribution(*person)
    return account_id, None


def identities_of(event: SurveyResponse) -> tuple[list[str], list[str]]:
    """Every person identity and every account identity the answer carries."""
    people = _present(event.stakeholder_id, *(event.identities.stakeholder if event.identities else ()))
    accounts = _present(event.account_id, *(event.identities.account if event.identities else ()))
    return people, accounts


def _present(*values: str | None) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
