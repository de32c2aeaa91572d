"""`sla-ledger ingest` and `sla-ledger publish`: events into the store, from a file or
the inbound Kafka topics, and a file onto those topics.

Rejected inputs are an outcome, not a failure: they are counted, kept, and the exit is 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consumers import interrupts, render
from consumers.cli.common import open_store, say
from consumers.cli.options import format_option, seconds
from consumers.errors import UsageError
from consumers.intake.kafka_config import (
    ALERTS_TOPIC,
    CREDITS_TOPIC,
    DEAD_LETTER_TOPIC,
    DEFAULT_GROUP,
    INBOUND_TOPICS,
    SECURITY_OPTIONS,
    TOPIC_OF_FAMILY,
    KafkaSettings,
)
from ledger.errors import StoreError
from projections.queries.encoding import to_json

if TYPE_CHECKING:
    from consumers.intake.kafka_counts import IngestCounts
    from consumers.metrics import Metrics

# Not imported above: the intake (validation, and pydantic with it); the commands import
# it when they run, so that `--help` and the reading commands start without loading it.


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    ingest = sub.add_parser(
        "ingest",
        parents=[common],
        help="validate events and append them to the ledger (from a file or Kafka)",
        description="Validate events from a JSON Lines file or the inbound Kafka topics and "
        "append the new ones to the store (creating a SQLite store that does not exist yet: "
        "the only command that does), keeping every rejected input with its reason. A "
        "duplicate changes nothing; closed periods are reconciled after each intake.",
    )
    ingest.add_argument(
        "--from-file",
        type=Path,
        metavar="F.jsonl",
        help="a JSON Lines file, one envelope per line, or - for standard input",
    )
    ingest.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT",
        help="Kafka brokers, comma-separated: consume the inbound topics exactly once into "
        "the store instead of reading a file",
    )
    ingest.add_argument(
        "--batch-size",
        type=int,
        default=2000,
        metavar="N",
        help="inputs per database transaction (default %(default)s)",
    )
    format_option(ingest, ["table", "json"], "table", "the counts")
    kafka_options(ingest)
    ingest.add_argument(
        "--max-messages",
        type=int,
        metavar="N",
        help="Kafka: stop after consuming N messages (default: run until stopped)",
    )
    ingest.add_argument(
        "--idle-timeout-seconds",
        type=seconds,
        metavar="S",
        help="Kafka: stop after S seconds with nothing left to consume (default: run until "
        "stopped)",
    )
    ingest.add_argument(
        "--retry-seconds",
        type=seconds,
        default=120.0,
        metavar="S",
        help="Kafka: how long to keep retrying an unreachable store or broker before giving "
        "up (default %(default)s)",
    )
    ingest.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="Kafka: serve Prometheus metrics at http://HOST:PORT/metrics while consuming, "
        "the exposure gauges of every provisional row among them (default: none)",
    )
    ingest.add_argument(
        "--poll-hang-seconds",
        type=seconds,
        default=60.0,
        metavar="S",
        help="Kafka: a poll of the broker that has not returned after S seconds is hung "
        "(a known kafka-python fault): exit with status 75 for a supervisor to restart the "
        "worker; nothing recorded is lost (default %(default)s)",
    )
    progress_options(ingest)

    publish = sub.add_parser(
        "publish",
        help="publish a JSON Lines file to the inbound Kafka topics",
        description="Publish a JSON Lines file to the inbound Kafka topics, each event to "
        "its family's topic keyed by subject id; changes no store (`ingest "
        "--bootstrap-servers` appends what it consumes). Lines that cannot be routed are "
        "listed on stderr.",
    )
    publish.add_argument(
        "--from-file",
        type=Path,
        required=True,
        metavar="F.jsonl",
        help="a JSON Lines file, one envelope per line, or - for standard input",
    )
    publish.add_argument(
        "--bootstrap-servers",
        required=True,
        metavar="HOST:PORT",
        help="Kafka brokers to publish to, comma-separated",
    )
    kafka_options(publish, consumer=False)
    progress_options(publish)


def kafka_options(parser: argparse.ArgumentParser, *, consumer: bool = True) -> None:
    """The Kafka options; the topics, group and outbox topics only for a consumer (a
    publisher routes each event to its family's topic: `TOPIC_OF_FAMILY`)."""
    group = parser.add_argument_group("Kafka")
    if consumer:
        group.add_argument(
            "--topics",
            default=",".join(INBOUND_TOPICS),
            help="inbound topics to consume, comma-separated (default %(default)s)",
        )
        group.add_argument(
            "--group-id",
            default=DEFAULT_GROUP,
            help="consumer group: workers with the same group split the partitions "
            "(default %(default)s)",
        )
        group.add_argument(
            "--dead-letter-topic",
            default=DEAD_LETTER_TOPIC,
            help="topic each rejected message is copied to, its reason in the headers "
            "(default %(default)s)",
        )
        group.add_argument(
            "--credits-topic",
            default=CREDITS_TOPIC,
            help="topic every credit entry is published to, for finance (default %(default)s)",
        )
        group.add_argument(
            "--alerts-topic",
            default=ALERTS_TOPIC,
            help="topic every alert raised is published to, as a CloudEvent "
            "sla.alert.raised (default %(default)s)",
        )
    else:
        for option, (topic, carried) in PUBLISHED_TOPICS.items():
            group.add_argument(
                f"--{option}-topic",
                default=topic,
                metavar="TOPIC",
                help=f"topic the {carried} are published to, for an `ingest --topics` that "
                "names it (default %(default)s)",
            )
        parser.set_defaults(
            topics=",".join(INBOUND_TOPICS),
            group_id=DEFAULT_GROUP,
            dead_letter_topic=DEAD_LETTER_TOPIC,
            credits_topic=CREDITS_TOPIC,
            alerts_topic=ALERTS_TOPIC,
        )
    for option in SECURITY_OPTIONS:
        group.add_argument(
            "--" + option.replace("_", "-"),
            dest=option,
            default=None,
            help=f"passed to kafka-python as {option}"
            + (": true or false" if option == "ssl_check_hostname" else "")
            + f" (also $SLA_LEDGER_KAFKA_{option.upper()}; default: kafka-python's)",
        )


# The publisher's option for each inbound topic (`--contracts-topic` ...): the
# production name, which `TOPIC_OF_FAMILY` routes each event family to.
PUBLISHED_TOPICS = {
    "contracts": (TOPIC_OF_FAMILY["contract"], "contract events"),
    "outages": (TOPIC_OF_FAMILY["outage"], "outage and maintenance events"),
    "incidents": (TOPIC_OF_FAMILY["incident"], "incident events"),
    "claims": (TOPIC_OF_FAMILY["claim"], "claim events"),
}


def kafka_settings(args: argparse.Namespace) -> KafkaSettings:
    security: dict[str, Any] = {}
    for option in SECURITY_OPTIONS:
        value = getattr(args, option, None) or os.environ.get(f"SLA_LEDGER_KAFKA_{option.upper()}")
        if value is not None:
            security[option] = (
                value.lower() in ("1", "true", "yes") if option == ("ssl_check_hostname") else value
            )
    topics = tuple(t.strip() for t in args.topics.split(",") if t.strip())
    if not topics:
        raise UsageError("--topics names no topic")
    return KafkaSettings(
        bootstrap_servers=args.bootstrap_servers,
        topics=topics,
        group_id=args.group_id,
        dead_letter_topic=args.dead_letter_topic,
        credits_topic=args.credits_topic,
        alerts_topic=args.alerts_topic,
        security=security,
    )


def progress_options(parser: argparse.ArgumentParser) -> None:
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )
    bar.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress"
    )


class ProgressBar:
    """One self-overwriting line on stderr: share of the file, inputs, rate, elapsed."""

    def __init__(self, label: str) -> None:
        self.label = render.for_humans(label)
        self.started = time.monotonic()
        self.last = 0.0
        self.finished = False

    def __call__(self, done: int, total: int | None, inputs: int) -> None:
        """`total` is None while the size is unknown (standard input, a pipe): then the
        line shows the bytes read instead of a bar. `done == total` ends the line."""
        now = time.monotonic()
        ended = total is not None and done >= total
        if self.finished or (not ended and now - self.last < 0.2):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        if total is None:
            position = f"{done:,} bytes"
        else:
            share = min(done / total, 1.0) if total else 1.0
            filled = int(share * 30)
            position = f"[{'#' * filled}{'.' * (30 - filled)}] {share:6.1%}"
        sys.stderr.write(
            f"\r{self.label} {position}  "
            f"{inputs:,} inputs  {inputs / elapsed:,.0f}/s  {elapsed:,.0f}s"
        )
        interrupts.line_open(True)
        if ended:
            self.end_line()
        sys.stderr.flush()

    def end_line(self) -> None:
        """End the bar's line (unless a note did), so what follows starts a line of its own."""
        sys.stderr.write(interrupts.end_open_line())
        sys.stderr.flush()
        self.finished = True


def input_path(path: Path, command: str) -> Path:
    """`--from-file`'s value, if there is something to read: a file, a device such as
    /dev/null (an empty input), a pipe, or `-` for standard input."""
    from consumers.intake.input_lines import STDIN

    if path == STDIN:
        if sys.stdin is None:  # started with `<&-`
            raise UsageError(
                f"{command}: standard input is closed: give --from-file a file, or pipe "
                "the input to `--from-file -`"
            )
        return path
    if not path.exists():
        raise UsageError(f"{command}: no such file: {path}")
    if path.is_dir():
        raise UsageError(f"{command}: {path} is a directory: give a JSON Lines file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{command}: cannot read {path}: permission denied")
    return path


def input_label(path: Path) -> str:
    from consumers.intake.input_lines import STDIN

    return "stdin" if path == STDIN else path.name


def cmd_ingest(args: argparse.Namespace) -> int:
    from consumers.intake.file_ingest import ingest_file
    from consumers.intake.input_lines import input_name

    if args.bootstrap_servers and args.from_file is not None:
        raise UsageError("ingest: give either --from-file or --bootstrap-servers, not both")
    if args.bootstrap_servers:
        return ingest_kafka(args)
    if args.from_file is None:
        raise UsageError("ingest: give --from-file F.jsonl")
    if args.metrics_listen is not None:
        raise UsageError("ingest: --metrics-listen is for a worker (--bootstrap-servers)")
    path = input_path(args.from_file, "ingest")
    if args.batch_size < 1:
        raise UsageError("ingest: --batch-size must be at least 1")
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    bar = ProgressBar(f"ingest {input_label(path)}") if show else None
    # A signal only asks the ingest to stop: it stops reading, its writer thread commits
    # the batch in flight and is joined, and only then is the store closed (a store
    # closed under the writer crashed the process with signal 11). The store is opened
    # before, while a signal still raises: no writer thread exists yet, and opening can
    # wait (a SQLite store another process has locked).
    store = open_store(args)
    with interrupts.deferred() as stop:
        try:
            summary = ingest_file(store, path, batch_size=args.batch_size, progress=bar, stop=stop)
        finally:
            store.close()
    if args.format == "json":
        print(to_json(summary.as_dict()))
    else:
        print(render.for_humans(summary.line()))
    if stop.signum is not None:  # it came during the final reconciliation, which finished
        raise interrupts.Interrupted(
            stop.signum,
            f"all of {input_name(path)} was recorded and closed periods were reconciled",
        )
    return 0


def ingest_kafka(args: argparse.Namespace) -> int:
    from consumers.metrics import Metrics
    from consumers.metrics.listener import listen_address, metrics_listener

    settings = kafka_settings(args)
    for name in ("max_messages", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"ingest: --{name.replace('_', '-')} must be at least 1")
    if args.poll_hang_seconds <= 0:
        raise UsageError("ingest: --poll-hang-seconds must be more than 0")
    listen = None if args.metrics_listen is None else listen_address(args.metrics_listen)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    metrics = Metrics()
    # The listener first: a port already taken is said before anything is consumed; it
    # stops (and frees its port) when the worker has stopped.
    with ExitStack() as listening:
        if listen is not None:
            host, port = listening.enter_context(metrics_listener(listen, metrics))
            say(f"metrics at http://{host}:{port}/metrics")
        counts, stop = consume(args, settings, metrics, show)
    sys.stderr.write(interrupts.end_open_line())
    if args.format == "json":
        print(to_json(counts.as_dict()))
    else:
        print(render.for_humans(counts.line()))
    if stop.signum is not None:
        # A worker's normal way to end: everything it consumed is recorded, so exit 0.
        say(
            f"stopped by {interrupts.signal_name(stop.signum)}: {counts.consumed:,} messages "
            f"recorded with their offsets (accepted {counts.accepted:,}, duplicates "
            f"{counts.duplicates:,}, rejected {counts.rejected:,}); a restart continues "
            "after them"
        )
    return 0


def consume(
    args: argparse.Namespace, settings: KafkaSettings, metrics: Metrics, show: bool
) -> tuple[IngestCounts, interrupts.StopRequest]:
    """Run the worker until a stop condition or a signal; its counts and the stop."""
    from consumers.intake.kafka_ingest import KafkaIngest
    from consumers.intake.retry import with_backoff

    # The store is opened while a signal still raises (no writer thread exists yet):
    # opening can wait, for a locked SQLite file or a store being retried.
    try:
        store = with_backoff(
            lambda: open_store(args), "store", args.retry_seconds, (StoreError,), say
        )
    except interrupts.Interrupted as exc:
        raise interrupts.Interrupted(
            exc.signum, "stopped while opening the store; nothing was consumed"
        ) from None
    # SIGTERM/SIGINT only ask the worker to stop (interrupts.deferred): it records the
    # batch in hand with its offsets, leaves the group, joins its writer thread, and
    # only then is the store closed.
    with interrupts.deferred() as stop:
        try:
            ingest = KafkaIngest(
                store,
                settings,
                batch_size=args.batch_size,
                max_messages=args.max_messages,
                idle_timeout_seconds=args.idle_timeout_seconds,
                retry_budget_seconds=args.retry_seconds,
                progress=KafkaProgress() if show else None,
                log=say,
                stop=stop,
                metrics=metrics,
                poll_hang_seconds=args.poll_hang_seconds,
                exposure_gauges=args.metrics_listen is not None,
            )
            return ingest.run(), stop
        finally:
            store.close()


class KafkaProgress:
    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, counts: Any, lag: int | None) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        sys.stderr.write(f"\r{counts.line()}  lag {'?' if lag is None else f'{lag:,}'}   ")
        sys.stderr.flush()
        interrupts.line_open(True)


def cmd_publish(args: argparse.Namespace) -> int:
    from consumers.intake.input_lines import input_name
    from consumers.intake.publish import publish_file

    path = input_path(args.from_file, "publish")
    settings = kafka_settings(args)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    override: dict[str, str] = {}
    for option, (topic, _) in PUBLISHED_TOPICS.items():
        override[topic] = getattr(args, f"{option}_topic").strip()
        if not override[topic]:
            raise UsageError(f"publish: --{option}-topic names no topic")
    summary = publish_file(
        path,
        settings,
        progress=ProgressBar(f"publish {input_label(path)}") if show else None,
        topic_override=override,
    )
    print(render.for_humans(summary.line()))
    for number, reason in summary.unroutable[:20]:
        print(render.for_humans(f"  {input_name(path)}:{number}: {reason}"), file=sys.stderr)
    if len(summary.unroutable) > 20:
        print(f"  ... and {len(summary.unroutable) - 20} more", file=sys.stderr)
    return 0
