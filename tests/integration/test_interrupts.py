"""SIGINT and SIGTERM at random moments: never a crash, never a lost or half batch.

Each test runs `sla-ledger` as a subprocess, as an operator does, signals it at a moment
chosen from a seed (as soon as it handles signals, as soon as it has opened the file,
once it has read a random number of bytes past what earlier runs committed, so the
signal lands anywhere in a batch's cycle while a batch is validated or written, or once
it has read the whole file), and judges the process and the store:

- the exit code is the documented one (130 for SIGINT, 143 for SIGTERM for a file
  ingest; 0 for the Kafka worker, for which a signal is the normal way to stop), never
  a death by signal (before the fix, SIGINT killed a file ingest into SQLite with signal
  11 in about a third of the tries: the store was closed under the writer thread);
- stderr is one line with no traceback, and the counts it states are those the store
  holds;
- `audit verify` is clean, and running the same command again completes to the full
  count, the earlier inputs counting as duplicates.

A failure names the seed that reproduces its moments (SLA_LEDGER_TEST_SEED=<seed>).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from benchmarks.ingest_and_report import generate
from tests.builders import contract
from tests.cli_process import SLA_LEDGER, environment, run_cli
from tests.infrastructure import sqlite_url, wait_until
from tests.integration.test_kafka_intake import (
    Spawn,
    build_stream,
    new_group,
    new_topics,
    progress,
    spawn,
    stored_event_ids,
)

pytestmark = pytest.mark.integration

__all__ = ["spawn"]  # the Kafka test's fixture, used here too

SEED_ENV = "SLA_LEDGER_TEST_SEED"
FEED_EVENTS = 8_000
BAD_EVERY = 997  # every 997th line is malformed JSON: rejections are counted too
BATCH_SIZE = 400
CLOSED_PERIOD = "2026-01"  # the generated events start then; it has ended everywhere
RUN_TIMEOUT_SECONDS = 180.0


def chaos_seed() -> int:
    return int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))


# ----------------------------------------------------------------------------- the feed


@dataclass(frozen=True)
class Feed:
    path: Path
    lines: int
    bad_lines: frozenset[int]

    def valid_through(self, line: int) -> int:
        return line - self.bad_through(line)

    def bad_through(self, line: int) -> int:
        return sum(1 for bad in self.bad_lines if bad <= line)

    def end_of_line(self, line: int) -> int:
        """The byte offset just past line `line` (0 for line 0)."""
        with self.path.open("rb") as handle:
            return sum(len(handle.readline()) for _ in range(line))


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Feed:
    path = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    bad: set[int] = set()
    with path.open("w") as handle:
        number = 0
        for document in generate(FEED_EVENTS, 200):
            number += 1
            if number % BAD_EVERY == 0:
                handle.write('{"event_id": "broken\n')
                bad.add(number)
                number += 1
            handle.write(json.dumps(document) + "\n")
    return Feed(path, number, frozenset(bad))


# ----------------------------------------------------------------------------- processes


def start(*args: str) -> subprocess.Popen[str]:
    env = environment(debug=False)
    return subprocess.Popen(
        [*SLA_LEDGER, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def catches_sigterm(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> bool:
    """Whether the process has its own SIGTERM handler yet (Linux: /proc's SigCgt mask).

    Before that, a signal meets the interpreter starting up, which no program controls."""
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return False
    caught = re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE)
    return caught is not None and bool(int(caught.group(1), 16) & (1 << (signal.SIGTERM - 1)))


def holds_open(process: subprocess.Popen[str], path: Path) -> bool:
    """Whether the process has the file open (Linux: /proc/<pid>/fd)."""
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{process.pid}/fd").iterdir()]
    except OSError:
        return False
    return str(path) in links


def holds_scratch_store(process: subprocess.Popen[str]) -> bool:
    """Whether `audit rebuild` has its default scratch store open (Linux: /proc/<pid>/fd)."""
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{process.pid}/fd").iterdir()]
    except OSError:
        return False
    return any("sla-ledger-rebuild-" in link and link.endswith("rebuild.db") for link in links)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=RUN_TIMEOUT_SECONDS)


def stored(url: str, table: str) -> int:
    """Rows of a ledger table, read beside the running process (0 while there is none)."""
    try:
        if url.startswith("sqlite:///"):
            path = url[len("sqlite:///") :]
            if not Path(path).exists():
                return 0
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
                return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        with psycopg.connect(url, connect_timeout=5) as db:
            row = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            return 0 if row is None else int(row[0])
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        return 0


def assert_one_clean_line(stderr: str, what: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"{what}: expected one line on stderr:\n{stderr}"
    assert "Traceback" not in stderr, f"{what}: {stderr}"
    assert "internal error" not in stderr, f"{what}: {stderr}"
    assert lines[0].startswith("sla-ledger: interrupted by "), f"{what}: {stderr}"
    return lines[0]


# ----------------------------------------------------------------------------- file ingest

COUNTED = re.compile(
    r"^sla-ledger: interrupted by (?P<signal>SIG[A-Z]+): (?P<inputs>[\d,]+) inputs committed "
    r"\(accepted (?P<accepted>[\d,]+), duplicates (?P<duplicates>[\d,]+), rejected "
    r"(?P<rejected>[\d,]+)\) of lines 1-(?P<through>\d+) of (?P<file>.+); nothing after "
    r"line (?P=through) was recorded; run the same command again to continue "
    r"\(already accepted events count as duplicates\)$"
)
ALL_COMMITTED = re.compile(
    r"^sla-ledger: interrupted by (?P<signal>SIG[A-Z]+): all (?P<inputs>[\d,]+) inputs of "
    r"(?P<file>.+) committed \(accepted (?P<accepted>[\d,]+), duplicates "
    r"(?P<duplicates>[\d,]+), rejected (?P<rejected>[\d,]+)\), but closed periods were "
    r"not reconciled with them; run the same command again to continue"
)
NOTHING = re.compile(r"^sla-ledger: interrupted by (?P<signal>SIG[A-Z]+)(: no input of .+)?")
RECONCILED = "all of {file} was recorded and closed periods were reconciled"


def number(text: str) -> int:
    return int(text.replace(",", ""))


@dataclass
class Ledger:
    """What the store must hold: the inputs of lines 1 to `through` (the most any run
    committed; each run reads the file from its first line)."""

    feed: Feed
    url: str
    through: int = 0

    def check(self, what: str) -> None:
        events = stored(self.url, "sla_events")
        assert events == self.feed.valid_through(self.through), f"{what}: events in the store"
        rejections = stored(self.url, "sla_rejections")
        assert rejections == self.feed.bad_through(self.through), f"{what}: rejections"

    def interrupted(
        self, sig: signal.Signals, moment: Callable[[subprocess.Popen[str]], None], what: str
    ) -> str:
        """Ingest the feed, signal it at `moment`; check its exit, its line and the store.
        Which of the possible outcomes it was."""
        args = ["ingest", "--from-file", str(self.feed.path), "--store", self.url]
        process = start(*args, "--batch-size", str(BATCH_SIZE), "--no-progress")
        moment(process)
        process.send_signal(sig)
        out, err = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
        code = process.returncode
        assert code >= 0, f"{what}: killed by signal {-code}; stderr: {err}"
        before = self.through
        if code == 0:  # it had finished when the signal came: a complete run
            assert err == "", f"{what}: {err}"
            self.through = self.feed.lines
            outcome = "finished first"
            self.assert_counts(out.strip(), before, self.feed.lines, what)
        else:
            assert code == 128 + sig, f"{what}: exit {code}; stderr: {err}"
            line = assert_one_clean_line(err, what)
            assert f"interrupted by {sig.name}" in line, f"{what}: {line}"
            if (found := COUNTED.match(line)) or (found := ALL_COMMITTED.match(line)):
                through = number(found["through"]) if "through" in found.re.groupindex else 0
                through = through or self.feed.lines
                committed = sum(number(found[k]) for k in ("accepted", "duplicates", "rejected"))
                assert number(found["inputs"]) == committed, line
                assert found["file"] == str(self.feed.path), line
                self.through = max(before, through)
                self.assert_counts(found, before, through, what)
                outcome = "stopped mid-file" if found.re is COUNTED else "before reconciliation"
            elif line.endswith(RECONCILED.format(file=self.feed.path)):
                assert out.startswith("accepted "), f"{what}: {out}"
                self.through = self.feed.lines
                self.assert_counts(out.strip(), before, self.feed.lines, what)
                outcome = "after reconciliation"
            else:
                assert NOTHING.match(line), f"{what}: {line}"
                outcome = "before the first commit"
        self.check(what)
        return outcome

    def assert_counts(
        self, counts: re.Match[str] | str, before: int, through: int, what: str
    ) -> None:
        """This run committed lines 1 to `through`; earlier runs had lines 1 to `before`."""
        if isinstance(counts, str):
            summary = re.match(
                r"accepted (?P<accepted>\d+), duplicates (?P<duplicates>\d+), "
                r"rejected (?P<rejected>\d+)",
                counts,
            )
            assert summary is not None, f"{what}: {counts}"
            counts = summary
        seen = {key: number(counts[key]) for key in ("accepted", "duplicates", "rejected")}
        old = min(before, through)
        expected = {
            "accepted": self.feed.valid_through(through) - self.feed.valid_through(old),
            "duplicates": self.feed.valid_through(old),
            "rejected": self.feed.bad_through(through),
        }
        assert seen == expected, f"{what}: counts {seen}, store says {expected}"


def read_position(process: subprocess.Popen[str], path: Path) -> int | None:
    """How far the process has read `path` (Linux: /proc/<pid>/fdinfo), or None while
    it does not have it open. Unlike the store, this counts a re-run's duplicates too."""
    try:
        for fd in Path(f"/proc/{process.pid}/fd").iterdir():
            if os.readlink(fd) == str(path):
                info = Path(f"/proc/{process.pid}/fdinfo/{fd.name}").read_text()
                found = re.search(r"^pos:\s*(\d+)$", info, re.MULTILINE)
                return None if found is None else int(found.group(1))
    except OSError:
        return None
    return None


def past_committed(
    feed: Feed, through: int, rnd: random.Random
) -> Callable[[subprocess.Popen[str]], None]:
    """Once the process has read 2.5 to 4.5 batches' worth of bytes past line `through`
    (what earlier runs committed), the byte chosen at random so the signal lands
    anywhere in a batch's cycle. Reading that far into new lines means a batch of them
    has committed (one batch is in flight at most). The three such tries and the two
    early ones together stay short of the file's last 4 of its 20 batches, so each of
    the three stops mid-file whatever the machine's speed. (A share of the whole file
    plus a random sleep once let a re-run race through its duplicates and the rest of
    the file before the signal came.)"""
    batch_bytes = feed.path.stat().st_size * BATCH_SIZE // feed.lines
    target = feed.end_of_line(through) + int(batch_bytes * rnd.uniform(2.5, 4.5))

    def moment(process: subprocess.Popen[str]) -> None:
        wait_until(
            lambda: process.poll() is not None or (read_position(process, feed.path) or 0) > target,
            what=f"the process to read {target} bytes of the file",
            timeout_seconds=RUN_TIMEOUT_SECONDS,
        )

    return moment


def very_early(rnd: random.Random) -> Callable[[subprocess.Popen[str]], None]:
    """As soon as the process handles SIGTERM itself, plus up to 50 ms: it is opening
    the store, or reading the first lines."""

    def moment(process: subprocess.Popen[str]) -> None:
        wait_until(
            lambda: process.poll() is not None or catches_sigterm(process),
            what="the process to install its signal handlers",
        )
        time.sleep(rnd.uniform(0.0, 0.05))

    return moment


def file_opened(feed: Feed, rnd: random.Random) -> Callable[[subprocess.Popen[str]], None]:
    """As soon as the process has opened the file, plus up to 50 ms: before or around
    the first commit."""

    def moment(process: subprocess.Popen[str]) -> None:
        wait_until(
            lambda: process.poll() is not None or holds_open(process, feed.path),
            what="the process to open the file",
        )
        time.sleep(rnd.uniform(0.0, 0.05))

    return moment


def file_read(feed: Feed, rnd: random.Random) -> Callable[[subprocess.Popen[str]], None]:
    """Once the process has read the whole file and closed it, plus up to 0.5 s: while
    the last batch is written or during the final reconciliation (or just after)."""

    def moment(process: subprocess.Popen[str]) -> None:
        wait_until(
            lambda: process.poll() is not None or holds_open(process, feed.path),
            what="the process to open the file",
        )
        wait_until(
            lambda: process.poll() is not None or not holds_open(process, feed.path),
            what="the process to read the whole file",
            timeout_seconds=RUN_TIMEOUT_SECONDS,
        )
        time.sleep(rnd.uniform(0.0, 0.5))

    return moment


def interrupt_file_ingest_repeatedly(url: str, feed: Feed, seed: int, kind: str) -> list[str]:
    rnd = random.Random(f"{seed}-{kind}")
    ledger = Ledger(feed, url)
    outcomes: list[str] = []

    def interrupted(sig: signal.Signals, moment: Callable[[subprocess.Popen[str]], None]) -> None:
        what = f"{kind}, {sig.name}, try {len(outcomes) + 1} (seed {seed})"
        outcomes.append(f"{sig.name}: " + ledger.interrupted(sig, moment, what))

    interrupted(signal.SIGINT, very_early(rnd))
    interrupted(signal.SIGINT, past_committed(feed, ledger.through, rnd))
    interrupted(signal.SIGTERM, file_opened(feed, rnd))
    interrupted(signal.SIGTERM, past_committed(feed, ledger.through, rnd))
    interrupted(signal.SIGINT, past_committed(feed, ledger.through, rnd))
    # A closed period makes the reconciliation after an ingest real work.
    closed = run("close", "--store", url, "--period", CLOSED_PERIOD)
    assert closed.returncode == 0, closed.stderr
    interrupted(rnd.choice([signal.SIGINT, signal.SIGTERM]), file_read(feed, rnd))

    verified = run("audit", "verify", "--store", url)
    assert verified.returncode == 0, f"{kind}: audit verify: {verified.stdout}{verified.stderr}"
    before = ledger.through
    done = run("ingest", "--from-file", str(feed.path), "--store", url, "--no-progress")
    assert done.returncode == 0, done.stderr
    ledger.through = feed.lines
    ledger.assert_counts(done.stdout.strip(), before, feed.lines, f"{kind}: the last run")
    ledger.check(f"{kind}: after the last run")
    return outcomes


def test_sigint_and_sigterm_during_file_ingest_stop_cleanly_and_a_rerun_completes(
    feed: Feed, fresh_postgres_url: str, tmp_path: Path
) -> None:
    seed = chaos_seed()
    stores = {"sqlite": sqlite_url(tmp_path), "postgresql": fresh_postgres_url}
    with ThreadPoolExecutor(len(stores)) as pool:
        runs = {
            kind: pool.submit(interrupt_file_ingest_repeatedly, url, feed, seed, kind)
            for kind, url in stores.items()
        }
        outcomes = {kind: result.result() for kind, result in runs.items()}
    for kind, seen in outcomes.items():
        # The three tries past what was committed stop mid-file, whatever the speed.
        assert sum("mid-file" in o for o in seen) >= 3, (kind, seed, seen)


def test_interrupted_audit_rebuild_ends_with_one_line_not_a_signal(
    feed: Feed, tmp_path: Path
) -> None:
    """A command without a writer thread: the signal unwinds it, and it says so in one
    line (before the fix SIGTERM killed it: exit -15, nothing said)."""
    url = sqlite_url(tmp_path)
    assert run("ingest", "--from-file", str(feed.path), "--store", url).returncode == 0
    for sig in (signal.SIGINT, signal.SIGTERM):
        # `audit rebuild` replays 8,000 events into its scratch store: a good part of a
        # second once that store is open (the signal then comes into the replay).
        process = start("audit", "rebuild", "--store", url)
        wait_until(
            lambda: process.poll() is not None or holds_scratch_store(process),  # noqa: B023
            what="audit rebuild to open its scratch store",
        )
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 128 + sig, f"{sig.name}: exit {process.returncode}: {err}"
        assert assert_one_clean_line(err, sig.name) == f"sla-ledger: interrupted by {sig.name}"


def loaded(process: subprocess.Popen[str], library: str) -> bool:
    """Whether the process has mapped a shared library (Linux: /proc/<pid>/maps)."""
    try:
        return library in Path(f"/proc/{process.pid}/maps").read_text()
    except OSError:
        return False


def test_a_signal_while_the_command_loads_ends_it_with_one_line(feed: Feed, tmp_path: Path) -> None:
    """Loading the CLI takes a noticeable moment; the zoneinfo module's binary is mapped
    about half way (the domain's time rules load it). A signal then used to meet
    Python's defaults: a traceback for SIGINT, death by signal for SIGTERM."""
    url = sqlite_url(tmp_path)
    for sig in (signal.SIGINT, signal.SIGTERM):
        process = start("ingest", "--from-file", str(feed.path), "--store", url)
        wait_until(
            lambda: process.poll() is not None or loaded(process, "_zoneinfo"),  # noqa: B023
            what="the process to load zoneinfo",
        )
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 128 + sig, f"{sig.name}: exit {process.returncode}: {err}"
        line = assert_one_clean_line(err, sig.name)
        assert line.startswith(f"sla-ledger: interrupted by {sig.name}"), line
        assert stored(url, "sla_events") == 0, line


def test_ctrl_c_while_the_demo_consumes_ends_the_demo_promptly_after_a_clean_stop(
    tmp_path: Path,
) -> None:
    """Ctrl-C in a terminal signals the whole process group: the demo and its embedded
    broker. The demo consumes through the Kafka worker's loop, which stops cleanly; the
    signal then ends the demo (it used to go on and close a month half read), without
    waiting to publish to the broker that the same Ctrl-C stopped (that took a minute)."""
    directory = tmp_path / "demo"
    url = sqlite_url(directory)
    env = environment(debug=False)
    process = subprocess.Popen(
        [*SLA_LEDGER, "demo", "--dir", str(directory)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        wait_until(
            lambda: process.poll() is not None or stored(url, "sla_events") > 0,
            what="the demo to record its first batch",
            timeout_seconds=RUN_TIMEOUT_SECONDS,
        )
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, f"exit {process.returncode}: {err}"
    line = assert_one_clean_line(err, "demo")
    assert line.startswith("sla-ledger: interrupted by SIGINT"), line
    assert stored(url, "sla_closes") == 0, "the demo went on and closed the month"


@dataclass(frozen=True)
class Signalled:
    exit_code: int
    stderr: str
    seconds: float  # from the signal to the exit


def signal_while_connecting(sig: signal.Signals, *args: str) -> Signalled:
    """Run `sla-ledger *args --bootstrap-servers <a broker that accepts the connection
    and never answers>`, and send `sig` once it has connected."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.settimeout(RUN_TIMEOUT_SECONDS)
        port = silent.getsockname()[1]
        process = start(*args, "--bootstrap-servers", f"127.0.0.1:{port}")
        try:
            connection, _ = silent.accept()  # the client waits for the broker's answer
            with connection:
                time.sleep(0.3)
                signalled = time.monotonic()
                process.send_signal(sig)
                _, err = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
                return Signalled(process.returncode, err, time.monotonic() - signalled)
        finally:
            process.kill()
            process.communicate()


def test_ctrl_c_while_publish_waits_for_the_broker_ends_it_at_once(tmp_path: Path) -> None:
    """A Ctrl-C while the producer waits for the broker ends `publish` at once, in one
    line. The producer works in a thread of its own: kafka-python's event loop drops any
    exception raised in its tasks, and a Ctrl-C landing there was lost, leaving the
    command (and the demo, whose embedded broker the same Ctrl-C stops) to wait 30 s for
    the bootstrap to time out."""
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps(contract()) + "\n")
    ended = signal_while_connecting(signal.SIGINT, "publish", "--from-file", str(path))
    assert ended.exit_code == 130, f"exit {ended.exit_code}: {ended.stderr}"
    assert_one_clean_line(ended.stderr, "publish")
    assert ended.seconds < 5.0, f"publish ended {ended.seconds:.1f}s after the Ctrl-C"


def test_a_stop_while_the_worker_connects_to_a_silent_broker_ends_it_at_once(
    tmp_path: Path,
) -> None:
    """kafka-python gives a broker that does not answer 30 s to do so; a stop requested
    meanwhile (under the worker's deferred signals, which raise nothing) ends the wait."""
    ended = signal_while_connecting(
        signal.SIGTERM, "ingest", "--store", sqlite_url(tmp_path), "--no-progress"
    )
    assert ended.exit_code == 143, f"exit {ended.exit_code}: {ended.stderr}"
    line = assert_one_clean_line(ended.stderr, "ingest")
    assert "while connecting to the Kafka broker" in line, line
    assert ended.seconds < 5.0, f"the worker ended {ended.seconds:.1f}s after SIGTERM"


# ----------------------------------------------------------------------------- Kafka worker

STOPPED = re.compile(
    r"sla-ledger: stopped by (?P<signal>SIG[A-Z]+): (?P<consumed>[\d,]+) messages recorded "
    r"with their offsets \(accepted (?P<accepted>[\d,]+), duplicates (?P<duplicates>[\d,]+), "
    r"rejected (?P<rejected>[\d,]+)\); a restart continues after them"
)


def stop_worker_and_restart(
    spawn: Spawn, url: str, bootstrap: str, seed: int, kind: str, sig: signal.Signals
) -> None:
    """Stop a worker with `sig` (twice: the second while it stops), then restart it."""
    rnd = random.Random(f"{seed}-{kind}")
    stream = build_stream(
        new_topics(bootstrap, f"sig-{kind}"),
        4_000,
        seed=seed % 2**31,
        duplicates=60,
        conflicts=5,
        poison_each=2,
    )
    stream.produce(bootstrap)
    group = new_group()
    total = len(stream.messages)
    for life, sigs in enumerate([(sig, sig)], 1):
        what = f"{kind}, life {life}, {'+'.join(s.name for s in sigs)} (seed {seed})"
        before = progress(url)
        target = before + int((total - before) * rnd.uniform(0.1, 0.5))
        process = spawn(url, stream.topics, group, f"-{kind}", batch_size=200)
        wait_until(
            lambda: progress(url) > target or not process.alive(),  # noqa: B023
            what=f"{what}: to record {target} messages",
            timeout_seconds=120,
            diagnostics=process.stderr,
        )
        assert process.alive(), f"{what}: ended by itself{process.stderr()}"
        for sig in sigs:  # a second signal while stopping changes nothing
            process.process.send_signal(sig)
        counts = process.result(timeout=60)
        stderr = process.err.read_text()
        assert "Traceback" not in stderr, f"{what}{process.stderr()}"
        found = STOPPED.search(stderr)
        assert found is not None, f"{what}{process.stderr()}"
        assert found["signal"] == sigs[0].name, f"{what}{process.stderr()}"
        said = {k: number(found[k]) for k in ("consumed", "accepted", "duplicates", "rejected")}
        assert said == {k: counts[k] for k in said}, (what, said, counts)
        # What it says it recorded is exactly what the store holds: it read from `before`.
        assert progress(url) == before + said["consumed"], (what, said, progress(url))
        assert len(set(stored_event_ids(url))) == len(stored_event_ids(url)), what
    last = spawn(url, stream.topics, group, f"-{kind}", idle=2.0)
    before = progress(url)
    counts = last.result()
    assert counts["consumed"] == total - before, (kind, seed, counts, before)
    ids = stored_event_ids(url)
    assert len(ids) == len(set(ids)), f"{kind}: an event is stored twice (seed {seed})"
    assert set(ids) == stream.valid_ids, f"{kind}: events lost or unexpected (seed {seed})"
    assert stored(url, "sla_rejections") == stream.rejected, f"{kind}: rejections"
    verified = run("audit", "verify", "--store", url)
    assert verified.returncode == 0, f"{kind}: audit verify: {verified.stdout}{verified.stderr}"


def test_sigint_and_sigterm_stop_the_kafka_worker_cleanly_and_a_restart_reaches_the_full_count(
    spawn: Spawn, kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    seed = chaos_seed()
    stores = {
        "sqlite": (sqlite_url(tmp_path), signal.SIGINT),
        "postgresql": (fresh_postgres_url, signal.SIGTERM),
    }
    with ThreadPoolExecutor(len(stores)) as pool:
        runs = [
            pool.submit(stop_worker_and_restart, spawn, url, kafka_bootstrap, seed, kind, sig)
            for kind, (url, sig) in stores.items()
        ]
        for result in runs:
            result.result()
