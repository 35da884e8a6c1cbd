"""Inbound vendor webhooks: verify each vendor's signature and map its payload onto ``survey_response`` events.

Pure code (no I/O, no framework). The route ``POST /v1/webhooks/{source}`` looks the adapter up in
``ADAPTERS``, calls ``verify`` (``SignatureError`` → 401), then ``parse`` (``PayloadError`` → 422) and
publishes ``VendorResult.events``; a result without events is acknowledged with its ``reason``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from services.ingest.vendors.base import PayloadError, SignatureError, VendorAdapter, VendorError, VendorResult
from services.ingest.vendors.delighted import DEFAULT_ACCOUNT_PROPERTY, DEFAULT_CES_POINTS, DelightedAdapter
from services.ingest.vendors.freshdesk import FreshdeskAdapter
from services.ingest.vendors.intercom import IntercomAdapter
from services.ingest.vendors.links import NO_LINK_SECRET, LinkPolicy
from services.ingest.vendors.typeform import TypeformAdapter
from services.ingest.vendors.zendesk import MAX_SKEW, ZendeskAdapter

__all__ = [
    "ADAPTERS",
    "DelightedAdapter",
    "FreshdeskAdapter",
    "IntercomAdapter",
    "LinkPolicy",
    "PayloadError",
    "SignatureError",
    "TypeformAdapter",
    "VendorAdapter",
    "VendorError",
    "VendorResult",
    "ZendeskAdapter",
    "build_adapters",
]


def build_adapters(
    *,
    zendesk_max_skew: timedelta = MAX_SKEW,
    delighted_account_property: str = DEFAULT_ACCOUNT_PROPERTY,
    delighted_ces_points: int = DEFAULT_CES_POINTS,
    links: LinkPolicy = NO_LINK_SECRET,
) -> dict[str, VendorAdapter]:
    """Every adapter by source name, with the configurable details set (defaults as in ``ADAPTERS``).

    ``links`` checks the respondents of the vendors that name them in survey-link parameters (Typeform,
    Delighted); the default, without a secret, verifies none of them.
    """
    adapters: list[VendorAdapter] = [
        ZendeskAdapter(max_skew=zendesk_max_skew),
        IntercomAdapter(),
        TypeformAdapter(links=links),
        DelightedAdapter(account_property=delighted_account_property, ces_points=delighted_ces_points, links=links),
        FreshdeskAdapter(),
    ]
    return {adapter.source: adapter for adapter in adapters}


ADAPTERS: Final[dict[str, VendorAdapter]] = build_adapters()
