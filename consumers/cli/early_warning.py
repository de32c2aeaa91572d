"""`sla-ledger exposure` and `alerts`: the early warning (sla-math §8), read.

What each document holds is decided in the query layer (`projections.queries.exposure`
and `alerts`); here are only the options and the tables.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from consumers import render
from consumers.cli.common import READS_ONLY, as_of_instant, open_store, optional_period
from consumers.cli.options import as_of_option, contract_option, format_option
from ledger.timeformat import format_utc
from ledger.wording import counted


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    exposure = sub.add_parser(
        "exposure",
        parents=[common],
        help="the provisional rows of a period, most exposed first, with their deadlines",
        description="Show the provisional rows of a period, most exposed first (error budget "
        "consumed, then credit at risk), with the downtime each can still take before its "
        "next credit tier, what that tier would cost, and each pending incident's response "
        "deadline" + READS_ONLY,
    )
    exposure.add_argument(
        "--period",
        metavar="YYYY-MM",
        help="the period to show (YYYY-MM, a calendar month in each contract's own "
        "timezone); default: the calendar month, in UTC, of the moment asked about",
    )
    contract_option(exposure)
    as_of_option(exposure)
    format_option(exposure, ["table", "json", "csv"], "table")


def cmd_exposure(args: argparse.Namespace) -> int:
    from projections.queries.exposure import exposure, exposure_csv, exposure_json

    answer = exposure(
        lambda: open_store(args),
        optional_period(args.period),
        as_of_instant(args.as_of),
        args.contract,
        typed=args.as_of,
        fork=True,
    )
    if args.format == "json":
        print(exposure_json(answer))
        return 0
    if args.format == "csv":
        sys.stdout.write(exposure_csv(answer))
        return 0
    label, moment = answer.period.label, format_utc(answer.as_of)
    if answer.closed_at is not None:
        print(
            render.for_humans(
                f"Period {label} was closed at {format_utc(answer.closed_at)}: its rows are "
                f"final, none is exposed any more (see `report --period {label}`)"
            )
        )
        return 0
    count = len(answer.rows)
    print(
        render.for_humans(
            f"Period {label} (provisional), as of {moment}: "
            f"{counted(count, 'provisional row')}, most exposed first"
        )
    )
    if count:
        table = [{**row, "pending": len(row["pending_incidents"])} for row in answer.rows]
        print(render.to_table(table, render.EXPOSURE_COLUMNS, render.EXPOSURE_NUMERIC))
        deadlines = [(pending, row) for row in answer.rows for pending in row["pending_incidents"]]
        if deadlines:
            deadlines.sort(key=lambda found: (found[0]["respond_by"], found[0]["incident_id"]))
            print()
            print(counted(len(deadlines), "pending incident") + ", earliest deadline first:")
            print(
                render.to_table(
                    [
                        {
                            **pending,
                            "contract_id": row["contract_id"],
                            "service_id": row["service_id"],
                        }
                        for pending, row in deadlines
                    ],
                    render.DEADLINE_COLUMNS,
                    frozenset({"target_seconds"}),
                )
            )
    return 0
