"""The golden store's commands: what every reading command prints for a fixed store.

`tests/golden/ledger.db` is a SQLite store built once (`make_golden.py`) from the demo's
month and three generated months, each closed and then corrected late, with rejected
inputs among them. Its record times are those of the day it was built, so the outputs
are fixed too: every command here reads the store as of one of its own moments (its
last record time, a close), never as of "now". `outputs/` holds what each command
printed when the store was built; `test_golden_outputs` runs them again and compares
byte for byte. A change that must not change any figure (a restructuring) leaves them
all equal; a change that does (a new field) regenerates them on purpose, and the diff
shows exactly what changed.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from ledger.periods import from_us
from ledger.timeformat import format_utc, parse_rfc3339

HERE = Path(__file__).resolve().parent
STORE = HERE / "ledger.db"
OUTPUTS = HERE / "outputs"
# What stands for the store's own path in an output, and for the bundle's directory in a
# command.
STORE_MARK = "<store>"
BUNDLE_MARK = "<bundle>"

DEMO_PERIOD = "2026-10"
GENERATED_PERIODS = ("2026-05", "2026-06", "2026-07")
# A row of the demo (a tiered credit, changed by the late correction) and one generated.
EXPLAINED = (("C-2002", "crm", DEMO_PERIOD), ("C-000003", "api", "2026-06"))


def moments(store: Path) -> dict[str, str]:
    """The store's own moments, as `--as-of` spells them: its last record time (`last`)
    and each close's (`closed:PERIOD`)."""
    connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        (last,) = connection.execute("SELECT recorded_us FROM sla_chain_head").fetchone()
        closes = connection.execute("SELECT period, closed_us FROM sla_closes").fetchall()
    finally:
        connection.close()
    found = {"last": format_utc(from_us(int(last)))}
    found |= {f"closed:{period}": format_utc(from_us(int(us))) for period, us in closes}
    return found


def commands(store: Path) -> dict[str, list[str]]:
    """Each output's name and the arguments of `sla-ledger` that print it (no argument
    holds a space: each command is written as one line)."""
    at = moments(store)
    last, closed = at["last"], at[f"closed:{DEMO_PERIOD}"]
    lines: dict[str, str] = {}
    for form in ("table", "json", "csv"):
        lines[f"report-{DEMO_PERIOD}.{form}"] = (
            f"report --period {DEMO_PERIOD} --as-of {last} --format {form}"
        )
        lines[f"credits.{form}"] = f"credits --as-of {last} --format {form}"
    lines[f"report-{DEMO_PERIOD}-at-close.json"] = (
        f"report --period {DEMO_PERIOD} --as-of {closed} --format json"
    )
    for period in GENERATED_PERIODS:
        lines[f"report-{period}.json"] = f"report --period {period} --as-of {last} --format json"
        lines[f"credits-{period}.csv"] = f"credits --period {period} --as-of {last} --format csv"
        lines[f"incidents-{period}.json"] = (
            f"incidents --period {period} --as-of {last} --format json"
        )
    lines["report-2026-06-one-contract.table"] = (
        f"report --period 2026-06 --contract C-000003 --as-of {last}"
    )
    # The demo's month just before its close: every row provisional, most exposed first.
    before = format_utc(parse_rfc3339(closed) - timedelta(microseconds=1))
    for form in ("table", "json", "csv"):
        lines[f"exposure-{DEMO_PERIOD}-before-close.{form}"] = (
            f"exposure --period {DEMO_PERIOD} --as-of {before} --format {form}"
        )
    lines[f"exposure-{DEMO_PERIOD}.table"] = f"exposure --period {DEMO_PERIOD} --as-of {last}"
    for form in ("table", "json", "csv"):
        lines[f"alerts.{form}"] = f"alerts --as-of {last} --format {form}"
    lines["incidents-unplaced.table"] = "incidents --unplaced"
    lines["rejections.table"] = "rejections"
    lines["rejections.json"] = "rejections --format json"
    for contract, service, period in EXPLAINED:
        for form in ("text", "json"):
            lines[f"explain-{contract}-{service}-{period}.{form}"] = (
                f"explain --contract {contract} --service {service} --period {period} "
                f"--as-of {last} --format {form}"
            )
    for form in ("text", "json"):
        lines[f"diff-{DEMO_PERIOD}.{form}"] = (
            f"diff --period {DEMO_PERIOD} --from {closed} --to {last} --format {form}"
        )
    lines["audit-verify.text"] = "audit verify"
    lines["audit-rebuild.text"] = "audit rebuild"
    lines["audit-export.text"] = f"audit export --period {DEMO_PERIOD} --out {BUNDLE_MARK}"
    return {name: line.split() for name, line in lines.items()}


def outputs(store: Path, scratch: Path) -> dict[str, bytes]:
    """What each command prints on a copy of `store` made in `scratch` (its exit status,
    then its standard output and error), and each file of the audit bundle it exports
    (to `bundle`, named relative to `scratch`, where the commands run: the bundle's
    README names it); the copy's path is written as `STORE_MARK`."""
    from tests.cli_process import run_cli

    copy = scratch / "ledger.db"
    copy.write_bytes(store.read_bytes())
    url = f"sqlite:///{copy}"
    bundle = scratch / "bundle"
    found: dict[str, bytes] = {}
    for name, arguments in commands(copy).items():
        given = [bundle.name if a == BUNDLE_MARK else a for a in arguments]
        ran = run_cli(*given, store=url, cwd=scratch)
        text = f"exit {ran.returncode}\n--- stdout\n{ran.stdout}--- stderr\n{ran.stderr}"
        for spelled in (url, str(copy)):
            text = text.replace(spelled, STORE_MARK)
        found[name] = text.encode()
    for written in sorted(bundle.rglob("*")):
        if written.is_file():
            found[f"bundle/{written.relative_to(bundle)}"] = written.read_bytes()
    return found
