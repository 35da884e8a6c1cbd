"""Who answered: link parameters vouched for by a link token, else unverified; a vendor's own identity is its own.

Typeform hidden fields and Delighted properties come from the survey URL, which whoever holds the link can
edit. Only a link token (shared/survey_links.py) made for exactly the ids makes such an answer
``signed_link``; every other one is published as ``unverified`` with the reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.ingest.vendors import (
    ADAPTERS,
    DelightedAdapter,
    LinkPolicy,
    TypeformAdapter,
    VendorResult,
    build_adapters,
)
from shared.survey_links import digest, mint
from tests.ingest.vendors.checks import publishable
from tests.ingest.vendors.payloads import (
    NOW,
    create_delighted_payload,
    create_freshdesk_payload,
    create_intercom_payload,
    create_typeform_payload,
    create_zendesk_payload,
    delighted_headers,
    encode,
    freshdesk_headers,
    intercom_headers,
    typeform_headers,
    zendesk_headers,
)

LINK_SECRET = "link-secret-for-adapter-tests-0123456789"
POLICY = LinkPolicy(secret=LINK_SECRET, clock=lambda: NOW)
TYPEFORM = TypeformAdapter(links=POLICY)
DELIGHTED = DelightedAdapter(links=POLICY)
CFO = {"account_id": "acme", "stakeholder_id": "cfo-7"}


def token(account_id: str = "acme", person: str = "cfo-7", *, ttl: timedelta = timedelta(days=30)) -> str:
    return mint(LINK_SECRET, account_id, person, NOW + ttl)


def typeform(hidden: dict[str, str], adapter: TypeformAdapter = TYPEFORM, **fields: Any) -> VendorResult:
    body = encode(create_typeform_payload(hidden=hidden, **fields))
    return adapter.parse(body, typeform_headers(body))


def delighted(properties: dict[str, Any], adapter: DelightedAdapter = DELIGHTED, **fields: Any) -> VendorResult:
    body = encode(create_delighted_payload(person_properties=properties, **fields))
    return adapter.parse(body, delighted_headers(body))


# --- Typeform ----------------------------------------------------------------------------------------


def test_typeform_hidden_fields_with_a_valid_token_are_a_signed_link() -> None:
    result = typeform({**CFO, "email": "someone@else.example", "link_token": token()})
    assert result.unverified_reason is None
    for event in publishable(result):
        assert event.identity == "signed_link"
        assert (event.account_id, event.stakeholder_id) == ("acme", "cfo-7")
        # Only the signed ids: an email typed beside them is as editable as any link parameter.
        assert event.identities is not None
        assert event.identities.stakeholder == ["cfo-7"]


def test_typeform_hidden_fields_without_a_token_are_unverified() -> None:
    result = typeform(CFO)
    assert result.unverified_reason == "the link carries no link token"
    for event in publishable(result):
        assert event.identity == "unverified"
        assert (event.account_id, event.stakeholder_id) == ("acme", "cfo-7")


@pytest.mark.parametrize(
    ("hidden", "reason"),
    [
        ({**CFO, "stakeholder_id": "ceo-1", "link_token": token()}, "made for another account or person"),
        ({**CFO, "account_id": "globex", "link_token": token()}, "made for another account or person"),
        ({**CFO, "link_token": token(ttl=-timedelta(seconds=1))}, "expired at"),
        ({**CFO, "link_token": mint("another-secret-of-at-least-32-characters", "acme", "cfo-7", NOW)}, "signature"),
        ({**CFO, "link_token": "v1.garbage"}, "not a v1 token"),
    ],
    ids=["other-person", "other-account", "expired", "other-secret", "malformed"],
)
def test_typeform_with_a_token_that_does_not_vouch_is_unverified_with_the_reason(
    hidden: dict[str, str], reason: str
) -> None:
    result = typeform(hidden)
    assert reason in (result.unverified_reason or "")
    assert {event.identity for event in publishable(result)} == {"unverified"}


def test_typeform_token_for_an_email_when_the_link_names_no_stakeholder_id() -> None:
    result = typeform(
        {"account_id": "acme", "email": "cfo@acme.example", "link_token": token(person="cfo@acme.example")}
    )
    for event in publishable(result):
        assert (event.identity, event.account_id, event.stakeholder_id) == ("signed_link", "acme", None)
        assert event.identities is not None
        assert event.identities.stakeholder == ["cfo@acme.example"]


def test_without_a_link_secret_every_link_is_unverified() -> None:
    result = typeform({**CFO, "link_token": token()}, adapter=TypeformAdapter())
    assert result.unverified_reason == "no SURVEY_LINK_SECRET is configured"
    assert {event.identity for event in publishable(result)} == {"unverified"}


def test_a_signed_link_answers_each_question_once_however_often_it_is_submitted() -> None:
    link = token()
    first = typeform({**CFO, "link_token": link}, submission_id="first", event_id="E1", nps=10)
    again = typeform({**CFO, "link_token": link}, submission_id="second", event_id="E2", nps=0)
    ids = {e.dimension: e.response_id for e in publishable(first)}
    assert ids == {e.dimension: e.response_id for e in publishable(again)}
    assert ids["recommend"] == f"typeform:link:{digest(link)}:lT4Z3j:recommend"
    assert {e.event_id for e in publishable(first)}.isdisjoint(e.event_id for e in publishable(again))


def test_unverified_submissions_keep_the_vendors_own_response_ids() -> None:
    result = typeform(CFO, submission_id="sub-1")
    assert {e.response_id for e in publishable(result)} == {
        "typeform:sub-1:recommend",
        "typeform:sub-1:ease",
        "typeform:sub-1:support",
    }


# --- Delighted ---------------------------------------------------------------------------------------


def test_delighted_properties_with_a_valid_token_are_a_signed_link() -> None:
    link = token()
    result = delighted({"Account ID": "acme", "Stakeholder ID": "cfo-7", "Link Token": link})
    (event,) = publishable(result)
    assert (event.identity, event.account_id, event.stakeholder_id) == ("signed_link", "acme", "cfo-7")
    assert event.identities is not None
    assert event.identities.stakeholder == ["cfo-7"]  # not the email beside it
    assert event.response_id == f"delighted:link:{digest(link)}:nps"


def test_delighted_token_signs_the_email_when_no_stakeholder_property_is_set() -> None:
    (event,) = publishable(delighted({"Account ID": "acme", "Link Token": token(person="jane.doe@acme.example")}))
    assert (event.identity, event.account_id, event.stakeholder_id) == ("signed_link", "acme", None)
    assert event.identities is not None
    assert event.identities.stakeholder == ["jane.doe@acme.example", "delighted:person:5975"]


def test_delighted_without_a_token_is_unverified_under_the_vendors_response_id() -> None:
    result = delighted({"Account ID": "acme"})
    (event,) = publishable(result)
    assert (event.identity, event.response_id) == ("unverified", "delighted:response:5435")
    assert result.unverified_reason == "the link carries no link token"


def test_delighted_with_a_token_for_another_account_is_unverified() -> None:
    result = delighted({"Account ID": "globex", "Link Token": token(person="jane.doe@acme.example")})
    (event,) = publishable(result)
    assert event.identity == "unverified"
    assert "made for another account or person" in (result.unverified_reason or "")


# --- vendors whose respondent is their own authenticated record --------------------------------------


@pytest.mark.parametrize(
    ("source", "body", "sign"),
    [
        ("zendesk", encode(create_zendesk_payload()), lambda b: zendesk_headers(b)),
        ("intercom", encode(create_intercom_payload()), lambda b: intercom_headers(b)),
        ("freshdesk", encode(create_freshdesk_payload()), lambda _b: freshdesk_headers()),
    ],
    ids=["zendesk", "intercom", "freshdesk"],
)
def test_vendor_identities_are_marked_as_the_vendors_own(source: str, body: bytes, sign: Any) -> None:
    result = ADAPTERS[source].parse(body, sign(body))
    assert result.unverified_reason is None
    assert {event.identity for event in publishable(result)} == {"vendor"}


def test_build_adapters_gives_the_link_policy_to_the_link_vendors() -> None:
    adapters = build_adapters(links=POLICY)
    assert adapters["typeform"] == TYPEFORM
    assert adapters["delighted"] == DELIGHTED
