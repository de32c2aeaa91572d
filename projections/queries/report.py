"""`report`: attainment and credit for each row of a period, as of a moment.

Only what was recorded by the moment asked about (now by default) counts, with that
moment as horizon, so that the answer now is exactly what asking "as of" this moment
gives later. The rows are computed part by part (`report_rows`) and each part is
rendered where it is computed: `Report` holds the rendered parts, and the serialisers
below are the two halves of each format, one for a part's rows and one for the
document around them. The audit bundle's `report.json` is `report_json` too, so it is
the command line's `report --format json` to the byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from ledger.attainment import Row
from ledger.periods import Period, from_us, to_us
from ledger.timeformat import format_utc
from projections.queries import as_of
from projections.queries.encoding import csv_rows, joined_json_lists, to_csv, to_json
from projections.queries.report_rows import Source, reading, row_parts

Document = dict[str, Any]
Part = TypeVar("Part")
# A part's rows as CSV: the fields (those of its first row) and the lines in them; None
# for a part without rows.
CsvPart = tuple[list[str], str] | None

# The header `report --format csv` has always printed when there is no row. It is not
# the table's columns (those may grow) and, unlike a CSV with rows, not every field:
# kept as it was because the CSV is a public interface (outputs.md).
REPORT_CSV_HEADER_WITHOUT_ROWS = (
    "contract_id",
    "service_id",
    "status",
    "terms_version",
    "measured_seconds",
    "downtime_seconds",
    "availability_percent",
    "availability_target_percent",
    "incidents_missed",
    "response_attainment_percent",
    "credit_percent",
    "fee_basis",
    "credit_amount",
    "currency",
    "remedy",
)


@dataclass(frozen=True)
class Report(Generic[Part]):
    period: Period
    as_of: datetime
    chain_position: int  # what the ledger knew at `as_of`: its chain up to here
    closed_at: datetime | None  # the period's close recorded by `as_of`, if any
    # The rows' documents (`Row.as_dict`), rendered part by part: the parts in order are
    # the rows in report order (by contract, then service). A part may have no row.
    parts: list[Part]
    # When the earliest row changes with time alone (None: only a new record changes
    # them, or not known): as of any moment before it with the same records, the rows
    # are these (`as_of_later`).
    changes_at: datetime | None = None


def report(
    source: Source,
    period: Period,
    asked: datetime | None,
    contract_id: str | None,
    *,
    render_part: Callable[[list[Document]], Part],
    typed: str | None = None,
    fork: bool = False,
) -> Report[Part]:
    """The report of `period` as of `asked` (None: now; `typed`: how the asker wrote
    it), of every contract or only `contract_id`'s rows, each part's documents rendered
    by `render_part`.

    `source` is a read snapshot that every read goes through, or a function that opens
    a store of its own for each part (and one to resolve the question, closed before any
    part is read). `fork`: compute half of the rows in a forked child when there are
    enough of them (`report_rows`); only for a process that holds no other thread or
    connection, such as a command line, and never with a snapshot.
    """
    with reading(source) as store:
        moment = as_of.moment(store, asked, typed=typed)
        position = as_of.position_at(store, moment)
        # One contract's rows read only its own subjects: the same rows as in the
        # whole period's report (see `load_subjects`).
        every_contract = contract_id is None
        contract_ids = (
            store.subject_ids("contract", to_us(moment)) if contract_id is None else [contract_id]
        )
        closed_at = store.closes(to_us(moment)).get(period.label)
    # A store opened here is closed before the rows are read on connections of their own.
    rows = row_parts(
        source,
        period,
        moment,
        contract_ids,
        closed_at,
        every_contract=every_contract,
        render_part=render_part,
        fork=fork,
        present=Row.as_dict,
    )
    changes_at = None if rows.changes_at_us is None else from_us(rows.changes_at_us)
    return Report(period, moment, position, closed_at, rows.parts, changes_at)


def as_of_later(report: Report[Part], moment: datetime) -> Report[Part] | None:
    """The same report as of a later `moment` when nothing was recorded in between: the
    same rows, if none of them changes with time alone by then (None if one does, or
    `moment` is earlier)."""
    if moment < report.as_of or (report.changes_at is not None and moment >= report.changes_at):
        return None
    return replace(report, as_of=moment)


def rows_report(
    period: Period,
    moment: datetime,
    chain_position: int,
    closed_at: datetime | None,
    rows: Sequence[Row],
) -> Report[str]:
    """A report of rows computed already (the audit bundle's) as of `moment`, the chain
    then ending at `chain_position`, in one JSON part."""
    return Report(
        period, moment, chain_position, closed_at, [rows_json([row.as_dict() for row in rows])]
    )


def rows_json(documents: list[Document]) -> str:
    """A part's rows as JSON: `report_json` joins the parts."""
    return to_json(documents)


def report_json(report: Report[str]) -> str:
    """The report as JSON (`rows_json` parts): period, moment, the chain position it was
    computed at and the rows."""
    rows = joined_json_lists(report.parts)
    return to_json(
        {
            "period": report.period.label,
            "as_of": format_utc(report.as_of),
            "chain_position": report.chain_position,
            "rows": rows,
        }
    )


def rows_csv(documents: list[Document]) -> CsvPart:
    """A part's rows as CSV lines in the fields of its first row: `report_csv` joins the
    parts."""
    if not documents:
        return None
    fields = list(documents[0])
    return fields, csv_rows(documents, fields)


def report_csv(report: Report[CsvPart]) -> str:
    """The report as CSV (`rows_csv` parts): a header, then a line per row.

    Every row has the same fields (`Row.as_dict` writes them all, always), so the parts
    written each in its own first row's fields join into one table.
    """
    written = [part for part in report.parts if part is not None]
    fields = written[0][0] if written else list(REPORT_CSV_HEADER_WITHOUT_ROWS)
    assert all(part_fields == fields for part_fields, _ in written), "rows of different fields"
    return to_csv([], fields) + "".join(text for _, text in written)
