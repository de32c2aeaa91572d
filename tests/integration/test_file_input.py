"""`ingest --from-file` on inputs that are not a tidy file: a pipe or FIFO that waits, a
line larger than anything may be, a closed standard input, form feeds.

Each test runs the command line as a child process against a real store.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from benchmarks.ingest_and_report import generate
from consumers.intake.validation import MAX_EVENT_BYTES
from tests.cli_process import SLA_LEDGER, environment, run_cli
from tests.infrastructure import wait_until
from tests.integration.test_interrupts import catches_sigterm, stored

pytestmark = pytest.mark.integration

PROMPT_SECONDS = 10.0  # "at once": far more than it takes, far less than the input waits


def good_lines(count: int) -> list[bytes]:
    return [json.dumps(d).encode() for d in generate(count, 1)][:count]


def start(*args: str, **popen: object) -> subprocess.Popen[bytes]:
    env = environment(debug=False)
    options: dict[str, object] = {"stdin": subprocess.DEVNULL, **popen}
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [*SLA_LEDGER, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options
    )


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text, text
    assert "internal error" not in text, text
    return lines[0]


def test_sigint_ends_a_wait_on_standard_input_at_once(store_url: str) -> None:
    """The writer keeps the pipe open and sends nothing more: before the fix SIGINT was
    only noted, and the ingest went on waiting for the pipe to close."""
    lines = good_lines(3)
    process = start(
        "ingest", "--store", store_url, "--from-file", "-", "--batch-size", "1",
        stdin=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(b"\n".join(lines) + b"\n")
    process.stdin.flush()
    wait_until(lambda: stored(store_url, "sla_events") == len(lines), what="3 events stored")
    time.sleep(0.3)  # the ingest is back in its read, waiting
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=PROMPT_SECONDS)
    finally:
        process.kill()  # closes nothing it has not already: the pipe stays ours
    assert process.returncode == 130, err
    line = one_line(err)
    assert line == (
        "sla-ledger: interrupted by SIGINT: 3 inputs committed (accepted 3, duplicates 0, "
        "rejected 0) of lines 1-3 of <stdin>; nothing after line 3 was recorded; run the "
        "same command again to continue (already accepted events count as duplicates)"
    )
    assert stored(store_url, "sla_events") == 3


def test_sigterm_ends_a_wait_to_open_a_fifo_with_no_writer(store_url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    process = start("ingest", "--store", store_url, "--from-file", str(fifo))
    wait_until(lambda: catches_sigterm(process), what="the ingest to handle signals")
    time.sleep(1.5)  # past opening the store: waiting to open the FIFO
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=PROMPT_SECONDS)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert one_line(err).startswith(f"sla-ledger: interrupted by SIGTERM: no input of {fifo}")
    assert stored(store_url, "sla_events") == 0
    assert stored(store_url, "sla_rejections") == 0


def test_a_line_too_large_is_kept_cut_with_its_size_and_digest(
    store_url: str, tmp_path: Path
) -> None:
    big = b'{"padding": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    first, last = good_lines(2)
    path = tmp_path / "big.jsonl"
    path.write_bytes(first + b"\n" + big + b"\r\n" + last + b"\n")
    result = run_cli("ingest", "--from-file", str(path), store=store_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("accepted 2, duplicates 0, rejected 1 (of 3 inputs)")
    listed = run_cli("rejections", "--format", "json", store=store_url)
    [rejection] = json.loads(listed.stdout)["rejections"]
    assert rejection["origin"] == {"file": str(path), "line": 2}
    assert rejection["reason"] == (
        f"(document): larger than 1048576 bytes ({len(big):,} bytes, SHA-256 "
        f"{hashlib.sha256(big).hexdigest()}); only its first 1,048,576 bytes are kept"
    )
    assert rejection["raw"] == big[:MAX_EVENT_BYTES].decode()


def _at_most_one_gib() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_reading_an_endless_line_holds_no_more_than_a_line(tmp_path: Path) -> None:
    """/dev/zero is one line that never ends: before the fix it was held whole, until
    MemoryError (or, with no limit, the machine's memory was gone)."""
    url = f"sqlite:///{tmp_path / 'zero.db'}"
    process = start(
        "ingest", "--store", url, "--from-file", "/dev/zero", preexec_fn=_at_most_one_gib
    )
    wait_until(lambda: catches_sigterm(process), what="the ingest to handle signals")
    time.sleep(2.0)  # gigabytes of it
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=PROMPT_SECONDS)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert one_line(err).startswith("sla-ledger: interrupted by SIGINT: no input of /dev/zero")


def test_a_closed_standard_input_is_a_usage_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'closed.db'}"
    process = start("ingest", "--store", url, "--from-file", "-", preexec_fn=lambda: os.close(0))
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    assert one_line(err) == (
        "sla-ledger: error: ingest: standard input is closed: give --from-file a file, or "
        "pipe the input to `--from-file -`"
    )
    assert not (tmp_path / "closed.db").exists()


def test_form_feed_and_vertical_tab_lines_are_inputs_not_blank(store_url: str) -> None:
    """Blank is JSON whitespace only (space, tab, CR, LF), as for a Kafka message."""
    result = run_cli("ingest", "--from-file", "-", store=store_url, stdin=b"\x0c\n\x0b\n \t\r\n\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "accepted 0, duplicates 0, rejected 2 (of 2 inputs); 2 blank lines skipped"
    )


@pytest.mark.parametrize("source", ["file", "kafka"])
def test_sigint_while_opening_a_locked_sqlite_store_stops_at_once(
    tmp_path: Path, source: str, request: pytest.FixtureRequest
) -> None:
    """Before the fix the store was opened with the signal only noted: the ingest waited
    out the lock and ended with `database is locked` (exit 1) instead of 130."""
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert run_cli("ingest", "--from-file", str(empty), store=url).returncode == 0
    if source == "file":
        args = ["--from-file", str(empty)]
    else:
        kafka: str = request.getfixturevalue("kafka_bootstrap")
        args = ["--bootstrap-servers", kafka, "--topics", f"locked-{os.getpid()}"]
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        process = start("ingest", "--store", url, *args)
        wait_until(lambda: catches_sigterm(process), what="the ingest to handle signals")
        time.sleep(1.5)  # waiting for the lock
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=PROMPT_SECONDS)
        finally:
            process.kill()
    finally:
        holder.close()
    assert process.returncode == 130, err
    # The Kafka worker may have said it retries the store before; the last line is the end.
    text = err.decode()
    assert "Traceback" not in text, text
    last = one_line(err) if source == "file" else text.strip().splitlines()[-1]
    assert last.startswith("sla-ledger: interrupted by SIGINT"), text


def test_a_store_failing_mid_ingest_says_what_was_committed(tmp_path: Path) -> None:
    """Three lines committed, then the store is locked by another process past its wait:
    before the fix the line was only `database is locked`."""
    path = tmp_path / "ledger.db"
    url = f"sqlite:///{path}"
    lines = good_lines(4)
    process = start(
        "ingest", "--store", url, "--from-file", "-", "--batch-size", "1",
        stdin=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(b"\n".join(lines[:3]) + b"\n")
    process.stdin.flush()
    wait_until(lambda: stored(url, "sla_events") == 3, what="3 events stored")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        _, err = process.communicate(lines[3] + b"\n", timeout=120)
    finally:
        process.kill()
        holder.close()
    assert process.returncode == 1, err
    line = one_line(err)
    assert line.startswith("sla-ledger: error: store "), line
    assert line.endswith(
        "; 3 inputs committed (accepted 3, duplicates 0, rejected 0) of lines 1-3 of "
        "<stdin>; nothing after line 3 was recorded; run the same command again to "
        "continue (already accepted events count as duplicates)"
    ), line
