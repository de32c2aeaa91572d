"""What every command module shares: the one-line message on stderr,
and reading the options every command has (the store, the period, a moment).

Every failure the user can cause or fix (bad option, bad file, unreachable store, period
not ended) ends as one line on stderr and a non-zero exit, never a traceback (`main`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import datetime

from consumers import interrupts, render
from consumers.cli.options import STORE_ENV
from consumers.errors import UsageError
from ledger.errors import InvalidInputError
from ledger.periods import Period
from projections.queries import as_of, store_access
from projections.store import DEFAULT_SQLITE_PATH, LedgerStore, sqlite_url

EXIT_FAILURE = 1
EXIT_USAGE = 2

# Ends every description of a command that only reads.
READS_ONLY = "; changes nothing (it only reads the store)."


def say(line: str) -> None:
    """`sla-ledger: LINE` on stderr, on a line of its own (after a progress line)."""
    print(
        f"{interrupts.end_open_line()}sla-ledger: {render.for_humans(line)}",
        file=sys.stderr,
        flush=True,
    )


def default_store_url() -> str:
    return os.environ.get(STORE_ENV) or sqlite_url(DEFAULT_SQLITE_PATH)


def store_url(args: argparse.Namespace) -> str:
    """The store the options name: `--store`, else $SLA_LEDGER_STORE, else the default."""
    return str(args.store or default_store_url())


def open_store(args: argparse.Namespace) -> LedgerStore:
    """The store the options name, opened as `args.command` needs it."""
    return store_access.open_store(store_url(args), args.command)


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except InvalidInputError as exc:
        raise UsageError(f"--period: {exc}") from None


def optional_period(text: str | None) -> Period | None:
    return None if text is None else parse_period(text)


def as_of_instant(text: str | None, option: str = "--as-of") -> datetime | None:
    """The moment `option` gives (`as_of.parse_moment`), or None if it was left out."""
    if text is None:
        return None
    try:
        return as_of.parse_moment(text)
    except InvalidInputError as exc:
        raise UsageError(f"{option} {exc}") from None


def print_answer(
    form: str, *, json: Callable[[], str], csv: Callable[[], str], table: Callable[[], str]
) -> int:
    """Print an answer in the `--format` asked (`json`, `csv` or `table`), each form made
    only when asked: JSON and the table end with a newline; the CSV's text carries its
    own line ends. The command's exit status: 0."""
    if form == "csv":
        sys.stdout.write(csv())
    else:
        print(json() if form == "json" else table())
    return 0
