"""The options several subcommands share, each with its help text in one place.

Every subcommand's `--help` opens with one sentence on what it does and what it changes,
and every option says its format and its default: a user should never have to read the
code (or the README) to learn that `--as-of` also takes a date, or which store a command
opens when `--store` is left out. `tests/integration/test_cli_help.py` walks every parser
and fails on an option without help.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from projections.queries.as_of import INSTANT_FORMS
from projections.store import DEFAULT_SQLITE_PATH

STORE_ENV = "SLA_LEDGER_STORE"

# The URL forms as a user types them. A SQLite path follows the three slashes of
# `sqlite:///`, so an absolute path adds its own: four in all.
STORE_FORMS = (
    "sqlite:///rel/path.db (a path relative to the current directory: three slashes), "
    "sqlite:////abs/path.db (an absolute path: four slashes), or "
    "postgresql://user:pass@host:port/db (a unix-socket host as ?host=/dir)"
)
STORE_HELP = (
    f"where the ledger is: {STORE_FORMS}; default ${STORE_ENV}, "
    f"else sqlite:///{DEFAULT_SQLITE_PATH}"
)

PERIOD_FORM = (
    "YYYY-MM, a calendar month, or YYYY, a calendar year (its annual rows), in each "
    "contract's own timezone"
)


def store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=None, metavar="URL", help=STORE_HELP)


def period_option(parser: argparse.ArgumentParser, *, required: bool, meaning: str) -> None:
    parser.add_argument(
        "--period",
        required=required,
        metavar="PERIOD",
        help=f"{meaning} ({PERIOD_FORM})" + ("" if required else "; default: every period"),
    )


def as_of_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        metavar="T",
        help=f"answer as the ledger did at T: {INSTANT_FORMS}; only what was recorded by T "
        "counts, and T is the horizon (default: now)",
    )


def identifier(text: str) -> str:
    """The argparse type of an id a user names (a contract, a service): text as typed.
    Bytes that are not UTF-8 arrive as unpaired surrogates, which no id the ledger keeps
    can hold (`ledger.inbound` refuses them) and which no store can take in a query: they
    once ended a read in an internal error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        typed = text.encode("utf-8", "surrogateescape")
        raise argparse.ArgumentTypeError(
            f"{typed!r} is not UTF-8 text, so no id matches it: type the id as the events name it"
        ) from None
    return text


def contract_option(parser: argparse.ArgumentParser, what: str = "rows") -> None:
    parser.add_argument(
        "--contract",
        type=identifier,
        metavar="ID",
        help=f"only this contract's {what} (default: every contract)",
    )


def format_option(
    parser: argparse.ArgumentParser, choices: Sequence[str], default: str, what: str = "output"
) -> None:
    named = ", ".join(choices[:-1]) + f" or {choices[-1]}"
    parser.add_argument(
        "--format",
        choices=list(choices),
        default=default,
        help=f"{what} as {named} (default %(default)s)",
    )


MAX_SECONDS = 365 * 24 * 3600.0


def seconds(text: str) -> float:
    """The argparse type of every option in seconds: a finite number from 0 to a year.
    NaN, infinity and negatives were once taken, and meant "retry for ever"."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from 0 to {MAX_SECONDS:,.0f} (a year)"
        )
    return value
