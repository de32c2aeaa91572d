"""`sla-ledger explain`: the full derivation of one row.

The derivation is built once (`projections.queries.explain.query`) as a JSON-ready
document; `--format json` prints it as is and the text form is rendered from that same
document, so the two can never tell different stories. The text is for people who know
SLA contracts but not this code: plain sentences, exact numbers, and after each fact
the events it comes from (`explain_text`).
"""

from __future__ import annotations

import argparse
from typing import Any

from consumers.cli.common import READS_ONLY, as_of_instant, open_store, parse_period
from consumers.cli.options import as_of_option, format_option, identifier, period_option


def add_parser(sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    explain = sub.add_parser(
        "explain",
        parents=[common],
        help="the full derivation of one row, every fact with its event ids",
        description="Show the full derivation of one row (contract, service, period): every "
        "fact with the event ids it comes from, and each entry's basis_sha256 recomputed"
        + READS_ONLY,
    )
    explain.add_argument(
        "--contract", required=True, type=identifier, metavar="ID", help="the row's contract id"
    )
    explain.add_argument(
        "--service", required=True, type=identifier, metavar="ID", help="the row's service id"
    )
    period_option(explain, required=True, meaning="the row's period")
    as_of_option(explain)
    format_option(explain, ["text", "json"], "text")


def run(args: argparse.Namespace) -> int:
    # Imported here: the derivation and its text are no other command's start-up cost.
    from consumers.cli.explain_text import render_text
    from projections.queries.explain.query import explanation, explanation_json

    period = parse_period(args.period)
    asked = as_of_instant(args.as_of)
    with open_store(args) as store:
        answer = explanation(store, args.contract, args.service, period, asked, typed=args.as_of)
    print(explanation_json(answer) if args.format == "json" else render_text(answer.document))
    return 0
