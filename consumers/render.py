"""Rendering for people (aligned tables) and for programs (JSON, CSV): outputs.md.

Everything printed for people goes through `for_humans` (one line) or `lines` (several):
text that came from producers, files or the command line (ids, names, reasons, file
names) may hold control or bidirectional characters. Printed raw, an ESC sequence
recolours or clears the terminal, a newline forges a line, and U+202E reverses the
rest of a row. So each such character is shown as a visible escape (`\\u202e`, `\\x1b`,
`\\n`): the reader sees that something was there, and nothing else changes. JSON and CSV
are data for programs and stay exact (JSON escapes control characters itself).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def to_json(document: Any) -> str:
    """`json.dumps(document, indent=2, ensure_ascii=False)`, to the byte.

    With an indent, `json` encodes in pure Python, piece by piece; a report of thousands
    of rows spent more time there than computing them. The documents printed here are
    dicts with text keys, lists, text, whole numbers, booleans and nulls: those are
    written directly below (strings by `json`'s own encoder). Anything else (a float, a
    non-text key, an int or str subclass) is left to `json.dumps` itself.
    """
    parts: list[str] = []
    try:
        _write_json(document, "\n", parts)
    except _NotPlainError:
        return json.dumps(document, indent=2, ensure_ascii=False)
    return "".join(parts)


class _NotPlainError(Exception):
    """A value `_write_json` leaves to `json.dumps`."""


_JSON_TEXT = json.encoder.encode_basestring  # what `json.dumps(ensure_ascii=False)` uses
_JSON_CONSTANTS: dict[Any, str] = {True: "true", False: "false", None: "null"}


def _write_json(value: Any, newline: str, parts: list[str]) -> None:
    """Append `value` as `json.dumps(..., indent=2)` spells it; `newline` is a line
    break followed by the current indentation."""
    kind = type(value)
    if kind is str:
        parts.append(_JSON_TEXT(value))
    elif value is None or kind is bool:
        parts.append(_JSON_CONSTANTS[value])
    elif kind is int:
        parts.append(int.__repr__(value))
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlainError
            parts.append(separator)
            parts.append(_JSON_TEXT(key))
            parts.append(": ")
            _write_json(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _write_json(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "]")
    else:
        raise _NotPlainError


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


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def to_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    numeric: frozenset[str] = frozenset(),
) -> str:
    """Aligned columns: text left, numbers right. `columns` = (field, heading)."""
    cells = [[for_humans(_cell(row.get(key))) for key, _ in columns] for row in rows]
    headings = [heading for _, heading in columns]
    # Each cell's width is measured once, for the column widths and for its padding.
    cell_widths = [[display_width(value) for value in r] for r in cells]
    widths = [max([display_width(h)] + [w[i] for w in cell_widths]) for i, h in enumerate(headings)]
    right = [key in numeric for key, _ in columns]

    def line(values: Sequence[str], value_widths: Sequence[int]) -> str:
        out = []
        for i, value in enumerate(values):
            pad = " " * (widths[i] - value_widths[i])
            out.append(pad + value if right[i] else value + pad)
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    heading_line = line(headings, [display_width(h) for h in headings])
    body = (line(r, w) for r, w in zip(cells, cell_widths, strict=True))
    return "\n".join([heading_line, rule, *body])


def to_csv(rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow(["" if row.get(f) is None else _csv_value(row.get(f)) for f in fields])
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
    ("credit_percent", "credit %"),
    ("fee_basis", "fee basis"),
    ("credit_amount", "credit"),
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
        "credit_percent",
        "fee_basis",
        "credit_amount",
    }
)
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
    ("unplaced_reason", "unplaced because"),
]
