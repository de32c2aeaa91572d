"""`sla-ledger exposure` and `alerts`: the early warning (sla-math §8), read.

What each document holds is decided in the query layer (`projections.queries.exposure`
and `alerts`); here are only the options and the tables.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from consumers import render
from consumers.cli.common import (
    READS_ONLY,
    as_of_instant,
    open_store,
    optional_period,
    print_answer,
)
from consumers.cli.options import (
    PERIOD_FORM,
    as_of_option,
    contract_option,
    format_option,
    period_option,
)
from ledger.timeformat import format_utc
from ledger.wording import counted
from projections.queries.as_of import INSTANT_FORMS


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
        metavar="PERIOD",
        help=f"the period to show ({PERIOD_FORM}); default: the calendar month, in UTC, "
        "of the moment asked about",
    )
    contract_option(exposure)
    as_of_option(exposure)
    format_option(exposure, ["table", "json", "csv"], "table")

    alerts = sub.add_parser(
        "alerts",
        parents=[common],
        help="the alerts raised, in the order they were recorded",
        description="List the alerts raised (error budget used at 50, 75, 90 and 100%, a "
        "projected tier crossed, an incident's response missed), each once, in the order "
        "they were recorded" + READS_ONLY,
    )
    period_option(alerts, required=False, meaning="only the alerts of this period")
    contract_option(alerts, "alerts")
    alerts.add_argument(
        "--since",
        metavar="T",
        help=f"only the alerts recorded at or after T: {INSTANT_FORMS} (default: all)",
    )
    as_of_option(alerts)
    format_option(alerts, ["table", "json", "csv"], "table")


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
        print(render.exposure_tables(answer.rows))
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from projections.queries.alerts import AlertFilter, alerts, alerts_csv, alerts_json

    filters = AlertFilter(
        period=optional_period(args.period),
        contract_id=args.contract,
        since=as_of_instant(args.since, "--since"),
    )
    asked = as_of_instant(args.as_of)
    with open_store(args) as store:
        answer = alerts(store, filters, asked, typed=args.as_of)
    return print_answer(
        args.format,
        json=lambda: alerts_json(answer),
        csv=lambda: alerts_csv(answer),
        table=lambda: render.alerts_table(answer.documents()),
    )
