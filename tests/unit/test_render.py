"""Text for people: visible escapes, terminal widths, aligned tables, counts (pure logic)."""

from __future__ import annotations

import unicodedata

import pytest

from consumers.render import (
    EXPOSURE_COLUMNS,
    display_width,
    exposure_tables,
    for_humans,
    lines,
    to_table,
)
from ledger.wording import counted


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("C-1", "C-1"),
        ("漢字😀", "漢字😀"),
        ("a\u202eb", "a\\u202eb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("one\ntwo\tthree\r", "one\\ntwo\\tthree\\r"),
        ("\x9b\x7f", "\\x9b\\x7f"),
        ("zero\u200bwidth\u2066isolate\u2028line", "zero\\u200bwidth\\u2066isolate\\u2028line"),
    ],
)
def test_control_and_bidirectional_characters_are_shown_as_visible_escapes(
    text: str, shown: str
) -> None:
    assert for_humans(text) == shown


def test_lines_keep_their_own_breaks_and_escape_the_ones_inside_a_value() -> None:
    assert lines(["first", "value\nforged"]) == "first\nvalue\\nforged"


@pytest.mark.parametrize(
    ("text", "width"),
    [("abc", 3), ("漢字", 4), ("😀", 2), ("ｆｕｌｌ", 8), ("e\u0301", 1), ("\\u202e", 6)],
)
def test_display_width_counts_wide_characters_twice_and_combining_marks_not_at_all(
    text: str, width: int
) -> None:
    assert display_width(text) == width


def test_table_columns_align_on_the_terminal_grid_with_wide_and_hostile_cells() -> None:
    rows = [
        {"id": "C-契約😀\u202eX", "amount": "1.00"},
        {"id": "plain", "amount": "1000.00"},
        {"id": "e\u0301\x1b", "amount": "7"},
    ]
    text = to_table(rows, [("id", "contract"), ("amount", "amount")], frozenset({"amount"}))
    header, rule, *body = text.splitlines()
    assert all(unicodedata.category(c) not in ("Cc", "Cf") for c in text if c != "\n")
    first = len(rule.split("  ")[0])
    total = len(rule)
    for line in body:
        # the amount column ends at the rule's end; the id column is padded to its width
        assert display_width(line) == total, line
        assert display_width(line[: len(line) - len(line.split()[-1])].rstrip()) <= first
    assert display_width(header) <= total


@pytest.mark.parametrize(
    ("count", "noun", "many", "text"),
    [
        (0, "row", None, "0 rows"),
        (1, "row", None, "1 row"),
        (2, "row", None, "2 rows"),
        (1, "entry", "entries", "1 entry"),
        (3, "entry", "entries", "3 entries"),
    ],
)
def test_plural_agrees_with_the_count(count: int, noun: str, many: str | None, text: str) -> None:
    assert counted(count, noun, many) == text


def test_the_exposure_tables_list_deadlines_earliest_first_as_instants() -> None:
    """`...T08:15:00.5Z` is after `...T08:15:00Z`, though its text sorts before it."""
    fields = dict.fromkeys(name for name, _ in EXPOSURE_COLUMNS)

    def row(contract_id: str, incident_id: str, respond_by: str) -> dict[str, object]:
        pending = {
            "incident_id": incident_id,
            "priority": "P1",
            "opened_at": "2026-03-09T08:00:00Z",
            "target_seconds": "900",
            "respond_by": respond_by,
        }
        return {
            **fields,
            "contract_id": contract_id,
            "service_id": "crm",
            "next_response_deadline": respond_by,
            "pending_incidents": [pending],
        }

    text = exposure_tables(
        [
            row("C-1", "I-LATER", "2026-03-09T08:15:00.500000Z"),
            row("C-2", "I-FIRST", "2026-03-09T08:15:00Z"),
        ]
    )
    listed = text.split("earliest deadline first:")[1]
    assert listed.index("I-FIRST") < listed.index("I-LATER")
