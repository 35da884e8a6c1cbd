"""The in-process token buckets: refill, and a bounded table that forgets the least recently used client."""

from __future__ import annotations

from shared.ratelimit import RateLimiter


def test_a_bucket_refills_with_time_and_each_client_has_its_own() -> None:
    limiter = RateLimiter(rate_per_s=0.1, burst=3)
    assert [limiter.acquire("a", now=100.0) for _ in range(3)] == [0.0] * 3
    assert limiter.acquire("a", now=100.0, dry_run=True) == 10.0, "one token back every 10 s"
    assert limiter.acquire("b", now=100.0) == 0.0, "another client has its own budget"
    assert limiter.acquire("a", now=105.0, dry_run=True) == 5.0
    assert limiter.acquire("a", now=110.0) == 0.0


def test_a_full_table_forgets_the_least_recently_used_client_not_everyone() -> None:
    # Issue 23, item 7: reaching the bound used to clear the whole table, handing an exhausted
    # client (a key guesser) a full bucket as soon as enough other clients had come by.
    limiter = RateLimiter(rate_per_s=0.001, burst=2, max_clients=3)
    limiter.acquire("guesser", 2, now=0.0)
    assert limiter.acquire("guesser", now=0.0, dry_run=True) > 0
    limiter.acquire("old", now=1.0)
    limiter.acquire("older-still", now=2.0)
    limiter.acquire("guesser", now=3.0)  # refused, but used: now the most recent
    limiter.acquire("new", now=4.0)  # the table is full: "old" goes
    assert limiter.acquire("guesser", now=5.0, dry_run=True) > 0, "the exhausted client is still limited"
    assert set(limiter._buckets) == {"older-still", "guesser", "new"}


def test_a_dry_run_neither_spends_nor_takes_a_place() -> None:
    limiter = RateLimiter(rate_per_s=1, burst=1, max_clients=1)
    limiter.acquire("a", now=0.0)
    assert limiter.acquire("b", now=0.0, dry_run=True) == 0.0
    assert limiter.acquire("a", now=0.0, dry_run=True) == 1.0
