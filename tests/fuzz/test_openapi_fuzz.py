"""Schemathesis against both live services' OpenAPI schemas: no 5xx, and every response as documented.

Every operation of each schema is fuzzed with a fixed seed, Hypothesis' derandomised mode and a
bounded number of examples, with the service's API key, and again, with fewer examples, without
one. The schemas are the apps' own, built in-process at collection (when no process runs yet);
``test_the_live_services_serve_the_fuzzed_schemas`` proves they are what the live processes serve.

Vendor webhook requests are signed as the vendor signs them, and a test of their own sends bodies
shaped like each vendor's documented delivery with parts broken, so the payload parsers are fuzzed
and not only the signature check.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.schemas import BaseSchema

from services.analyzer.app import create_app as create_analyzer
from services.analyzer.settings import AnalyzerSettings
from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings
from tests.factories import ANALYZER_KEY, INGEST_KEY, auth
from tests.fuzz.vendors import VendorSignature, vendor_deliveries
from tests.harness.processes import ServiceProcess

pytestmark = pytest.mark.e2e
FuzzCase = Case[Any]

# Every run sends the same requests: a fixed seed and Hypothesis' derandomised mode.
SEED = 20260501
# Examples per operation in the fuzzing phase with a key; the pass without one sends a fifth of that,
# and the vendor-shaped deliveries twice as many (they are spread over five vendors).
MAX_EXAMPLES = 20
# What is asserted of every response (schemathesis' check names).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
WEBHOOK_PATH = "/v1/webhooks/{source}"

INGEST_OPENAPI: dict[str, Any] = create_ingest(IngestSettings(_env_file=None, environment="test")).openapi()
ANALYZER_OPENAPI: dict[str, Any] = create_analyzer(AnalyzerSettings(_env_file=None, environment="test")).openapi()


def fuzz_schema(openapi: dict[str, Any], *, max_examples: int, coverage: bool = True) -> BaseSchema:
    """The schema with deterministic generation, bounded examples, no stateful phase, only ``CHECKS``.

    The coverage phase (schemathesis' deterministic boundary values of every parameter and body
    field) runs where the caller gets past authentication; without a key every one of its cases
    would end at the same 401.
    """
    checks: dict[str, Any] = {"enabled": False, **{name: {"enabled": True} for name in CHECKS}}
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": max_examples, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": coverage}},
            "checks": checks,
            "request-timeout": 30,
        }
    )
    return schemathesis.openapi.from_dict(openapi, config=config)


ingest = fuzz_schema(INGEST_OPENAPI, max_examples=MAX_EXAMPLES)
vendor_webhooks = fuzz_schema(INGEST_OPENAPI, max_examples=2 * MAX_EXAMPLES).include(path=WEBHOOK_PATH)
ingest_anonymous = fuzz_schema(INGEST_OPENAPI, max_examples=MAX_EXAMPLES // 5, coverage=False)
analyzer = fuzz_schema(ANALYZER_OPENAPI, max_examples=MAX_EXAMPLES)
analyzer_anonymous = fuzz_schema(ANALYZER_OPENAPI, max_examples=MAX_EXAMPLES // 5, coverage=False)


def test_the_live_services_serve_the_fuzzed_schemas(
    fuzzed_ingest: ServiceProcess, fuzzed_analyzer: ServiceProcess
) -> None:
    assert httpx.get(f"{fuzzed_ingest.url}/openapi.json").json() == INGEST_OPENAPI
    assert httpx.get(f"{fuzzed_analyzer.url}/openapi.json").json() == ANALYZER_OPENAPI


@ingest.parametrize()
def test_ingest_with_its_key(case: FuzzCase, fuzzed_ingest: ServiceProcess) -> None:
    # Vendor webhook requests are signed for the source in their path (unknown sources stay 404).
    case.call_and_validate(base_url=fuzzed_ingest.url, headers=auth(INGEST_KEY), auth=VendorSignature())


@vendor_webhooks.parametrize()
@vendor_webhooks.given(delivery=vendor_deliveries())
def test_vendor_webhooks_with_deliveries_shaped_like_the_vendors(
    case: FuzzCase, delivery: tuple[str, Any], fuzzed_ingest: ServiceProcess
) -> None:
    source, body = delivery
    case.path_parameters = {**(case.path_parameters or {}), "source": source}
    case.body = body
    response = case.call_and_validate(base_url=fuzzed_ingest.url, auth=VendorSignature())
    assert response.status_code != 401, "signed as the vendor signs, the delivery must pass the signature check"


@ingest_anonymous.parametrize()
def test_ingest_without_a_key(case: FuzzCase, fuzzed_ingest: ServiceProcess) -> None:
    case.call_and_validate(base_url=fuzzed_ingest.url)


@analyzer.parametrize()
def test_analyzer_with_its_key(case: FuzzCase, fuzzed_analyzer: ServiceProcess) -> None:
    case.call_and_validate(base_url=fuzzed_analyzer.url, headers=auth(ANALYZER_KEY))


@analyzer_anonymous.parametrize()
def test_analyzer_without_a_key(case: FuzzCase, fuzzed_analyzer: ServiceProcess) -> None:
    case.call_and_validate(base_url=fuzzed_analyzer.url)
