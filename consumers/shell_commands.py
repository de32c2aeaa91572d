"""How a printed command names the program and its paths, so that it runs as printed
from the user's shell (the demo's follow-up commands, the hint after `rejections
--export`)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path


def command_line(*args: str) -> str:
    """`sla-ledger ARGS` as the user's shell runs it: this very program, each argument
    shell-quoted."""
    return shlex.join([*program_argv(), *args])


def program_argv(executable: str | None = None) -> list[str]:
    """How to run this very `sla-ledger` from the user's shell.

    Not a bare `sla-ledger`: `python3 dev.py demo` runs the demo with `.venv/bin` on its
    PATH, but the user's shell does not have it there. The console script next to the
    running interpreter is the program that is running now; without one, the same
    interpreter runs the package (`python -m consumers`). The interpreter's own name is
    kept unresolved: a venv's `python` is a symlink, and resolving it leaves the venv.
    """
    interpreter = Path(executable or sys.executable)
    bin_dir = interpreter.parent.resolve()
    script = bin_dir / "sla-ledger"
    if script.is_file() and os.access(script, os.X_OK):
        return [_runnable(script)]
    return [_runnable(bin_dir / interpreter.name), "-m", "consumers"]


def _runnable(program: Path) -> str:
    """A program's path as a shell runs it: a bare name would be looked up on PATH."""
    shown = shown_path(program)
    return shown if os.sep in shown else f".{os.sep}{shown}"


def shown_path(path: Path, cwd: Path | None = None) -> str:
    """`path` relative to the current directory when it lies inside it, else absolute.

    The empty string stands for the current directory itself.
    """
    absolute = path.absolute()
    here = (cwd or Path.cwd()).resolve()
    try:
        relative = absolute.parent.resolve().joinpath(absolute.name).relative_to(here)
    except ValueError:
        return str(absolute)
    return "" if relative == Path() else str(relative)
