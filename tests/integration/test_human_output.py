"""What people read, with hostile text in it: a real process on both stores.

Identifiers may hold CJK, emoji and bidirectional controls (U+202E); names, reasons and
file names may also hold ESC, newlines and tabs. Every human-readable output must keep
its columns aligned on a terminal (wide characters take two columns) and must show each
control or bidirectional character as a visible escape, never raw.
"""

from __future__ import annotations

import json
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from tests.builders import contract, ev, outage, service
from tests.cli_process import run_cli as run
from tests.integration.test_cli import feed

pytestmark = pytest.mark.integration

CONTRACT = "C-契約😀\u202eX"
CUSTOMER = "客户\u202e-7"
SERVICE = "服务🚀"
OUTAGE = "O-停机\u202e1"
INCIDENT = "I-事件😀\u202e"
NAME = "Evil\x1b[2J\nLtd\t"
REASON = "review\x1b[31m\nforged line\t"
# A file name can carry ESC, a tab, a newline and U+202E into the rejection origins.
FILE_NAME = "bad\x1b[31m\t\u202e\nname.jsonl"
# What a hostile character must never be on a terminal: controls, format (bidi, zero
# width) characters, line and paragraph separators.
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
P1_TARGETS = {
    "targets": {"P1": "PT15M"},
    "business_hours": "24x7",
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


def escaped(text: str) -> str:
    """The visible form the outputs promise: `\\u202e`, `\\x1b`, `\\n`, `\\t`."""
    short = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return "".join(
        short.get(c, f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}")
        if unicodedata.category(c) in HIDDEN
        else c
        for c in text
    )


def columns(text: str) -> int:
    return sum(
        0
        if unicodedata.category(c) in ("Mn", "Me")
        else (2 if unicodedata.east_asian_width(c) in ("W", "F") else 1)
        for c in text
    )


def assert_shown_safely(output: str) -> None:
    raw = [c for c in output if c != "\n" and unicodedata.category(c) in HIDDEN]
    assert raw == [], f"raw control or bidi characters reached stdout: {raw!r}"


def table_cells(output: str, heading: str) -> list[list[str]]:
    """The cells of the table whose header line starts with `heading`, cut by the display
    columns of its rule line: a row is aligned only if each cut gives back its value."""
    text_lines = output.splitlines()
    start = next(i for i, line in enumerate(text_lines) if line.startswith(heading))
    rule = text_lines[start + 1]
    assert set(rule) <= {"-", " "}, rule
    spans, column = [], 0
    for dashes in rule.split("  "):
        spans.append((column, column + len(dashes)))
        column += len(dashes) + 2
    rows = []
    for line in text_lines[start + 2 :]:
        if not line.strip():
            break
        cells_by_column: list[str] = []
        position = 0
        for char in line:  # lay the line out on the terminal's grid
            width = columns(char)
            cells_by_column += [char] + [""] * (width - 1) if width else []
            if not width and cells_by_column:
                cells_by_column[-1] += char
            position += width
        assert position <= spans[-1][1], f"row wider than its table: {line!r}"
        rows.append(["".join(cells_by_column[a:b]).strip() for a, b in spans])
    return rows


def hostile_ledger(store: str, tmp_path: Path) -> None:
    signed = contract(
        contract_id=CONTRACT,
        customer_id=CUSTOMER,
        services=[service(SERVICE, incident_response=P1_TARGETS)],
    )
    signed["payload"]["customer_name"] = NAME
    amended = ev(
        "outage.amended",
        "2026-03-11T09:00:00Z",
        {"outage_id": OUTAGE, "ended_at": "2026-03-10T12:00:00Z", "reason": REASON},
    )
    opened = ev(
        "incident.opened",
        "2026-03-12T10:00:00Z",
        {
            "incident_id": INCIDENT,
            "contract_id": CONTRACT,
            "service_id": SERVICE,
            "priority": "P1",
            "opened_at": "2026-03-12T10:00:00Z",
        },
    )
    documents = [
        signed,
        *outage(OUTAGE, "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", service_id=SERVICE),
        amended,
        opened,
    ]
    good = run("ingest", "--from-file", str(feed(tmp_path, documents)), store=store)
    assert good.returncode == 0, good.stderr
    bad = tmp_path / FILE_NAME
    bad.write_bytes(b'{"broken": \n')
    rejected = run("ingest", "--from-file", str(bad), store=store)
    assert rejected.returncode == 0, rejected.stderr
    assert_shown_safely(rejected.stdout)
    closed = run("close", "--period", "2026-03", store=store)
    assert closed.returncode == 0, closed.stderr


def json_of(*args: str, store: str) -> Any:
    result = run(*args, "--format", "json", store=store)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def text_of(*args: str, store: str) -> str:
    result = run(*args, store=store)
    assert result.returncode == 0, result.stderr
    assert_shown_safely(result.stdout)
    return result.stdout


def test_tables_align_wide_characters_and_show_controls_as_escapes(
    store_url: str, tmp_path: Path
) -> None:
    hostile_ledger(store_url, tmp_path)
    report = json_of("report", "--period", "2026-03", store=store_url)
    [row] = report["rows"]
    # JSON stays exact: the identifiers come back as they were sent.
    assert (row["contract_id"], row["customer_id"], row["service_id"]) == (
        CONTRACT,
        CUSTOMER,
        SERVICE,
    )
    table = text_of("report", "--period", "2026-03", "--as-of", report["as_of"], store=store_url)
    [cells] = table_cells(table, "contract")
    assert cells[:3] == [escaped(CONTRACT), escaped(SERVICE), "closed"]
    assert cells[-3:] == [row["credit_amount"], row["currency"], row["remedy"]]

    [entry] = json_of("credits", store=store_url)["entries"]
    [cells] = table_cells(text_of("credits", store=store_url), "recorded at")
    assert cells[3:5] == [escaped(CONTRACT), escaped(SERVICE)]
    assert cells[6] == entry["amount"]

    [rejection] = json_of("rejections", store=store_url)["rejections"]
    assert rejection["origin"]["file"].endswith(FILE_NAME)  # JSON: exact
    [cells] = table_cells(text_of("rejections", store=store_url), "#")
    assert cells[2] == escaped(f"{rejection['origin']['file']}:1")
    assert cells[3] == escaped(rejection["reason"])

    [incident] = json_of("incidents", store=store_url)["incidents"]
    [cells] = table_cells(text_of("incidents", store=store_url), "incident")
    assert cells[:3] == [escaped(INCIDENT), escaped(CONTRACT), escaped(SERVICE)]
    assert cells[4] == incident["priority"]


def test_explain_and_diff_text_show_controls_as_escapes_on_their_own_line(
    store_url: str, tmp_path: Path
) -> None:
    hostile_ledger(store_url, tmp_path)
    row = ("--contract", CONTRACT, "--service", SERVICE, "--period", "2026-03")
    explained = text_of("explain", *row, store=store_url)
    assert escaped(NAME) in explained
    assert escaped(REASON) in explained
    assert "forged line" not in [line.strip() for line in explained.splitlines()]
    document = json_of("explain", *row, store=store_url)
    assert document["contract"]["customer_name"] == NAME  # JSON: exact

    diff = text_of("diff", "--period", "2026-03", "--from", "2026-03-01", store=store_url)
    assert f"{escaped(CONTRACT)} / {escaped(SERVICE)} (added)" in diff.splitlines()


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "--contract", NAME, "--service", SERVICE, "--period", "2026-03"],
        ["audit", "check", str(Path("/no/such") / FILE_NAME)],
        ["ingest", "--from-file", str(Path("/no/such") / FILE_NAME)],
    ],
)
def test_an_error_that_echoes_user_input_is_one_line_with_escapes(
    tmp_path: Path, args: list[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    hostile_ledger(store, tmp_path)
    result: subprocess.CompletedProcess[str] = run(*args, store=store)
    assert result.returncode in (1, 2)
    assert_shown_safely(result.stderr)
    [line] = result.stderr.splitlines()
    assert line.startswith("sla-ledger: error: ")
    assert "\\x1b" in line
