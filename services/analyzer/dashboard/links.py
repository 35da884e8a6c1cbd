"""Where the dashboard's pages live: its base path, the links between its pages, and their query defaults."""

from __future__ import annotations

from typing import Final, Literal
from urllib.parse import quote, urlencode

BASE: Final = "/dashboard"

# The orders of GET /v1/accounts the accounts page offers (a column header each).
AccountOrder = Literal["divergence", "risk", "value_at_risk"]
DEFAULT_ORDER: Final[AccountOrder] = "divergence"
LOOKBACKS: Final = (90, 180, 365)  # the lookback windows the backtest page offers
DEFAULT_LOOKBACK: Final = 180  # GET /v1/backtest's default


def account_href(account_id: str, **query: str) -> str:
    """The dashboard page of an account."""
    path = f"{BASE}/accounts/{quote(account_id, safe='')}"
    return f"{path}?{urlencode(query)}" if query else path


def alert_href(alert_id: str, action: str) -> str:
    """Where an alert's form posts an action (``acknowledge``, ``resolve``)."""
    return f"{BASE}/alerts/{quote(alert_id, safe='')}/{action}"


def alerts_href(**query: str | int | None) -> str:
    """The alerts page with the given filters."""
    kept = {k: str(v) for k, v in query.items() if v not in (None, "")}
    return f"{BASE}/alerts?{urlencode(kept)}" if kept else f"{BASE}/alerts"


def accounts_href(*, order: str = DEFAULT_ORDER, segment: str | None = None, offset: int | None = None) -> str:
    """The accounts page in an order, for a segment, from an offset (each left out at its default)."""
    kept: dict[str, str] = {}
    if order != DEFAULT_ORDER:
        kept["order"] = order
    if segment:
        kept["segment"] = segment
    if offset:
        kept["offset"] = str(offset)
    return f"{BASE}?{urlencode(kept)}" if kept else BASE


def backtest_href(lookback_days: int = DEFAULT_LOOKBACK) -> str:
    """The backtest page over a lookback window."""
    path = f"{BASE}/backtest"
    return path if lookback_days == DEFAULT_LOOKBACK else f"{path}?{urlencode({'lookback_days': lookback_days})}"


def plan_href(plan_id: str | None = None, action: str | None = None) -> str:
    """Where a plan form posts: a new plan (no id), a plan's ``status`` or its ``notes``."""
    if plan_id is None:
        return f"{BASE}/plans"
    return f"{BASE}/plans/{quote(plan_id, safe='')}/{action}"
