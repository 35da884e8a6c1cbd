"""Bodies the analyzer cannot read at all: 422 in the one error shape, and 413; both documented.

Found by the fuzzer (tests/fuzz): bytes that are not UTF-8 were answered with an undocumented 400.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.analyzer.app import create_app
from services.analyzer.settings import AnalyzerSettings
from tests.analyzer.test_api import api

UNREADABLE = {
    "not UTF-8": b"\x10\xffD",
    "nested too deeply": b"[" * 100_000,
}


def _body_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of the analyzer's schema that takes a request body, with its responses."""
    schema = create_app(AnalyzerSettings(_env_file=None, environment="test")).openapi()
    return [
        (method.upper(), path.replace("{", "").replace("}", ""), operation["responses"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]


OPERATIONS = _body_operations()


def test_every_operation_with_a_body_documents_413_and_422() -> None:
    assert OPERATIONS, "the analyzer takes no body at all: the tests below would prove nothing"
    for method, path, responses in OPERATIONS:
        assert {"413", "422"} <= responses.keys(), (method, path)


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_an_unreadable_json_body_is_a_422(database_url: str, body: bytes) -> None:
    async with api(database_url) as client:
        for method, path, _ in OPERATIONS:
            response = await client.request(method, path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 422, (method, path, response.text)
            problem = response.json()
            assert problem["error"] == "validation_error"
            assert [p["type"] for p in problem["detail"]] == ["json_invalid"]


async def test_a_body_over_the_limit_is_a_413(database_url: str) -> None:
    async with api(database_url) as client:
        for method, path, _ in OPERATIONS:
            response = await client.request(method, path, content=b"{" + b" " * 1_048_576 + b"}")
            assert response.status_code == 413, (method, path)
            assert response.json()["error"] == "payload_too_large"
