"""Rendering for people: one-line messages and aligned tables (outputs.md). The documents
for programs (JSON, CSV) are the queries' own (`projections.queries.encoding`).

Everything printed for people goes through `for_humans` (one line) or `lines` (several):
text that came from producers, files or the command line (ids, names, reasons, file
names) may hold control or bidirectional characters. Printed raw, an ESC sequence
recolours or clears the terminal, a newline forges a line, and U+202E reverses the
rest of a row. So each such character is shown as a visible escape (`\\u202e`, `\\x1b`,
`\\n`): the reader sees that something was there, and nothing else changes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ledger.wording import counted

# Characters a terminal would act on instead of showing: controls (Cc: C0, DEL, C1),
# format characters (Cf: bidirectional overrides and isolates, zero-width joiners, the
# BOM, soft hyphen), line and paragraph separators (Zl, Zp) and lone surrogates (Cs).
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def for_humans(text: str) -> str:
    """`text` safe to print on one line of a terminal: every control, format,
    separator or surrogate character replaced by a visible escape such as `\\u202e`."""
    if text.isprintable():  # the common case: nothing to replace (fast)
        return text
    return "".join(
        _visible(c) if unicodedata.category(c) in _HIDDEN_CATEGORIES else c for c in text
    )


def lines(text_lines: Iterable[str]) -> str:
    """Lines for people, joined: each neutralised (a newline inside one is shown as `\\n`)."""
    return "\n".join(for_humans(line) for line in text_lines)


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal: East Asian wide and fullwidth characters (CJK,
    most emoji) take 2, combining marks 0, the rest 1. Call on neutralised text."""
    if text.isascii():  # the common case: no ASCII character is wide or combining (fast)
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def to_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    numeric: frozenset[str] = frozenset(),
) -> str:
    """Aligned columns: text left, numbers right. `columns` = (field, heading)."""
    return table_of_cells([table_cells(rows, columns)], columns, numeric)


class TableCells(NamedTuple):
    """Rows as `to_table` shows them, measured: enough to align them with other rows."""

    # Each row's cells, in column order: null as "-", booleans as yes/no, the rest as
    # text, neutralised (`for_humans`).
    rows: list[list[str]]
    # Each column's widest cell on a terminal (`display_width`); 0 without rows.
    widths: list[int]
    # The width of each cell of the rows that are not all ASCII, by their index. A row all
    # ASCII (most) is as wide as its text is long, cell by cell.
    measured: dict[int, list[int]]


def table_cells(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[tuple[str, str]]
) -> TableCells:
    """The cells of `rows`, to show in `columns`, measured."""
    keys = [key for key, _ in columns]
    table = []
    for row in rows:
        # Inline, as a report has hundreds of thousands of cells (bool has no subclasses).
        cells = [
            "-"
            if value is None
            else ("yes" if value else "no")
            if type(value) is bool
            else str(value)
            for value in map(row.get, keys)
        ]
        # Text is printable when each of its pieces is: the common case, nothing to escape.
        if not "".join(cells).isprintable():
            cells = [for_humans(cell) for cell in cells]
        table.append(cells)
    measured = {
        n: [display_width(value) for value in cells]
        for n, cells in enumerate(table)
        if not "".join(cells).isascii()
    }
    ascii_rows = (
        [cells for n, cells in enumerate(table) if n not in measured] if measured else table
    )
    widths = [max(map(len, column)) for column in zip(*ascii_rows, strict=True)] or [0] * len(keys)
    for cell_widths in measured.values():
        widths = [max(w, c) for w, c in zip(widths, cell_widths, strict=True)]
    return TableCells(table, widths, measured)


def table_of_cells(
    parts: Iterable[TableCells],
    columns: Sequence[tuple[str, str]],
    numeric: frozenset[str] = frozenset(),
) -> str:
    """`to_table` of the rows of `parts` (`table_cells`), one part after the other: each
    column is as wide as its widest cell in any part, or its heading."""
    headings = [heading for _, heading in columns]
    right = [key in numeric for key, _ in columns]
    widths = [display_width(h) for h in headings]
    parts = list(parts)
    for part in parts:
        widths = [max(w, c) for w, c in zip(widths, part.widths, strict=True)]

    def line(values: Sequence[str], value_widths: Sequence[int]) -> str:
        out = []
        for i, value in enumerate(values):
            pad = " " * (widths[i] - value_widths[i])
            out.append(pad + value if right[i] else value + pad)
        return "  ".join(out).rstrip()

    # An ASCII row is padded by `str.format`. A column 0 wide holds only empty cells:
    # nothing to pad ("{:<0}" would not say so).
    ascii_line = "  ".join(
        ("{:>%d}" if r else "{:<%d}") % w if w else "{}" for r, w in zip(right, widths, strict=True)
    ).format
    rule = "  ".join("-" * w for w in widths)
    lines = [line(headings, [display_width(h) for h in headings]), rule]
    for part in parts:
        measured = part.measured
        if not measured:
            lines += [ascii_line(*cells).rstrip() for cells in part.rows]
        else:
            lines += [
                line(cells, measured[n]) if n in measured else ascii_line(*cells).rstrip()
                for n, cells in enumerate(part.rows)
            ]
    return "\n".join(lines)


# The report table: the row's figures in its as_dict order (outputs.md), the incident
# tallies (met / missed / pending) and the excluded time next to the figures they explain.
REPORT_COLUMNS = [
    ("contract_id", "contract"),
    ("service_id", "service"),
    ("status", "status"),
    ("terms_version", "terms"),
    ("excluded_seconds", "excluded s"),
    ("measured_seconds", "measured s"),
    ("downtime_seconds", "downtime s"),
    ("availability_percent", "avail %"),
    ("availability_target_percent", "target %"),
    ("incidents_met", "met"),
    ("incidents_missed", "missed"),
    ("incidents_pending", "pending"),
    ("response_attainment_percent", "response %"),
    ("resolution_attainment_percent", "resolution %"),
    ("credit_percent", "credit %"),
    ("fee_basis", "fee basis"),
    ("credit_amount", "credit"),
    ("claim_status", "claim"),
    ("payable_amount", "payable"),
    ("currency", "cur"),
    ("remedy", "remedy"),
]
REPORT_NUMERIC = frozenset(
    {
        "terms_version",
        "excluded_seconds",
        "measured_seconds",
        "downtime_seconds",
        "availability_percent",
        "availability_target_percent",
        "incidents_met",
        "incidents_missed",
        "incidents_pending",
        "response_attainment_percent",
        "resolution_attainment_percent",
        "credit_percent",
        "fee_basis",
        "credit_amount",
        "payable_amount",
    }
)
ENTRY_COLUMNS = [
    ("recorded_at", "recorded at"),
    ("kind", "kind"),
    ("revision", "rev"),
    ("contract_id", "contract"),
    ("service_id", "service"),
    ("period", "period"),
    ("amount", "amount"),
    ("currency", "cur"),
    ("remedy", "remedy"),
    ("credit_percent", "credit %"),
    ("entry_id", "entry id"),
    ("supersedes", "supersedes"),
]
ENTRY_NUMERIC = frozenset({"revision", "amount", "credit_percent"})

REJECTION_COLUMNS = [
    ("seq", "#"),
    ("rejected_at", "rejected at"),
    ("origin", "origin"),
    ("reason", "reason"),
]

INCIDENT_COLUMNS = [
    ("incident_id", "incident"),
    ("contract_id", "contract"),
    ("service_id", "service"),
    ("period", "period"),
    ("priority", "prio"),
    ("opened_at", "opened at"),
    ("first_response_at", "first response"),
    ("status", "status"),
    ("resolution_status", "resolution"),
    ("unplaced_reason", "unplaced because"),
]

# The exposure table: each row's key, how much of its error budget is gone, the downtime
# it can still take before the next tier, what that tier would cost, and its next
# response deadline; then the actual figures beside the projected ones.
EXPOSURE_COLUMNS = [
    ("contract_id", "contract"),
    ("service_id", "service"),
    ("budget_consumed_percent", "budget used %"),
    ("downtime_left_seconds", "downtime left s"),
    ("next_tier_credit_percent", "next tier %"),
    ("credit_at_risk", "at risk"),
    ("currency", "cur"),
    ("availability_percent", "avail %"),
    ("projected_availability_percent", "projected %"),
    ("availability_target_percent", "target %"),
    ("credit_amount", "credit"),
    ("projected_credit_amount", "projected credit"),
    ("pending", "pending"),
    ("next_response_deadline", "next response due"),
]
EXPOSURE_NUMERIC = frozenset(
    {
        "budget_consumed_percent",
        "downtime_left_seconds",
        "next_tier_credit_percent",
        "credit_at_risk",
        "availability_percent",
        "projected_availability_percent",
        "availability_target_percent",
        "credit_amount",
        "projected_credit_amount",
        "pending",
    }
)

ALERT_COLUMNS = [
    ("recorded_at", "recorded at"),
    ("kind", "kind"),
    ("threshold", "threshold"),
    ("contract_id", "contract"),
    ("service_id", "service"),
    ("period", "period"),
    ("observed", "observed"),
    ("downtime_left_seconds", "downtime left s"),
    ("credit_at_risk", "at risk"),
    ("currency", "cur"),
    ("alert_id", "alert id"),
]
ALERT_NUMERIC = frozenset({"downtime_left_seconds", "credit_at_risk"})

DEADLINE_COLUMNS = [
    ("respond_by", "respond by"),
    ("incident_id", "incident"),
    ("priority", "prio"),
    ("contract_id", "contract"),
    ("service_id", "service"),
    ("opened_at", "opened at"),
    ("target_seconds", "target s"),
]


def exposure_tables(rows: list[dict[str, Any]]) -> str:
    """`exposure`'s rows for people, then their pending incidents, earliest deadline
    first (what the command and the demo print)."""
    # Imported here: the SLA arithmetic behind it is no other command's start-up cost.
    from projections.queries.exposure import deadlines_earliest_first

    table = [{**row, "pending": len(row["pending_incidents"])} for row in rows]
    text = to_table(table, EXPOSURE_COLUMNS, EXPOSURE_NUMERIC)
    deadlines = deadlines_earliest_first(rows)
    if deadlines:
        listed = [
            {**pending, "contract_id": row["contract_id"], "service_id": row["service_id"]}
            for pending, row in deadlines
        ]
        text += (
            f"\n\n{counted(len(deadlines), 'pending incident')}, earliest deadline first:\n"
            + to_table(listed, DEADLINE_COLUMNS, frozenset({"target_seconds"}))
        )
    return text


def alerts_table(alerts: list[dict[str, Any]]) -> str:
    """The alerts' count, then the alerts, in the order recorded, for people."""
    text = counted(len(alerts), "alert")
    if alerts:
        text += "\n" + to_table(alerts, ALERT_COLUMNS, ALERT_NUMERIC)
    return text


CLAIM_COLUMNS = [
    ("contract_id", "contract"),
    ("service_id", "service"),
    ("period", "period"),
    ("claim_id", "claim"),
    ("submitted_at", "submitted at"),
    ("counts", "counts"),
    ("withdrawn", "withdrawn"),
    ("decision", "decision"),
    ("claim_status", "row status"),
    ("deadline", "deadline (UTC)"),
    ("deadline_local", "deadline (local)"),
    ("credit_amount", "credit"),
    ("payable_amount", "payable"),
    ("currency", "cur"),
]
CLAIM_NUMERIC = frozenset({"credit_amount", "payable_amount"})


def claims_table(claims: list[dict[str, Any]]) -> str:
    """The claims' count, then the claims, for people (a claim naming no row shows
    `no such row` as its row status)."""
    text = counted(len(claims), "claim")
    if claims:
        shown = [
            claim if claim["row_exists"] else {**claim, "claim_status": "no such row"}
            for claim in claims
        ]
        text += "\n" + to_table(shown, CLAIM_COLUMNS, CLAIM_NUMERIC)
    return text
