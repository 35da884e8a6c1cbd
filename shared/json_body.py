"""Decoding untrusted JSON bodies with bounds on nesting and on the size of numbers.

The standard decoder recurses once per nesting level (``RecursionError`` past about a thousand)
and converts integers of any length up to 4300 digits, which later overflow a float. Bodies from
the network go through ``load_json`` instead, so both are clear 422s at the edge.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

MAX_DEPTH: Final = 32
MAX_NUMBER_CHARS: Final = 40


class JsonBodyError(ValueError):
    """The body is not JSON within the bounds; the message says why (callers prefix it)."""


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonBodyError(f"a number has more than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonBodyError(f"a number has more than {MAX_NUMBER_CHARS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise JsonBodyError(f"the number {text} is out of range")
    return value


def _refuse_constant(name: str) -> float:
    raise JsonBodyError(f"{name} is not a JSON number")


def depth(value: Any) -> int:
    """The nesting depth of a decoded JSON value (a scalar is 0), computed without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def load_json(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode ``body``; raise ``JsonBodyError`` with a specific reason for anything out of bounds."""
    try:
        value = json.loads(body, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    except JsonBodyError:
        raise
    except UnicodeDecodeError as exc:
        raise JsonBodyError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise JsonBodyError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise JsonBodyError(f"nested more than {max_depth} levels deep") from exc
    except ValueError as exc:
        raise JsonBodyError(str(exc)) from exc
    if depth(value) > max_depth:
        raise JsonBodyError(f"nested more than {max_depth} levels deep")
    return value
