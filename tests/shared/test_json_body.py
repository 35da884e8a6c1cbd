"""Untrusted JSON bodies: nesting and number sizes are bounded, each refusal says why."""

from __future__ import annotations

import pytest

from shared.json_body import MAX_DEPTH, JsonBodyError, depth, load_json


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 10_000 + b"]" * 10_000, "nested more than"),
        (b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}", "nested more than"),
        (b'{"score": 1' + b"0" * 400 + b"}", "more than 40 characters"),
        (b'{"score": ' + b"9" * 5000 + b"}", "more than 40 characters"),
        (b'{"score": 1e400}', "out of range"),
        (b'{"score": NaN}', "NaN is not a JSON number"),
        (b'{"score": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": "\x80"}', "not UTF-8"),
        (b'{"a": }', "Expecting value"),
    ],
)
def test_bodies_out_of_bounds_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(JsonBodyError, match=reason):
        load_json(body)


def test_bodies_within_bounds_decode() -> None:
    inside = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert depth(load_json(inside)) == MAX_DEPTH
    assert load_json(b'{"score": 9.5, "n": 12345678901234567890}') == {"score": 9.5, "n": 12345678901234567890}
    assert depth(1) == 0
    assert depth({"a": [1, {"b": 2}]}) == 3
