"""`sla-ledger report`, `credits`, `rejections` and `incidents`: the reading commands
that answer with a table for people or the query's own document (JSON, CSV).

What each document holds is decided in the query layer (`projections.queries`); here
are only the options and the tables.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consumers import render
from consumers.cli.common import (
    READS_ONLY,
    as_of_instant,
    open_store,
    optional_period,
    parse_period,
    print_answer,
    store_url,
)
from consumers.cli.options import as_of_option, contract_option, format_option, period_option
from consumers.errors import UsageError
from consumers.shell_commands import command_line
from ledger.events import Origin
from ledger.timeformat import format_utc
from ledger.wording import counted
from projections.queries.rejections import Rejections, raw_lines, rejections, rejections_json
from projections.store import redact

if TYPE_CHECKING:
    from projections.queries.report import Document, Part, Report

# Not imported above: the queries that compute rows (the SLA arithmetic); each command
# imports its own when it runs, so that no command pays for another's at start-up.


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    report = sub.add_parser(
        "report",
        parents=[common],
        help="attainment and credit for each row of a period",
        description="Show attainment and credit for each contract and service of a period"
        + READS_ONLY,
    )
    period_option(report, required=True, meaning="the period to report")
    contract_option(report)
    as_of_option(report)
    format_option(report, ["table", "json", "csv"], "table")

    credits = sub.add_parser(
        "credits",
        parents=[common],
        help="the credit entries, in the order they were recorded",
        description="List the credit entries (issues and reversals) in the order they were "
        "recorded" + READS_ONLY,
    )
    period_option(credits, required=False, meaning="only the entries of this period")
    contract_option(credits, "entries")
    as_of_option(credits)
    format_option(credits, ["table", "json", "csv"], "table")

    rejections = sub.add_parser(
        "rejections",
        parents=[common],
        help="every rejected input, with its origin and reason",
        description="List every rejected input with its origin and reason, or export the raw "
        "inputs to fix and ingest again; changes nothing in the store (--export writes "
        "FILE).",
    )
    format_option(rejections, ["table", "json"], "table")
    rejections.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="write the rejected raw inputs, one per line, to FILE, a new file (an "
        "existing one is refused, never overwritten), or - for standard output: fix them "
        "there and `ingest --from-file FILE` again",
    )

    incidents = sub.add_parser(
        "incidents",
        parents=[common],
        help="incidents with their row, priority, status, or why they count nowhere",
        description="List each incident with the row it counts on, the priority used and "
        "its status (met, missed or pending), or the reason it counts on no row yet" + READS_ONLY,
    )
    incidents.add_argument(
        "--unplaced",
        action="store_true",
        help="only incidents that count on no row, with the reason",
    )
    period_option(incidents, required=False, meaning="only the incidents of this period")
    as_of_option(incidents)
    format_option(incidents, ["table", "json"], "table")


def cmd_report(args: argparse.Namespace) -> int:
    from projections.queries.report import report_csv, report_json, rows_csv, rows_json

    if args.format == "json":
        print(report_json(_report(args, rows_json)))
    elif args.format == "csv":
        sys.stdout.write(report_csv(_report(args, rows_csv)))
    else:
        answer = _report(args, _table_part)
        count = sum(len(part.rows) for part in answer.parts)
        state = f"closed at {format_utc(answer.closed_at)}" if answer.closed_at else "provisional"
        print(
            render.for_humans(
                f"Period {answer.period.label} ({state}), as of {format_utc(answer.as_of)}: "
                f"{counted(count, 'row')}"
            )
        )
        if count:
            print(render.table_of_cells(answer.parts, render.REPORT_COLUMNS, render.REPORT_NUMERIC))
    return 0


def _report(
    args: argparse.Namespace, render_part: Callable[[list[Document]], Part]
) -> Report[Part]:
    """The report the options ask for, each part rendered by `render_part`, in a forked
    child too where that pays (this process holds nothing else)."""
    from projections.queries.report import report

    period = parse_period(args.period)
    asked = as_of_instant(args.as_of)
    return report(
        lambda: open_store(args),
        period,
        asked,
        args.contract,
        render_part=render_part,
        typed=args.as_of,
        fork=True,
    )


def _table_part(documents: list[Document]) -> render.TableCells:
    return render.table_cells(documents, render.REPORT_COLUMNS)


def cmd_credits(args: argparse.Namespace) -> int:
    from projections.queries.credits import credits, credits_csv, credits_json

    period = optional_period(args.period)
    asked = as_of_instant(args.as_of)
    with open_store(args) as store:
        answer = credits(store, period, args.contract, asked, typed=args.as_of)

    def table() -> str:
        docs = answer.documents()
        lines = [counted(len(docs), "credit entry", "credit entries")]
        if docs:
            lines.append(render.to_table(docs, render.ENTRY_COLUMNS, render.ENTRY_NUMERIC))
        return "\n".join(lines)

    return print_answer(
        args.format,
        json=lambda: credits_json(answer),
        csv=lambda: credits_csv(answer),
        table=table,
    )


def cmd_rejections(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        answer = rejections(store, with_resubmitted=args.export is None)
    if args.export is not None:
        # The file is the output: the listing is what `rejections` without it shows.
        export_rejections(answer, args.export, store_url(args))
        return 0
    if args.format == "json":
        print(rejections_json(answer))
        return 0
    docs = answer.documents()
    print(counted(len(docs), "rejected input"))
    if docs:
        table = [
            {
                **d,
                "origin": Origin.from_dict(d["origin"]).describe(),
                "reason": d["reason"] + (" [resubmitted]" if d["resubmitted"] else ""),
            }
            for d in docs
        ]
        print(render.to_table(table, render.REJECTION_COLUMNS, frozenset({"seq"})))
    return 0


def export_rejections(answer: Rejections, path: Path, url: str) -> None:
    """Write the raw inputs, one per line, to a new file (or standard output for `-`),
    then say on stderr how to ingest them again, as a command that runs as printed.

    The file is created, never overwritten: `rejections` only reads, and an existing
    path (the store itself, a previous export) is refused untouched.
    """
    from consumers.intake.input_lines import STDIN

    lines = raw_lines(answer)
    count = len(answer.stored)
    if path == STDIN:
        sys.stdout.buffer.write(lines)
        sys.stdout.flush()
        where, source = "standard output", "-"
    else:
        try:
            with path.open("xb") as handle:
                handle.write(lines)
        except FileExistsError:
            raise UsageError(
                f"rejections: --export {path} already exists: give a new file name "
                "(rejections never overwrites a file)"
            ) from None
        except OSError as exc:
            raise UsageError(f"rejections: cannot write --export {path}: {exc.strerror}") from None
        where, source = str(path), str(path)
    again = command_line("ingest", "--store", redact(url), "--from-file", source)
    print(
        render.for_humans(
            f"wrote {counted(count, 'rejected input')} to {where}: fix "
            f"{'it' if count == 1 else 'them'}, then `{again}`"
        ),
        file=sys.stderr,
    )


def cmd_incidents(args: argparse.Namespace) -> int:
    from projections.queries.incidents import incidents, incidents_json

    period = optional_period(args.period)
    asked = as_of_instant(args.as_of)
    with open_store(args) as store:
        answer = incidents(
            store, period, unplaced_only=args.unplaced, asked=asked, typed=args.as_of
        )
    if args.format == "json":
        print(incidents_json(answer))
        return 0
    docs = [p.as_dict() for p in answer.placements]
    print(
        counted(len(docs), "incident")
        + (
            (" that counts" if len(docs) == 1 else " that count") + " on no row"
            if args.unplaced
            else ""
        )
    )
    if docs:
        print(render.to_table(docs, render.INCIDENT_COLUMNS))
    return 0
