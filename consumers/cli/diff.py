"""`sla-ledger diff --period P --from T1 --to T2`: what changed between two moments and
which recorded events caused it ("what we told finance on 5 April versus now, and why")."""

from __future__ import annotations

import argparse
from typing import Any

from consumers import render
from consumers.cli.common import READS_ONLY, as_of_instant, open_store, parse_period
from consumers.cli.options import contract_option, format_option, period_option
from consumers.errors import UsageError
from ledger.wording import counted
from projections.queries.as_of import INSTANT_FORMS, MomentsReversedError


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    diff = sub.add_parser(
        "diff",
        parents=[common],
        help="what changed in a period's rows between two moments, and which events caused it",
        description="Show what changed in each row of a period between two moments, what "
        "finance was told, and which recorded events caused it" + READS_ONLY,
    )
    period_option(diff, required=True, meaning="the period to compare")
    diff.add_argument(
        "--from",
        dest="t1",
        required=True,
        metavar="T1",
        help=f"the earlier moment: {INSTANT_FORMS}",
    )
    diff.add_argument(
        "--to",
        dest="t2",
        metavar="T2",
        help="the later moment, in the same forms (default: now)",
    )
    contract_option(diff)
    format_option(diff, ["text", "json"], "text")


def run(args: argparse.Namespace) -> int:
    # Imported here: the SLA arithmetic is no other command's start-up cost.
    from projections.queries.diff import Moment, diff, diff_document, diff_json

    period = parse_period(args.period)
    first = Moment(as_of_instant(args.t1, "--from"), "--from", args.t1)
    last = Moment(as_of_instant(args.t2, "--to"), "--to", args.t2)
    with open_store(args) as store:
        try:
            result = diff(store, period, first, last, args.contract)
        except MomentsReversedError as exc:
            raise UsageError(f"diff: {exc}") from None
    print(diff_json(result) if args.format == "json" else _text(diff_document(result)))
    return 0


def _text(document: dict[str, Any]) -> str:
    lines = [
        f"Period {document['period']}: as of {document['from']} versus as of {document['to']}",
        _status(document),
        f"{counted(document['rows_changed'], 'row')} changed",
    ]
    for row in document["rows"]:
        lines.append("")
        lines.append(f"{row['contract_id']} / {row['service_id']} ({row['change']})")
        for name, change in row["fields"].items():
            lines.append(f"  {name}: {_show(change['from'])} -> {_show(change['to'])}")
        booked = row["booked_amount"]
        if booked["from"] != booked["to"] or row["entries_recorded"]:
            lines.append(f"  told finance: {booked['from']} -> {booked['to']} booked")
            for entry in row["entries_recorded"]:
                lines.append(
                    f"    {entry['recorded_at']} {entry['kind']} r{entry['revision']} "
                    f"{entry['amount']} {entry['currency']} (entry {entry['entry_id']})"
                )
        if row["caused_by_close"]:
            lines.append(f"  the period was closed at {row['caused_by_close']} (the status)")
        if row["caused_by_events"]:
            lines.append("  because these events were recorded in between:")
            for event in row["caused_by_events"]:
                lines.append(
                    f"    {event['recorded_at']} {event['type']} {event['subject_id']} "
                    f"(occurred {event['occurred_at']}, event {event['event_id']})"
                )
        elif row["caused_by_horizon"]:
            lines.append(
                "  no event was recorded in between: the change comes from time passing "
                "(an ongoing outage, a pending incident or provisional figures)"
            )
    return render.lines(lines)


def _status(document: dict[str, Any]) -> str:
    """The period's status: `from -> to` only when it changed, else said to be unchanged
    (a field that did not change is never shown as a change)."""
    status = document["status"]
    closed = f" (closed at {document['closed_at']})" if document["closed_at"] else ""
    if status["from"] == status["to"]:
        return f"status: {status['to']}{closed}, unchanged"
    return f"status: {status['from']} -> {status['to']}{closed}"


def _show(value: Any) -> str:
    """As the JSON form shows it: null, true, false, or the exact text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
