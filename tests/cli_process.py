"""The command line as a user runs it, the one way the tests run it.

`run_cli` runs `python -m consumers` in a child process to its end, with the store named
by `SLA_LEDGER_STORE` (or none), its output as text; `succeeded` is the same for a
command that must succeed, and gives its standard output. A test that starts the
program and acts on it while it runs (signals, a Kafka worker) starts `SLA_LEDGER` with
`environment()`. `run_in_process` calls the CLI's `main` in this process, for a test
that asks dozens of questions of one store and compares the answers byte for byte.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

# The program as installed (the venv's `sla-ledger` script), else the same entry point
# through this interpreter.
_SCRIPT = Path(sys.executable).with_name("sla-ledger")
SLA_LEDGER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "consumers"]


def environment(store: str | None = None, *, debug: bool = True) -> dict[str, str]:
    """This process's environment for the program: `SLA_LEDGER_STORE` only when
    `store` names one (never the caller's), and without `SLA_LEDGER_DEBUG` unless
    `debug` (a test that reads the program's messages wants them as a user sees them)."""
    dropped = ("SLA_LEDGER_STORE",) if debug else ("SLA_LEDGER_STORE", "SLA_LEDGER_DEBUG")
    found = {k: v for k, v in os.environ.items() if k not in dropped}
    if store is not None:
        found["SLA_LEDGER_STORE"] = store
    return found


def run_cli(
    *args: str,
    store: str | None = None,
    cwd: Path | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `sla-ledger ARGS` to its end; `stdin` is fed as raw bytes (none: no input)."""
    done = subprocess.run(
        [sys.executable, "-m", "consumers", *args],
        env={**environment(store), **(env or {})},
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


def succeeded(*args: str, store: str | None = None, timeout: float = 120) -> str:
    """The standard output of `sla-ledger ARGS`, which must exit 0."""
    done = run_cli(*args, store=store, timeout=timeout)
    assert done.returncode == 0, f"sla-ledger {' '.join(args)}: {done.stderr}"
    return done.stdout


def run_in_process(*args: str) -> str:
    """The standard output of the CLI's `main(ARGS)` in this process, which must
    return 0: no interpreter start per command."""
    from consumers.cli.main import main

    out = io.StringIO()
    with redirect_stdout(out):
        status = main(list(args))
    assert status == 0, out.getvalue()
    return out.getvalue()
