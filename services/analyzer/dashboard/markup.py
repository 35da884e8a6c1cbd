"""HTML built from literal templates with every inserted value escaped.

The dashboard renders its pages with Python functions rather than a template engine: a template is
a literal string of the code with ``{name}`` fields, and ``render`` escapes each value put into it
unless the value is itself ``Markup`` (HTML this module already produced). Nothing a user or an event
sent can reach a page unescaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable


class Markup(str):
    """Text that is already safe HTML: inserted into a template as it is."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """``value`` as HTML text: ``& < > " '`` escaped, unless it is ``Markup`` already."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def render(template: str, /, **values: object) -> Markup:
    """``template`` (a literal of the code) with each ``{name}`` replaced by its escaped value."""
    return Markup(template.format_map({name: escape(value) for name, value in values.items()}))


def join(parts: Iterable[Markup | str], separator: str = "") -> Markup:
    """Several pieces one after the other (plain text among them is escaped)."""
    return Markup(separator.join(escape(part) for part in parts))
