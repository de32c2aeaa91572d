"""`sla-ledger`: the command line of outputs.md.

Every failure the user can cause or fix (bad option, bad file, unreachable store, period
not ended) ends as one line on stderr and a non-zero exit, never a traceback. Rejected
inputs are an outcome, not a failure: they are counted, kept, and the exit is 0.
"""

from __future__ import annotations

import argparse
import base64
import gc
import os
import re
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from consumers import cli_audit, cli_diff, cli_explain, interrupts, render
from consumers.cli_options import (
    STORE_ENV,
    STORE_FORMS,
    as_of_option,
    contract_option,
    format_option,
    period_option,
    seconds,
    store_option,
)
from consumers.kafka_config import (
    CREDITS_TOPIC,
    DEAD_LETTER_TOPIC,
    DEFAULT_GROUP,
    INBOUND_TOPICS,
    SECURITY_OPTIONS,
    TOPIC_OF_FAMILY,
    KafkaSettings,
)
from consumers.shell_commands import command_line
from ledger.errors import InvalidInputError, LedgerError, StoreError
from ledger.periods import Period, from_us, to_us
from ledger.timeformat import format_utc, parse_date, parse_rfc3339
from ledger.wording import counted
from projections.store import DEFAULT_SQLITE_PATH, Access, LedgerStore, StoredRejection, redact

if TYPE_CHECKING:
    from consumers.report_rows import Part

# Not imported above: the intake (validation, and pydantic with it) and the close; the
# commands that use them import them, so that a reading command such as `report` starts
# without loading them.
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad options: reported in one line with a pointer to --help."""


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps help at spaces only, so that `--bootstrap-servers`, `kafka-python` and
    file names are never split at a hyphen."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise usage_error(self.prog, message)


def usage_error(prog: str, message: str) -> UsageError:
    """A usage error of the command `prog` (`sla-ledger report`), pointing at its own
    `--help`. The line names the command without the program: `main` prefixes every
    error with `sla-ledger: error: ` once."""
    command = prog.removeprefix("sla-ledger").strip()
    return UsageError(f"{command + ': ' if command else ''}{message} (see `{prog} --help`)")


def parse_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> Any:
    """The options, or a usage error. Arguments no parser recognised are reported by the
    subcommand they were given to (argparse would report them at the top level and point
    at `sla-ledger --help`, which does not list the subcommand's options)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        words = [w for w in (args.command, getattr(args, "action", None)) if w]
        raise usage_error(
            " ".join(["sla-ledger", *words]), f"unrecognized arguments: {' '.join(extras)}"
        )
    return args


def default_store_url() -> str:
    return os.environ.get(STORE_ENV) or f"sqlite:///{DEFAULT_SQLITE_PATH}"


DATE_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def as_of_instant(text: str | None, option: str = "--as-of") -> datetime | None:
    """An RFC 3339 instant, or a date meaning its midnight UTC."""
    if text is None:
        return None
    try:
        if DATE_FORM.fullmatch(text):  # its own message echoes the date as typed
            return datetime.combine(parse_date(text), datetime.min.time(), UTC)
        return parse_rfc3339(text)
    except InvalidInputError as exc:
        raise UsageError(f"{option} {exc}") from None


def moment(
    store: LedgerStore, asked: datetime | None, option: str = "--as-of", text: str | None = None
) -> datetime:
    """The moment a question is about: `asked`, or now if none was given.

    "Now" is the wall clock, or the ledger's last record time if a writer's clock ran
    ahead of this one (so nothing recorded is hidden). A moment after that is refused:
    about the future the ledger would answer again, differently, as records arrive.
    """
    now = max(datetime.now(UTC), from_us(store.chain_head().recorded_us))
    if asked is None:
        return now
    if asked > now:
        raise UsageError(
            f"{option} {text or format_utc(asked)} is in the future (now is "
            f"{format_utc(now)}): ask about a moment that has passed"
        )
    return asked


def say(line: str) -> None:
    print(
        f"{interrupts.end_open_line()}sla-ledger: {render.for_humans(line)}",
        file=sys.stderr,
        flush=True,
    )


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
        security=security,
    )


READS_ONLY = "; changes nothing (it only reads the store)."


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    store_option(common)
    parser = _Parser(
        prog="sla-ledger",
        description="An event-sourced SLA ledger: it appends contract, outage, maintenance "
        "and incident events, reports attainment and credit per contract, service and "
        "month, closes months into permanent credit entries, and lets auditors replay "
        "and verify the history.",
        epilog=f"Every command that uses a store takes --store URL: {STORE_FORMS}. Without "
        f"it, ${STORE_ENV}, else sqlite:///{DEFAULT_SQLITE_PATH}. Exit status: 0 on "
        "success (rejected inputs included), 1 when the command could not do its job, 2 "
        "for bad usage. `sla-ledger COMMAND --help` tells more about each command.",
    )
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, title="commands", metavar="COMMAND"
    )

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

    close = sub.add_parser(
        "close",
        parents=[common],
        help="close a period and issue its credit entries (permanent)",
        description="Close a period and issue its credit entries: a permanent change to the "
        "store, never undone (a later correction posts a reversal and a re-issue). Refused "
        "until the period has ended in every contract's timezone; closing a closed period "
        "again only reconciles it.",
    )
    period_option(close, required=True, meaning="the period to close")
    format_option(close, ["table", "json"], "table")

    report = sub.add_parser(
        "report",
        parents=[common],
        help="attainment and credit for each row of a period",
        description="Show attainment and credit for each contract and service of a period"
        + READS_ONLY,
    )
    period_option(report, required=True, meaning="the period to report")
    contract_option(report)
    as_of_option(report)
    format_option(report, ["table", "json", "csv"], "table")

    credits = sub.add_parser(
        "credits",
        parents=[common],
        help="the credit entries, in the order they were recorded",
        description="List the credit entries (issues and reversals) in the order they were "
        "recorded" + READS_ONLY,
    )
    period_option(credits, required=False, meaning="only the entries of this period")
    contract_option(credits)
    as_of_option(credits)
    format_option(credits, ["table", "json", "csv"], "table")

    rejections = sub.add_parser(
        "rejections",
        parents=[common],
        help="every rejected input, with its origin and reason",
        description="List every rejected input with its origin and reason, or export the raw "
        "inputs to fix and ingest again; changes nothing in the store (--export writes "
        "FILE).",
    )
    format_option(rejections, ["table", "json"], "table")
    rejections.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="write the rejected raw inputs, one per line, to FILE, a new file (an "
        "existing one is refused, never overwritten), or - for standard output: fix them "
        "there and `ingest --from-file FILE` again",
    )

    incidents = sub.add_parser(
        "incidents",
        parents=[common],
        help="incidents with their row, priority, status, or why they count nowhere",
        description="List each incident with the row it counts on, the priority used and "
        "its status (met, missed or pending), or the reason it counts on no row yet" + READS_ONLY,
    )
    incidents.add_argument(
        "--unplaced",
        action="store_true",
        help="only incidents that count on no row, with the reason",
    )
    period_option(incidents, required=False, meaning="only the incidents of this period")
    format_option(incidents, ["table", "json"], "table")

    cli_explain.add_parser(sub, common)
    cli_audit.add_parser(sub, common)
    cli_diff.add_parser(sub, common)

    demo = sub.add_parser(
        "demo",
        help="a realistic month, end to end through Kafka, in a directory of its own",
        description="Run a realistic month end to end through Kafka, changing only its "
        "directory D: its events, its store D/ledger.db (unless --store), audit-bundle/ and "
        ".sla-ledger-demo.json, the list of what it wrote there. It runs again over its own "
        "output, but refuses a directory that holds anything else unless --force.",
    )
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("sla-ledger-demo"),
        metavar="D",
        help="where the demo writes its events, its store (D/ledger.db) and the audit "
        "bundle (default ./%(default)s)",
    )
    demo.add_argument(
        "--store",
        metavar="URL",
        help="put the demo's store here instead of D/ledger.db: a new or empty store only, "
        f"since the demo's entries are permanent; {STORE_FORMS}",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="run even if D holds files the demo did not write: the demo's own paths there "
        "(ledger.db, the event files, audit-bundle/) are replaced, the rest left alone",
    )
    demo.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT",
        help="use this Kafka broker (default: start an embedded one for the run); on any "
        "broker the demo publishes and consumes only topics of its own run, "
        "sla-demo-<run id>.contracts/.outages/.incidents/.credits/.rejected with consumer "
        "group sla-demo-<run id>, never the production topics sla.* nor group sla-ledger",
    )
    return parser


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


# What each command does to the store; every other command only reads it. A reader opens
# the store read-only (a read-only copy is read as it is, never written); only `ingest`
# creates a store, so that any other command given a path with no store there (a typo,
# an empty file) says so instead of answering from a new, empty ledger.
STORE_ACCESS: dict[str, Access] = {"ingest": "create", "close": "write"}


def open_store(args: argparse.Namespace) -> LedgerStore:
    """The store the options name, opened as `args.command` needs it."""
    url = args.store or default_store_url()
    return LedgerStore(url, access=STORE_ACCESS.get(args.command, "read"))


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except InvalidInputError as exc:
        raise UsageError(f"--period: {exc}") from None


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
    from consumers.intake import STDIN

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
    from consumers.intake import STDIN

    return "stdin" if path == STDIN else path.name


def cmd_ingest(args: argparse.Namespace) -> int:
    from consumers.intake import ingest_file, input_name

    if args.bootstrap_servers and args.from_file is not None:
        raise UsageError("ingest: give either --from-file or --bootstrap-servers, not both")
    if args.bootstrap_servers:
        return ingest_kafka(args)
    if args.from_file is None:
        raise UsageError("ingest: give --from-file F.jsonl")
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
        print(render.to_json(summary.as_dict()))
    else:
        print(render.for_humans(summary.line()))
    if stop.signum is not None:  # it came during the final reconciliation, which finished
        raise interrupts.Interrupted(
            stop.signum,
            f"all of {input_name(path)} was recorded and closed periods were reconciled",
        )
    return 0


def ingest_kafka(args: argparse.Namespace) -> int:
    from consumers.kafka_intake import KafkaIngest, with_backoff

    settings = kafka_settings(args)
    for name in ("max_messages", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"ingest: --{name.replace('_', '-')} must be at least 1")
    show = args.progress if args.progress is not None else sys.stderr.isatty()
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
            )
            counts = ingest.run()
        finally:
            store.close()
    sys.stderr.write(interrupts.end_open_line())
    if args.format == "json":
        print(render.to_json(counts.as_dict()))
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
    from consumers.intake import input_name
    from consumers.publish import publish_file

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


def cmd_close(args: argparse.Namespace) -> int:
    from projections.credit_entries import close_period

    period = parse_period(args.period)
    store = open_store(args)
    try:
        outcome = close_period(store, period, datetime.now(UTC))
    finally:
        store.close()
    if args.format == "json":
        print(
            render.to_json(
                {
                    "period": outcome.period,
                    "closed_at": format_utc(outcome.closed_at),
                    "newly_closed": outcome.newly_closed,
                    "checkpoint": outcome.checkpoint,
                    "entries": [e.as_dict() for e in outcome.entries],
                }
            )
        )
    elif outcome.newly_closed:
        total = sum(e.amount for e in outcome.entries)
        print(
            f"closed {outcome.period} at {format_utc(outcome.closed_at)}: "
            f"{counted(len(outcome.entries), 'credit entry', 'credit entries')} issued"
            + (
                f" (sum {total})"
                if outcome.entries and len({e.currency for e in outcome.entries}) == 1
                else ""
            )
        )
        print(
            f"chain checkpoint {outcome.checkpoint}: keep a copy outside the database; "
            "`sla-ledger audit verify --checkpoint` it later to prove nothing before it changed"
        )
    else:
        print(
            f"{outcome.period} was already closed at {format_utc(outcome.closed_at)}; "
            + (
                f"reconciled it: {counted(len(outcome.entries), 'entry', 'entries')} appended"
                if outcome.entries
                else "its entries already match its rows: nothing to do"
            )
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    # Imported here: the SLA arithmetic is no other command's start-up cost.
    from consumers.report_rows import row_parts

    period = parse_period(args.period)
    as_of = as_of_instant(args.as_of)
    store = open_store(args)
    try:
        # Always only what was recorded by the moment asked about (now by default), so
        # that this output is exactly what `--as-of` that moment gives later.
        asked = moment(store, as_of, text=args.as_of)
        # One contract's rows read only its own subjects: the same rows as in the
        # whole period's report (see `load_subjects`).
        every_contract = args.contract is None
        contract_ids = (
            store.subject_ids("contract", to_us(asked)) if every_contract else [args.contract]
        )
        closed_at = store.closes(to_us(asked)).get(period.label)
    finally:
        store.close()  # the rows are read on connections of their own

    def parts(render_part: Callable[[list[dict[str, Any]]], Part]) -> list[Part]:
        """The rows' documents, rendered part by part where they are computed."""
        return row_parts(
            lambda: open_store(args),
            period,
            asked,
            contract_ids,
            closed_at,
            every_contract=every_contract,
            render_part=render_part,
        )

    if args.format == "json":
        rows = render.joined_json_lists(parts(render.to_json))
        print(render.to_json({"period": period.label, "as_of": format_utc(asked), "rows": rows}))
    elif args.format == "csv":
        # Each part in the fields of its first row; every row has the same (`Row.as_dict`).
        written = [part for part in parts(_csv_part) if part is not None]
        if len({tuple(fields) for fields, _ in written}) > 1:  # never so far
            documents = [document for part in parts(list) for document in part]
            sys.stdout.write(render.to_csv(documents, list(documents[0])))
        else:
            fields = written[0][0] if written else list(render.REPORT_CSV_HEADER_WITHOUT_ROWS)
            sys.stdout.write(render.to_csv([], fields) + "".join(text for _, text in written))
    else:
        cells = parts(_table_part)
        count = sum(len(part.rows) for part in cells)
        state = f"closed at {format_utc(closed_at)}" if closed_at else "provisional"
        print(
            render.for_humans(
                f"Period {period.label} ({state}), as of {format_utc(asked)}: "
                f"{counted(count, 'row')}"
            )
        )
        if count:
            print(render.table_of_cells(cells, render.REPORT_COLUMNS, render.REPORT_NUMERIC))
    return 0


def _csv_part(documents: list[dict[str, Any]]) -> tuple[list[str], str] | None:
    """The fields of the first of `documents` and the CSV lines of all of them in those
    fields; None for no document."""
    if not documents:
        return None
    fields = list(documents[0])
    return fields, render.csv_rows(documents, fields)


def _table_part(documents: list[dict[str, Any]]) -> render.TableCells:
    return render.table_cells(documents, render.REPORT_COLUMNS)


def cmd_credits(args: argparse.Namespace) -> int:
    if args.period is not None:
        parse_period(args.period)
    as_of = as_of_instant(args.as_of)
    store = open_store(args)
    try:
        entries = store.entries(
            period=args.period,
            contract_id=args.contract,
            recorded_by_us=to_us(moment(store, as_of, text=args.as_of)),
        )
    finally:
        store.close()
    docs = [e.as_dict() for e in entries]
    if args.format == "json":
        print(render.to_json({"entries": docs}))
    elif args.format == "csv":
        fields = list(docs[0]) if docs else [k for k, _ in render.ENTRY_COLUMNS]
        sys.stdout.write(render.to_csv(docs, fields))
    else:
        print(counted(len(docs), "credit entry", "credit entries"))
        if docs:
            print(render.to_table(docs, render.ENTRY_COLUMNS, render.ENTRY_NUMERIC))
    return 0


def cmd_rejections(args: argparse.Namespace) -> int:
    url = args.store or default_store_url()
    store = open_store(args)
    try:
        stored = store.rejections()
        resubmitted = store.resubmitted(stored) if args.export is None else set()
    finally:
        store.close()
    if args.export is not None:
        # The file is the output: the listing is what `rejections` without it shows.
        export_rejections(stored, args.export, url)
        return 0
    docs: list[dict[str, Any]] = []
    for r in stored:
        try:
            text: str | None = r.raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        docs.append(
            {
                "seq": r.seq,
                "rejection_id": r.rejection_id,
                "rejected_at": format_utc(r.rejected_at),
                "origin": r.origin,
                "field": r.field,
                "reason": r.reason,
                "event_id": r.event_id,
                "resubmitted": r.seq in resubmitted,
                "raw": text,
                "raw_base64": base64.b64encode(r.raw).decode("ascii"),
            }
        )
    if args.format == "json":
        print(render.to_json({"rejections": docs}))
    else:
        print(counted(len(docs), "rejected input"))
        if docs:
            table = [
                {
                    **d,
                    "origin": _origin_text(d["origin"]),
                    "reason": d["reason"] + (" [resubmitted]" if d["resubmitted"] else ""),
                }
                for d in docs
            ]
            print(render.to_table(table, render.REJECTION_COLUMNS, frozenset({"seq"})))
    return 0


def export_rejections(stored: Sequence[StoredRejection], path: Path, url: str) -> None:
    """Write the raw inputs, one per line, to a new file (or standard output for `-`),
    then say on stderr how to ingest them again, as a command that runs as printed.

    The file is created, never overwritten: `rejections` only reads, and an existing
    path (the store itself, a previous export) is refused untouched.
    """
    from consumers.intake import STDIN

    lines = b"".join(r.raw.replace(b"\n", b" ") + b"\n" for r in stored)
    if path == STDIN:
        sys.stdout.buffer.write(lines)
        sys.stdout.flush()
        where, source = "standard output", "-"
    else:
        try:
            with path.open("xb") as handle:
                handle.write(lines)
        except FileExistsError:
            raise UsageError(
                f"rejections: --export {path} already exists: give a new file name "
                "(rejections never overwrites a file)"
            ) from None
        except OSError as exc:
            raise UsageError(f"rejections: cannot write --export {path}: {exc.strerror}") from None
        where, source = str(path), str(path)
    again = command_line("ingest", "--store", redact(url), "--from-file", source)
    print(
        render.for_humans(
            f"wrote {counted(len(stored), 'rejected input')} to {where}: fix "
            f"{'it' if len(stored) == 1 else 'them'}, then `{again}`"
        ),
        file=sys.stderr,
    )


def _origin_text(origin: dict[str, Any]) -> str:
    if "topic" in origin:
        return f"{origin['topic']}[{origin.get('partition')}]@{origin.get('offset')}"
    return f"{origin.get('file')}:{origin.get('line')}"


def cmd_incidents(args: argparse.Namespace) -> int:
    from projections.incident_placement import incident_placements

    if args.period is not None:
        parse_period(args.period)
    store = open_store(args)
    try:
        placements = incident_placements(store, datetime.now(UTC))
    finally:
        store.close()
    docs = [
        p.as_dict()
        for p in placements
        if (not args.unplaced or p.unplaced_reason is not None)
        and (args.period is None or p.period == args.period)
    ]
    if args.format == "json":
        print(render.to_json({"incidents": docs}))
        return 0
    print(
        counted(len(docs), "incident")
        + (
            (" that counts" if len(docs) == 1 else " that count") + " on no row"
            if args.unplaced
            else ""
        )
    )
    if docs:
        print(render.to_table(docs, render.INCIDENT_COLUMNS))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from consumers.demo import run_demo

    return run_demo(args.dir, args.store, args.bootstrap_servers, force=args.force)


# Commands that read one bounded question's records (a period, a contract, the entries)
# into memory, answer it and exit. The cyclic garbage collector would walk their
# millions of live objects (parsed envelopes, folded subjects, rows) again and again as
# they pile up, and find no garbage: a third of a 30,000-row report went there. Their
# garbage is acyclic and freed as ever, by reference counting. The audits page through
# the whole store and ingest runs for hours: those keep the collector.
WITHOUT_CYCLE_COLLECTION = frozenset({"report", "credits", "explain", "diff", "incidents"})

COMMANDS = {
    "ingest": cmd_ingest,
    "publish": cmd_publish,
    "close": cmd_close,
    "report": cmd_report,
    "credits": cmd_credits,
    "rejections": cmd_rejections,
    "incidents": cmd_incidents,
    "demo": cmd_demo,
    "explain": cli_explain.run,
    "audit": cli_audit.run,
    "diff": cli_diff.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        # SIGINT and SIGTERM end any command with one line and 128 + n, never a traceback
        # or a death by signal; work with a thread in the store defers them instead
        # (`interrupts.deferred`), to stop at a safe point. Run as the command line
        # (argv None), the process exits next: the signals stay ignored until it has.
        with interrupts.raising(then_ignore=argv is None):
            args = parse_arguments(build_parser(), argv)
            paused = args.command in WITHOUT_CYCLE_COLLECTION and gc.isenabled()
            if paused:
                gc.disable()
            try:
                return COMMANDS[args.command](args)
            finally:
                if paused:  # main() called in a process that goes on (tests)
                    gc.enable()
    except UsageError as exc:
        say(f"error: {exc}")
        return EXIT_USAGE
    except LedgerError as exc:
        say(f"error: {exc}")
        return EXIT_FAILURE
    except interrupts.Interrupted as exc:
        say(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:  # SIGINT where no handler could be installed (not the main thread)
        say("interrupted by SIGINT")
        return interrupts.exit_code(signal.SIGINT)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not a user error: still one line, traceback on request
        if os.environ.get("SLA_LEDGER_DEBUG"):
            raise
        say(
            f"internal error: {type(exc).__name__}: {exc} "
            "(set SLA_LEDGER_DEBUG=1 for the traceback, and please report it)"
        )
        return EXIT_FAILURE
