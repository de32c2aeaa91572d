"""`sla-ledger claims`: every claim with its row, status, deadline and decision
(sla-math §10, outputs.md "Additions").

What each document holds is decided in the query layer (`projections.queries.claims`);
here are only the options and the table.
"""

from __future__ import annotations

import argparse
from typing import Any

from consumers import render
from consumers.cli.common import (
    READS_ONLY,
    as_of_instant,
    open_store,
    optional_period,
    print_answer,
)
from consumers.cli.options import as_of_option, contract_option, format_option, period_option


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    claims = sub.add_parser(
        "claims",
        parents=[common],
        help="every claim with its row, the row's claim status and deadline, and its decision",
        description="List every credit claim with the row it names, whether it counts "
        "(not withdrawn, not denied, submitted before the deadline), the row's claim "
        "status (claimed, denied, expired or unclaimed) and deadline, in UTC and the "
        "contract's local time, the latest decision and the amount payable" + READS_ONLY,
    )
    period_option(claims, required=False, meaning="only the claims naming this period")
    contract_option(claims, "claims")
    as_of_option(claims)
    format_option(claims, ["table", "json", "csv"], "table")


def cmd_claims(args: argparse.Namespace) -> int:
    from projections.queries.claims import ClaimFilter, claims, claims_csv, claims_json

    period = optional_period(args.period)
    filters = ClaimFilter(None if period is None else period.label, args.contract)
    asked = as_of_instant(args.as_of)
    with open_store(args) as store:
        answer = claims(store, filters, asked, typed=args.as_of)
    return print_answer(
        args.format,
        json=lambda: claims_json(answer),
        csv=lambda: claims_csv(answer),
        table=lambda: render.claims_table(answer.claims),
    )
