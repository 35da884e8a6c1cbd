"""What every vendor adapter guarantees: the registry, signature refusals and malformed bodies."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from services.ingest.vendors import (
    ADAPTERS,
    DelightedAdapter,
    PayloadError,
    SignatureError,
    VendorAdapter,
    ZendeskAdapter,
    build_adapters,
)
from tests.ingest.vendors.checks import publishable
from tests.ingest.vendors.payloads import (
    NOW,
    OTHER_SECRET,
    SECRET,
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


@dataclass(frozen=True)
class Vendor:
    source: str
    create_body: Callable[[], bytes]
    sign: Callable[[bytes, str], dict[str, str]]
    signs_body: bool = True

    @property
    def adapter(self) -> VendorAdapter:
        return ADAPTERS[self.source]


VENDORS = [
    Vendor("zendesk", lambda: encode(create_zendesk_payload()), lambda body, s: zendesk_headers(body, secret=s)),
    Vendor("intercom", lambda: encode(create_intercom_payload()), lambda body, s: intercom_headers(body, secret=s)),
    Vendor("typeform", lambda: encode(create_typeform_payload()), lambda body, s: typeform_headers(body, secret=s)),
    Vendor("delighted", lambda: encode(create_delighted_payload()), lambda body, s: delighted_headers(body, secret=s)),
    Vendor(
        "freshdesk",
        lambda: encode(create_freshdesk_payload()),
        lambda _body, s: freshdesk_headers(secret=s),
        signs_body=False,
    ),
]
BY_NAME = pytest.mark.parametrize("vendor", VENDORS, ids=[v.source for v in VENDORS])


def test_the_registry_names_every_vendor_by_its_source() -> None:
    assert set(ADAPTERS) == {"zendesk", "intercom", "typeform", "delighted", "freshdesk"}
    for source, adapter in ADAPTERS.items():
        assert adapter.source == source


def test_build_adapters_sets_the_configurable_details() -> None:
    adapters = build_adapters(
        zendesk_max_skew=timedelta(seconds=30),
        delighted_account_property="Customer",
        delighted_ces_points=5,
    )
    assert adapters["zendesk"] == ZendeskAdapter(max_skew=timedelta(seconds=30))
    assert adapters["delighted"] == DelightedAdapter(account_property="Customer", ces_points=5)
    assert build_adapters() == ADAPTERS


@BY_NAME
def test_a_signed_delivery_verifies_and_maps_to_publishable_events(vendor: Vendor) -> None:
    body = vendor.create_body()
    headers = vendor.sign(body, SECRET)
    vendor.adapter.verify(headers, body, SECRET, NOW)
    events = publishable(vendor.adapter.parse(body, headers))
    assert events
    assert {event.source for event in events} == {vendor.source}
    assert len({event.event_id for event in events}) == len(events)
    assert all(event.event_id and event.event_id.startswith(f"{vendor.source}:") for event in events)


@BY_NAME
def test_another_secret_is_refused(vendor: Vendor) -> None:
    body = vendor.create_body()
    with pytest.raises(SignatureError):
        vendor.adapter.verify(vendor.sign(body, OTHER_SECRET), body, SECRET, NOW)


@BY_NAME
def test_an_unsigned_delivery_is_refused(vendor: Vendor) -> None:
    body = vendor.create_body()
    with pytest.raises(SignatureError, match="missing"):
        vendor.adapter.verify({"content-type": "application/json"}, body, SECRET, NOW)


@BY_NAME
def test_an_empty_secret_never_verifies(vendor: Vendor) -> None:
    body = vendor.create_body()
    with pytest.raises(SignatureError, match="no webhook secret"):
        vendor.adapter.verify(vendor.sign(body, ""), body, "", NOW)


@pytest.mark.parametrize("vendor", [v for v in VENDORS if v.signs_body], ids=lambda v: v.source)
def test_a_tampered_body_is_refused(vendor: Vendor) -> None:
    body = vendor.create_body()
    headers = vendor.sign(body, SECRET)
    tampered = body.replace(b"acme", b"evil") if b"acme" in body else body + b" "
    with pytest.raises(SignatureError, match="does not match"):
        vendor.adapter.verify(headers, tampered, SECRET, NOW)


@BY_NAME
def test_a_signature_header_with_garbage_is_refused(vendor: Vendor) -> None:
    body = vendor.create_body()
    headers = {name: value + "\u00e9\u2603" for name, value in vendor.sign(body, SECRET).items()}
    with pytest.raises(SignatureError):
        vendor.adapter.verify(headers, body, SECRET, NOW)


@BY_NAME
@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"not json", b"[1, 2]", b"null", b'"text"', b"\xff\xfe{}", b"[" * 100_000],
    ids=["empty", "truncated", "text", "array", "null", "string", "not-utf8", "too-deep"],
)
def test_a_body_that_is_not_a_json_object_is_a_payload_error(vendor: Vendor, body: bytes) -> None:
    with pytest.raises(PayloadError) as raised:
        vendor.adapter.parse(body, vendor.sign(body, SECRET))
    assert raised.value.reason


@BY_NAME
def test_parsing_the_same_bytes_twice_gives_the_same_events(vendor: Vendor) -> None:
    body = vendor.create_body()
    headers = vendor.sign(body, SECRET)
    assert vendor.adapter.parse(body, headers) == vendor.adapter.parse(body, headers)


# Values a hostile or broken sender could put anywhere: wrong types, lone surrogates, numbers beyond
# float range, text that looks numeric to Python only.
HOSTILE: list[Any] = [None, "", " ", "\ud800", 10**400, -1, 1e308, 0.5, True, [], {}, "x" * 300, "\u0661\u0662", "NaN"]


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every position in a JSON value, containers included."""
    children: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def replaced(payload: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    result = copy.deepcopy(payload)
    parent: Any = result
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return result


@BY_NAME
def test_any_value_anywhere_either_maps_or_is_a_payload_error(vendor: Vendor) -> None:
    payload = json.loads(vendor.create_body())
    for path in paths(payload):
        for value in HOSTILE:
            body = json.dumps(replaced(payload, path, value)).encode()
            try:
                result = vendor.adapter.parse(body, vendor.sign(body, SECRET))
            except PayloadError as exc:
                reason = exc.reason
            else:
                publishable(result)
                assert result.events or result.reason
                reason = result.reason or ""
            reason.encode()  # the route logs and returns it: it must be valid text
