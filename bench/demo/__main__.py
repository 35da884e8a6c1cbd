"""``python -m bench.demo`` (``make demo``): replay a seeded year through the running stack, backtest, patterns."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from bench.demo import supplier
from bench.demo.generator import Portfolio, generate
from bench.demo.report import account_lines, backtest_lines, coverage_lines, pattern_lines, plan_lines
from bench.demo.stack import Stack, StackError


def _first_key(variable: str, default: str) -> str:
    return os.environ.get(variable, default).split(",")[0].strip() or default


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (defaults: the stack and development keys of ``make run``)."""
    parser = argparse.ArgumentParser(prog="python -m bench.demo", description=__doc__)
    parser.add_argument("--seed", type=int, default=13, help="the portfolio's seed (default 13)")
    parser.add_argument("--accounts", type=int, default=50, help="accounts to generate (default 50)")
    parser.add_argument("--end", type=date.fromisoformat, default=None, help="last day of the year (default today)")
    parser.add_argument("--lookback-days", type=int, default=180, help="the backtest's window (default 180)")
    parser.add_argument("--ingest-url", default="http://127.0.0.1:8000")
    parser.add_argument("--analyzer-url", default="http://127.0.0.1:8001")
    parser.add_argument("--ingest-key", default=_first_key("INGEST_API_KEYS", "dev-ingest-key"))
    parser.add_argument("--analyzer-key", default=_first_key("ANALYZER_API_KEYS", "dev-analyzer-key"))
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the analyzer (default 900)")
    return parser.parse_args(argv)


def _post(stack: Stack, events: Sequence[dict[str, Any]], timeout_s: float) -> None:
    before = stack.processed()
    stack.post(events)
    stack.wait_processed(before + len(events), timeout_s=timeout_s)


def act(stack: Stack, account_id: str) -> str | None:
    """The supplier acts on a recovering account: a plan on its open alert, marked done; the plan's id.

    None when the account has no open alert to plan on; an account that already has a plan (the demo run
    again) keeps it.
    """
    held = stack.plans(account_id)
    if held:
        return str(held[0]["plan_id"])
    alert = supplier.alert_to_plan(stack.alerts(account_id))
    if alert is None:
        return None
    plan = stack.make_plan(alert["alert_id"], supplier.plan_body(account_id))
    return str(stack.finish_plan(plan["plan_id"])["plan_id"])


def run(stack: Stack, portfolio: Portfolio, *, lookback_days: int, timeout_s: float) -> list[str]:
    """Post the portfolio, with the supplier acting on the recovering accounts on their action day, wait until
    the analyzer has taken it in, and return the printed lines."""
    stack.check()
    split = supplier.phases(portfolio)
    print(f"posting {len(portfolio.events)} events of {len(portfolio.accounts)} accounts to ingest ...", flush=True)
    print("waiting for the analyzer ...", flush=True)
    _post(stack, split.before, timeout_s)
    print(f"the supplier acts on {len(split.acting)} recovering accounts ...", flush=True)
    acted = {account_id: act(stack, account_id) for account_id in split.acting}
    _post(stack, split.after, timeout_s)
    lines = [
        f"A year of {len(portfolio.accounts)} accounts, seed {portfolio.seed}, "
        f"{portfolio.start.date()} to {portfolio.end}; NPS and divergence as of the last event.",
        "",
    ]
    for plan in portfolio.accounts:
        lines += account_lines(plan, stack.account(plan.account_id), stack.alerts(plan.account_id))
    prefix = f"demo-{portfolio.seed}-"
    lines.append("")
    lines += coverage_lines([row for row in stack.accounts() if row["account_id"].startswith(prefix)])
    lines.append("")
    made = [p for account_id in acted for p in stack.plans(account_id) if p["plan_id"] == acted[account_id]]
    lines += plan_lines(made, stack.loop())
    lines.append("")
    lines += backtest_lines(stack.backtest(account_prefix=prefix, lookback_days=lookback_days))
    lines.append("")
    lines += pattern_lines(stack.portfolio())
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; exit 1 with a clear message when the stack is not up."""
    args = parse(argv)
    portfolio = generate(args.seed, end=args.end or datetime.now(UTC).date(), accounts=args.accounts)
    stack = Stack(args.ingest_url, args.analyzer_url, args.ingest_key, args.analyzer_key)
    try:
        lines = run(stack, portfolio, lookback_days=args.lookback_days, timeout_s=args.timeout)
    except StackError as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.close()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
