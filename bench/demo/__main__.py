"""``python -m bench.demo`` (``make demo``): replay a seeded year through the running stack, backtest, patterns."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

from bench.demo.generator import Portfolio, generate
from bench.demo.report import account_lines, backtest_lines, pattern_lines
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


def run(stack: Stack, portfolio: Portfolio, *, lookback_days: int, timeout_s: float) -> list[str]:
    """Post the portfolio, wait until the analyzer has taken it in, and return the printed lines."""
    stack.check()
    before = stack.processed()
    print(f"posting {len(portfolio.events)} events of {len(portfolio.accounts)} accounts to ingest ...", flush=True)
    stack.post(portfolio.events)
    print("waiting for the analyzer ...", flush=True)
    stack.wait_processed(before + len(portfolio.events), timeout_s=timeout_s)
    lines = [
        f"A year of {len(portfolio.accounts)} accounts, seed {portfolio.seed}, "
        f"{portfolio.start.date()} to {portfolio.end}; NPS and divergence as of the last event.",
        "",
    ]
    for plan in portfolio.accounts:
        lines += account_lines(plan, stack.account(plan.account_id), stack.alerts(plan.account_id))
    lines.append("")
    lines += backtest_lines(stack.backtest(account_prefix=f"demo-{portfolio.seed}-", lookback_days=lookback_days))
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
