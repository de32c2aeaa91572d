"""Usage errors: one `sla-ledger: error:` prefix, a pointer to the subcommand's own
`--help`, and no Python internals or text the user did not type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import contract
from tests.cli_process import run_cli as run
from tests.integration.test_store_access import one_line_error

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["report"],
            "report: the following arguments are required: --period "
            "(see `sla-ledger report --help`)",
        ),
        (
            ["report", "--period", "2026-03", "--bogus", "x"],
            "report: unrecognized arguments: --bogus x (see `sla-ledger report --help`)",
        ),
        (
            ["audit", "verify", "--bogus"],
            "audit verify: unrecognized arguments: --bogus (see `sla-ledger audit verify --help`)",
        ),
        (
            ["audit"],
            "audit: the following arguments are required: ACTION (see `sla-ledger audit --help`)",
        ),
        ([], "the following arguments are required: COMMAND (see `sla-ledger --help`)"),
        (
            ["report", "--period", "2026-03", "--as-of", "2026-11-05T09:30:00+25:00"],
            '--as-of offset must be between -23:59 and +23:59, got "2026-11-05T09:30:00+25:00"',
        ),
        (
            ["report", "--period", "2026-03", "--as-of", "2026-11-05T09:30:00-05:60"],
            '--as-of offset must be between -23:59 and +23:59, got "2026-11-05T09:30:00-05:60"',
        ),
        (
            ["report", "--period", "2026-03", "--as-of", "2026-02-30"],
            '--as-of is not a real date: "2026-02-30"',
        ),
        (
            ["report", "--period", "\u0662\u0660\u0662\u0666-\u0661\u0660"],
            '--period: period must be YYYY-MM (a month, e.g. "2026-03") or YYYY (a year, '
            'e.g. "2026"), got '
            '"\u0662\u0660\u0662\u0666-\u0661\u0660"',
        ),
    ],
)
def test_a_usage_error_is_one_line_with_one_prefix(args: list[str], line: str) -> None:
    result = run(*args, store="sqlite:///no-such-dir/never.db")
    assert one_line_error(result, 2) == f"sla-ledger: error: {line}\n"


def test_a_date_as_of_is_its_midnight_utc(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    source = tmp_path / "C.jsonl"
    source.write_text(json.dumps(contract()) + "\n")
    assert run("ingest", "--from-file", str(source), store=store).returncode == 0
    result = run("report", "--period", "2026-03", "--as-of", "2026-02-28", store=store)
    assert result.stdout.startswith("Period 2026-03 (provisional), as of 2026-02-28T00:00:00Z")


def test_audit_export_to_an_existing_file_says_it_is_a_file(store_url: str, tmp_path: Path) -> None:
    source = tmp_path / "C.jsonl"
    source.write_text(json.dumps(contract()) + "\n")
    assert run("ingest", "--from-file", str(source), store=store_url).returncode == 0
    somefile = tmp_path / "somefile"
    somefile.write_text("mine\n")
    result = run("audit", "export", "--period", "2026-03", "--out", str(somefile), store=store_url)
    message = one_line_error(result)
    assert f"{somefile} is a file, not a directory" in message
    assert "not empty" not in message
    assert somefile.read_text() == "mine\n"


def test_a_tilde_in_a_sqlite_url_is_explained_with_the_absolute_path(tmp_path: Path) -> None:
    result = run("report", "--period", "2026-03", "--store", "sqlite:///~/sla-x.db", cwd=tmp_path)
    message = one_line_error(result)
    assert "~ is not expanded in a store URL" in message
    assert f"sqlite:///{Path.home() / 'sla-x.db'}" in message
    assert "sqlite:////~" not in message


@pytest.mark.parametrize(
    "args",
    [
        ["exposure", "--contract"],
        ["alerts", "--contract"],
        ["report", "--period", "2026-03", "--contract"],
        ["credits", "--contract"],
        ["claims", "--contract"],
        ["diff", "--period", "2026-03", "--from", "2026-04-01", "--contract"],
        ["explain", "--period", "2026-03", "--service", "crm", "--contract"],
    ],
)
def test_an_id_that_is_not_utf8_is_a_usage_error(
    store_url: str, tmp_path: Path, args: list[str]
) -> None:
    """Bytes that are not UTF-8 reach Python as unpaired surrogates, which no store can
    take in a query: they once ended `exposure`, `report`, `alerts` and `credits` in an
    internal error. No id can hold them, so the command says so, on either store."""
    events = tmp_path / "contract.jsonl"
    events.write_text(json.dumps(contract()) + "\n")
    assert run("ingest", "--from-file", str(events), store=store_url).returncode == 0
    # `subprocess` passes the surrogate on as the byte it stands for: 0xff.
    result = run(*args, "C-\udcff", store=store_url)
    line = one_line_error(result, 2)
    assert "argument --contract: b'C-\\xff' is not UTF-8 text, so no id matches it" in line
    assert "internal error" not in line
