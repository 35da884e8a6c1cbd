"""A vocabulary is an enum in code and the literal of its values to pydantic: the API contract stays a literal."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.vocabulary import Vocabulary


class Colour(Vocabulary):
    """A vocabulary of two words."""

    RED = "red"
    BLUE = "blue"


ADAPTER: TypeAdapter[Colour | None] = TypeAdapter(Colour | None)


def test_a_value_validates_to_its_member_and_serialises_to_its_string() -> None:
    assert ADAPTER.validate_python("red") is Colour.RED
    assert ADAPTER.dump_json(Colour.BLUE) == b'"blue"'


def test_the_schema_and_the_error_are_those_of_the_literal() -> None:
    assert ADAPTER.json_schema() == {"anyOf": [{"enum": ["red", "blue"], "type": "string"}, {"type": "null"}]}
    with pytest.raises(ValidationError) as raised:
        ADAPTER.validate_python("green")
    assert raised.value.errors()[0]["type"] == "literal_error"
