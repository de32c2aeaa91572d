"""Rendering for people (aligned tables) and for programs (JSON, CSV): outputs.md."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any


def to_json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


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
    cells = [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    headings = [heading for _, heading in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headings)]

    def line(values: Sequence[str]) -> str:
        out = []
        for i, value in enumerate(values):
            key = columns[i][0]
            out.append(value.rjust(widths[i]) if key in numeric else value.ljust(widths[i]))
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headings), rule, *(line(r) for r in cells)])


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


REPORT_COLUMNS = [
    ("contract_id", "contract"),
    ("service_id", "service"),
    ("status", "status"),
    ("terms_version", "terms"),
    ("measured_seconds", "measured s"),
    ("downtime_seconds", "downtime s"),
    ("availability_percent", "avail %"),
    ("availability_target_percent", "target %"),
    ("incidents_missed", "missed"),
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
        "measured_seconds",
        "downtime_seconds",
        "availability_percent",
        "availability_target_percent",
        "incidents_missed",
        "response_attainment_percent",
        "credit_percent",
        "fee_basis",
        "credit_amount",
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
    ("unplaced_reason", "unplaced because"),
]
