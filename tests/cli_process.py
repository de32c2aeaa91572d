"""The command line as a user runs it: `python -m consumers` in a child process, with the
store named by `SLA_LEDGER_STORE` (or none), its output as text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str,
    store: str | None = None,
    cwd: Path | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `sla-ledger ARGS` to its end; `stdin` is fed as raw bytes (none: no input)."""
    environment = {k: v for k, v in os.environ.items() if k != "SLA_LEDGER_STORE"}
    if store is not None:
        environment["SLA_LEDGER_STORE"] = store
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "consumers", *args],
        env=environment,
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )
