"""The rebuild's progress line: records done of the total, share, rate and an estimate of the time left."""

from __future__ import annotations

import pytest

from services.analyzer.rebuild import DEFAULT_BATCH_RECORDS, Progress, RecentRate
from services.analyzer.rebuild_command import progress_line, time_left
from services.cli.main import build_parser


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "estimating the time left"),
        (0.0, "done"),
        (0.2, "~1 s left"),
        (44.6, "~45 s left"),
        (60.0, "~1 min left"),
        (200.0, "~3 min 20 s left"),
        (202.4, "~3 min 20 s left"),
        (599.0, "~10 min left"),
        (1_830.0, "~30 min left"),
        (3_900.0, "~1 h 05 min left"),
        (7_199.0, "~2 h 00 min left"),
    ],
)
def test_the_rebuild_time_left_reads_as_people_say_it(seconds: float | None, text: str) -> None:
    assert time_left(seconds) == text


def test_the_rebuild_progress_line_estimates_from_the_recent_rate() -> None:
    # 250,000 of 1,000,000 done in 100 s (2,500/s overall), lately 5,000/s: 150 s left at the recent rate.
    line = progress_line(Progress(applied=250_000, total=1_000_000, elapsed_s=100.0, recent_rate=5_000.0))
    assert line == "rebuild: 250,000/1,000,000 records ( 25.0 %), 5,000/s, ~2 min 30 s left"


def test_the_rebuild_progress_line_falls_back_on_the_overall_rate_then_says_done() -> None:
    early = progress_line(Progress(applied=1_000, total=3_000, elapsed_s=2.0))
    assert early == "rebuild: 1,000/3,000 records ( 33.3 %), 500/s, ~4 s left"
    assert progress_line(Progress(applied=0, total=10, elapsed_s=0.0)).endswith("0/s, estimating the time left")
    assert progress_line(Progress(applied=10, total=10, elapsed_s=1.0, recent_rate=9.0)).endswith(
        "(100.0 %), 9/s, done"
    )


def test_the_rebuild_rate_covers_the_last_window_only() -> None:
    rate = RecentRate(window_s=10.0)
    assert rate.add(0.0, 0) == 0.0
    assert rate.add(5.0, 500) == 100.0
    assert rate.add(10.0, 1_000) == 100.0
    # Faster from here: after the window has moved on, the early pace no longer counts.
    rate.add(15.0, 3_500)
    assert rate.add(20.0, 6_000) == 500.0


def test_the_rebuild_command_documents_the_default_batch_size(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["rebuild", "--help"])
    # The command line does not import the analyzer, so its help spells the default out: the same one.
    assert f"default {DEFAULT_BATCH_RECORDS:,}" in " ".join(capsys.readouterr().out.split())
    assert build_parser().parse_args(["rebuild", "--batch-records", "2000"]).batch_records == 2_000
    with pytest.raises(SystemExit):
        build_parser().parse_args(["rebuild", "--batch-records", "0"])
