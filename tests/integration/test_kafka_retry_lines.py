"""A Kafka worker's retry lines give the whole reason, not its first 120 characters."""

from __future__ import annotations

import pytest

from tests.cli_process import run_cli as run

pytestmark = pytest.mark.integration


def test_each_retry_line_gives_the_whole_reason() -> None:
    store = "postgresql://postgres:secret@127.0.0.1:1/postgres"
    result = run(
        "ingest",
        "--bootstrap-servers",
        "127.0.0.1:1",
        "--retry-seconds",
        "8",  # an attempt waits 3 s for a connection: at least one retry line
        "--store",
        store,
    )
    assert result.returncode == 1
    *retries, final = result.stderr.splitlines()
    assert retries, result.stderr
    reason = final.removeprefix("sla-ledger: error: ")
    assert len(reason) > 120  # long enough to have been cut before
    for line in retries:
        assert (
            line
            == f"sla-ledger: store unavailable ({reason}); retrying in "
            + (line.rpartition("retrying in ")[2])
        )
        assert line.endswith(
            "and that the database server is running); retrying in "
            + (line.rpartition("retrying in ")[2])
        )
    assert "secret" not in result.stderr
