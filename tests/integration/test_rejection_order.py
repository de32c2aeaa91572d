"""Rejections are stored in input order, conflicts found at write time included: `seq`,
`rejections` and an exported fix file follow the lines of the input."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.builders import contract
from tests.cli_process import run_cli as run
from tests.integration.test_hostile_input import line
from tests.integration.test_rejections import _started

pytestmark = pytest.mark.integration


def test_a_batchs_conflicts_and_invalid_lines_are_kept_in_line_order(
    store_url: str, tmp_path: Path
) -> None:
    reused = str(uuid.uuid4())
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        line(contract())
        + b"\n"
        + line(_started("O-1", "50", reused))
        + b"\n"
        + line(_started("O-1", "60", reused))  # 3: a conflict, found when written
        + b'\n{"not": "an envelope"}\n'  # 4: invalid, found when validated
    )
    ingest = run("ingest", "--from-file", str(path), store=store_url)
    assert ingest.returncode == 0, ingest.stderr
    listed = json.loads(run("rejections", "--format", "json", store=store_url).stdout)
    order = [(r["seq"], r["origin"]["line"]) for r in listed["rejections"]]
    assert [lineno for _, lineno in order] == [3, 4]
    assert order[0][0] < order[1][0]
    export = tmp_path / "fix.jsonl"
    assert run("rejections", "--export", str(export), store=store_url).returncode == 0
    exported = export.read_bytes().splitlines()
    assert exported == [path.read_bytes().splitlines()[2], b'{"not": "an envelope"}']
