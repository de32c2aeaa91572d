"""`sla-ledger close`: close a period and issue its credit entries, a permanent change
to the store (a later correction posts a reversal and a re-issue)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from consumers.cli.common import open_store, parse_period
from consumers.cli.options import format_option, period_option
from ledger.timeformat import format_utc
from ledger.wording import counted


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
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


def cmd_close(args: argparse.Namespace) -> int:
    from projections.credit_entries import close_period
    from projections.queries.close import close_json

    period = parse_period(args.period)
    store = open_store(args)
    try:
        outcome = close_period(store, period, datetime.now(UTC))
    finally:
        store.close()
    if args.format == "json":
        print(close_json(outcome))
    elif outcome.newly_closed:
        total = sum(e.amount_major for e in outcome.entries)
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
