"""`sla-ledger`: the parser and the dispatch of the command line of outputs.md.

Every failure the user can cause or fix (bad option, bad file, unreachable store, period
not ended) ends as one line on stderr and a non-zero exit, never a traceback. Rejected
inputs are an outcome, not a failure: they are counted, kept, and the exit is 0. Each
command's options and run are in its own module; this one only assembles them.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from consumers import interrupts
from consumers.cli import (
    audit,
    claims,
    close,
    demo,
    diff,
    early_warning,
    explain,
    ingest,
    reports,
    serve,
    webhooks,
)
from consumers.cli.common import EXIT_FAILURE, EXIT_USAGE, say
from consumers.cli.options import STORE_ENV, STORE_FORMS, store_option
from consumers.errors import UsageError
from ledger.errors import LedgerError
from projections.queries.as_of import MomentRefusedError
from projections.store import DEFAULT_SQLITE_PATH


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

    ingest.add_parsers(sub, common)
    close.add_parser(sub, common)
    reports.add_parsers(sub, common)
    early_warning.add_parsers(sub, common)
    claims.add_parser(sub, common)
    explain.add_parser(sub, common)
    audit.add_parser(sub, common)
    diff.add_parser(sub, common)
    serve.add_parsers(sub, common)
    webhooks.add_parser(sub, common)
    demo.add_parser(sub)
    return parser


# Commands that read one bounded question's records (a period, a contract, the entries)
# into memory, answer it and exit. The cyclic garbage collector would walk their
# millions of live objects (parsed envelopes, folded subjects, rows) again and again as
# they pile up, and find no garbage: a third of a 30,000-row report went there. Their
# garbage is acyclic and freed as ever, by reference counting. The audits page through
# the whole store and ingest runs for hours: those keep the collector.
WITHOUT_CYCLE_COLLECTION = frozenset(
    {"report", "credits", "explain", "diff", "incidents", "exposure", "alerts", "claims"}
)

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ingest": ingest.cmd_ingest,
    "publish": ingest.cmd_publish,
    "close": close.cmd_close,
    "report": reports.cmd_report,
    "credits": reports.cmd_credits,
    "rejections": reports.cmd_rejections,
    "incidents": reports.cmd_incidents,
    "exposure": early_warning.cmd_exposure,
    "alerts": early_warning.cmd_alerts,
    "claims": claims.cmd_claims,
    "demo": demo.cmd_demo,
    "explain": explain.run,
    "audit": audit.run,
    "diff": diff.run,
    "serve": serve.cmd_serve,
    "keys": serve.cmd_keys,
    "webhooks": webhooks.run,
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
    except (UsageError, MomentRefusedError) as exc:  # the asker's to change
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
