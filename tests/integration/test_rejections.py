"""`sla-ledger rejections`: what "resubmitted" means, and what `--export` prints."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.builders import contract, outage
from tests.cli_process import environment
from tests.cli_process import run_cli as run
from tests.integration.test_hostile_input import line

pytestmark = pytest.mark.integration


def _started(outage_id: str, impact: str, event_id: str) -> dict[str, Any]:
    document = outage(outage_id, "2026-03-10T10:00:00Z", None, impact=impact)[0]
    return {**document, "event_id": event_id}


def _ingest(store: str, path: Path, documents: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(line(d) + b"\n" for d in documents))
    result = run("ingest", "--from-file", str(path), store=store)
    assert result.returncode == 0, result.stderr


def _resubmitted(store: str) -> dict[tuple[str, int], bool]:
    listed = json.loads(run("rejections", "--format", "json", store=store).stdout)["rejections"]
    return {(Path(r["origin"]["file"]).name, r["origin"]["line"]): r["resubmitted"] for r in listed}


def test_resubmitted_means_accepted_after_the_rejection_never_a_conflict(
    store_url: str, tmp_path: Path
) -> None:
    conflicting, copied, fixed_later, fixed_below = (str(uuid.uuid4()) for _ in range(4))
    _ingest(
        store_url,
        tmp_path / "first.jsonl",
        [
            contract(),
            _started("O-1", "50", conflicting),
            _started("O-1", "60", conflicting),  # 3: a conflict with line 2, same batch
            _started("O-2", "50", copied),
            _started("O-2", "120", copied),  # 5: an invalid copy of line 4
            _started("O-3", "120", fixed_later),  # 6: fixed in the next file
            _started("O-4", "120", fixed_below),  # 7: fixed two lines below
            _started("O-4", "100", fixed_below),
        ],
    )
    # A conflict with an event of an earlier file, and the fix of line 6.
    _ingest(
        store_url,
        tmp_path / "second.jsonl",
        [_started("O-1", "70", conflicting), _started("O-3", "100", fixed_later)],
    )
    assert _resubmitted(store_url) == {
        ("first.jsonl", 3): False,
        ("first.jsonl", 5): False,
        ("first.jsonl", 6): True,
        ("first.jsonl", 7): True,
        ("second.jsonl", 1): False,
    }


def _hint(stderr: str) -> str:
    """The command in the confirmation line's backticks."""
    return stderr.split("`")[1]


def test_export_prints_only_its_confirmation_with_a_command_that_runs_as_printed(
    store_url: str, tmp_path: Path
) -> None:
    _ingest(
        store_url, tmp_path / "in.jsonl", [contract(), _started("O-1", "120", str(uuid.uuid4()))]
    )
    for output in ("table", "json"):
        export = tmp_path / f"rejected-{output}.jsonl"
        result = run(
            "rejections",
            "--export",
            str(export),
            "--format",
            output,
            store=store_url,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert result.stderr.startswith(f"wrote 1 rejected input to {export}: fix it, then `")
        assert result.stderr.count("\n") == 1
        assert export.read_bytes().count(b"\n") == 1
    # Fixed, the file goes back in with the command exactly as printed, from the same
    # directory: the program that ran and the store it read (no SLA_LEDGER_STORE in the
    # shell), each word quoted.
    hint = _hint(result.stderr)
    assert "--store" in hint
    export.write_text(export.read_text().replace('"120"', '"100"'))
    again = subprocess.run(
        hint, shell=True, cwd=tmp_path, env=environment(), capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "accepted 1, duplicates 0, rejected 0" in again.stdout


def test_export_never_overwrites_a_file_not_even_the_store(tmp_path: Path) -> None:
    ledger = tmp_path / "led.db"
    store = f"sqlite:///{ledger}"
    _ingest(store, tmp_path / "in.jsonl", [contract(), _started("O-1", "120", str(uuid.uuid4()))])
    before = ledger.read_bytes()
    result = run("rejections", "--export", str(ledger), store=store)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"sla-ledger: error: rejections: --export {ledger} already exists: give a new file "
        "name (rejections never overwrites a file)\n"
    )
    assert ledger.read_bytes() == before
    assert run("report", "--period", "2026-03", store=store).returncode == 0


def test_export_to_standard_output_writes_only_the_raw_lines(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    _ingest(store, tmp_path / "in.jsonl", [contract(), _started("O-1", "120", str(uuid.uuid4()))])
    result = run("rejections", "--export", "-", store=store, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [raw] = result.stdout.splitlines()
    assert json.loads(raw)["payload"]["impact_percent"] == "120"
    assert result.stderr.startswith("wrote 1 rejected input to standard output: fix it, then `")
    assert _hint(result.stderr).endswith(" --from-file -")
    assert not (tmp_path / "-").exists()
