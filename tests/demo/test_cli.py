"""``make demo`` without the stack: a clear message and exit status 1, nothing else."""

from __future__ import annotations

import pytest

from bench.demo.__main__ import main
from deploy.kafka.broker import free_port


def test_without_the_stack_the_demo_says_to_run_make_run_first(capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["--accounts", "2", "--ingest-url", closed, "--analyzer-url", closed]) == 1
    out, err = capsys.readouterr()
    assert "run `make run` first" in err
    assert "ingest does not answer" in err
    assert out == ""
