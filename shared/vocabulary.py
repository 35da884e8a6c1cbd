"""The base of the product's vocabularies: a ``StrEnum`` that pydantic reads as the ``Literal`` of its values.

A vocabulary (alert statuses, delivery statuses, ...) is compared in code as enum members, while the
API validates it, documents it in OpenAPI and answers a wrong value exactly as a ``Literal`` of the
same strings: an inline ``enum`` in the schema and a ``literal_error``, so the public contract does
not change with the Python type.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema


class Vocabulary(StrEnum):
    """A closed set of strings; its members are the strings of the API, the webhooks and the database."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # A literal of the members, not pydantic's enum schema: the same OpenAPI and errors as before.
        return core_schema.literal_schema(list(cls))
