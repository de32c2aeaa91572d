"""`sla-ledger rejections`: what "resubmitted" means, and what `--export` prints."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.builders import contract, outage
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


def test_export_prints_only_its_confirmation(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    _ingest(store, tmp_path / "in.jsonl", [contract(), _started("O-1", "120", str(uuid.uuid4()))])
    export = tmp_path / "rejected.jsonl"
    for output in ("table", "json"):
        result = run("rejections", "--export", str(export), "--format", output, store=store)
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert result.stderr == (
            f"wrote 1 rejected input to {export}: fix it, then "
            f"`sla-ledger ingest --from-file {export}`\n"
        )
        assert export.read_bytes().count(b"\n") == 1
