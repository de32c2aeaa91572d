"""`sla-ledger explain`: the full derivation of one row.

The derivation is built once (`projections.explanation.explain`) as a JSON-ready
document; `--format json` prints it as is and the text form is rendered from that same
document, so the two can never tell different stories. The text is for people who know
SLA contracts but not this code: plain sentences, exact numbers, and after each fact
the events it comes from (`explain_text`).
"""

from __future__ import annotations

import argparse
from typing import Any

from consumers import render
from consumers.cli_options import as_of_option, format_option, period_option


def add_parser(sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    explain = sub.add_parser(
        "explain",
        parents=[common],
        help="the full derivation of one row, every fact with its event ids",
        description="Show the full derivation of one row (contract, service, period): every "
        "fact with the event ids it comes from, and each entry's basis_sha256 recomputed; "
        "changes nothing (it only reads the store).",
    )
    explain.add_argument("--contract", required=True, metavar="ID", help="the row's contract id")
    explain.add_argument("--service", required=True, metavar="ID", help="the row's service id")
    period_option(explain, required=True, meaning="the row's period")
    as_of_option(explain)
    format_option(explain, ["text", "json"], "text")


def run(args: argparse.Namespace) -> int:
    # Imported here: consumers.cli imports this module to wire the subcommand (and the
    # SLA arithmetic the derivation needs is no other command's start-up cost).
    from consumers.cli import as_of_instant, moment, open_store, parse_period
    from consumers.explain_text import render_text
    from projections.explanation import explain

    period = parse_period(args.period)
    asked = as_of_instant(args.as_of)
    store = open_store(args)
    try:
        as_of = moment(store, asked, text=args.as_of)
        document = explain(store, args.contract, args.service, period, as_of)
    finally:
        store.close()
    print(render.to_json(document) if args.format == "json" else render_text(document))
    return 0
