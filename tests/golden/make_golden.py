"""Build the golden store and write what every reading command prints for it.

Run it only to replace the golden files on purpose (a change that changes an output):
`python -m tests.golden.make_golden`, then read `git diff tests/golden/outputs` before
committing. `--outputs-only` keeps the store and writes its outputs again.

The store: three generated months (`benchmarks/history_growth.py`, 12 contracts), each
ingested, closed and then corrected late, as a provider runs the ledger; then the demo's
October, with a duplicate, a conflicting duplicate and three inputs that are no events
among its lines, closed and corrected late (a reversal and a re-issue).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from benchmarks.history_growth import Month, Plan, correction_lines, write_month
from consumers.demo.month import CORRECTION_DATA, MONTH_DATA, data_lines, shipped
from ledger.periods import Period
from tests.cli_process import run_cli
from tests.golden.commands import OUTPUTS, STORE, outputs

PLAN = Plan(contracts=12, months=3, first=Period(2026, 5), seed=11)


def _run(url: str, *arguments: str) -> None:
    ran = run_cli(*arguments, store=url, timeout=600)
    if ran.returncode != 0:
        raise SystemExit(f"sla-ledger {' '.join(arguments)} failed: {ran.stderr.strip()}")


def build(directory: Path) -> Path:
    path = directory / "ledger.db"
    url = f"sqlite:///{path}"
    months: dict[int, Month] = {}
    for index in range(PLAN.months):
        month_file = directory / f"month-{index}.jsonl"
        months[index] = write_month(month_file, PLAN, index)
        _run(url, "ingest", "--from-file", str(month_file))
        _run(url, "close", "--period", PLAN.period(index).label)
        correction = directory / f"correction-{index}.jsonl"
        lines = correction_lines(PLAN, index, months)
        correction.write_text("".join(line + "\n" for line in lines))
        _run(url, "ingest", "--from-file", str(correction))
    events = [json.loads(line) for line in data_lines(MONTH_DATA)]
    conflicting = {**events[1], "occurred_at": "2026-10-01T00:00:01Z"}
    extra = [
        json.dumps(events[0]).encode(),  # a duplicate
        json.dumps(conflicting).encode(),  # the same event id, other content
        b'{"event_id": "not json"',
        b'{"type": "outage.started"}',
        "\N{SNOWMAN} ohne JSON".encode(),
    ]
    october = directory / "october.jsonl"
    october.write_bytes(shipped(MONTH_DATA) + b"".join(raw + b"\n" for raw in extra))
    _run(url, "ingest", "--from-file", str(october))
    _run(url, "close", "--period", "2026-10")
    correction = directory / "october-correction.jsonl"
    correction.write_bytes(shipped(CORRECTION_DATA))
    _run(url, "ingest", "--from-file", str(correction))
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
    finally:
        connection.close()
    return path


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="sla-ledger-golden-") as directory:
        if "--outputs-only" not in argv:
            shutil.copyfile(build(Path(directory)), STORE)
        scratch = Path(directory) / "outputs"
        scratch.mkdir()
        written = outputs(STORE, scratch)
    shutil.rmtree(OUTPUTS, ignore_errors=True)
    for name, data in written.items():
        target = OUTPUTS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"{STORE.name}: {STORE.stat().st_size} bytes; {len(written)} outputs in {OUTPUTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
