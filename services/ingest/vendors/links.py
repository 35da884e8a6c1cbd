"""Respondents named by survey-link parameters: vouched for by a signed link token, else unverified.

A vendor that carries the respondent in the survey URL (Typeform hidden fields, Delighted properties)
signs its delivery honestly, but the ids in it are whatever the link's holder typed. Such an answer is
``signed_link`` only when the link also carried a token (shared/survey_links.py) made for exactly those
ids; otherwise it is ``unverified`` and the analyzer never lets it create people or move positions
(docs/security.md, "Who may answer as whom"). Pure code: the clock is injected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from services.ingest.vendors.base import Respondent
from shared import survey_links
from shared.events import IdentityBasis

LINK_TOKEN_FIELD: Final = "link_token"  # noqa: S105 - the Typeform hidden field's name, not a credential


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LinkIdentity:
    """The outcome of checking one link: who answered, how sure we are, and the answer's own id."""

    respondent: Respondent
    basis: IdentityBasis
    # The token's digest when it vouched for the ids: it names the answer, so the same link answers once
    # (a second submission through it replaces the first rather than adding to it).
    token_digest: str | None = None
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """How link parameters are checked: the ``SURVEY_LINK_SECRET`` (None: no link can be verified)."""

    secret: str | None = field(default=None, repr=False)
    clock: Callable[[], datetime] = utc_now

    def identify(
        self, *, token: str | None, account_id: str | None, person_id: str | None, named: Respondent, signed: Respondent
    ) -> LinkIdentity:
        """Who answered: ``signed`` when ``token`` vouches for the ids, else ``named`` (every id the link gave).

        ``person_id`` is the id the token signs for the person (the link's stakeholder id, else its email);
        ``signed`` holds only the ids the token covers, since any other id in the link (an email beside the
        stakeholder id) is as editable as before.
        """
        if token is None:
            return LinkIdentity(named, "unverified", refusal="the link carries no link token")
        if self.secret is None:
            return LinkIdentity(named, "unverified", refusal="no SURVEY_LINK_SECRET is configured")
        try:
            survey_links.check(self.secret, token, account_id, person_id, self.clock())
        except survey_links.LinkTokenError as exc:
            return LinkIdentity(named, "unverified", refusal=exc.reason)
        return LinkIdentity(signed, "signed_link", token_digest=survey_links.digest(token))


NO_LINK_SECRET: Final = LinkPolicy()
"""The policy without a secret: every respondent named by link parameters is unverified."""
