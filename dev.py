#!/usr/bin/env python3
"""One entry point for a fresh machine: set up `.venv`, then run the demo or the checks.

    python3 dev.py demo [args]      install if needed, then `sla-ledger demo [args]`
    python3 dev.py test [args]      install if needed (and Chromium for the web view's browser
                                    tests), then ruff check, ruff format --check, mypy,
                                    lint-imports, pytest [args]; stops at the first failure
    python3 dev.py lint             install if needed, then the static checks only
    python3 dev.py install          (re)install now, even if pyproject.toml did not change

Standard library only, Python 3.11+, so it runs before anything is installed. The
project is installed editable with its dev extras into `.venv` next to this file, and
again only when `pyproject.toml` changed since the last successful install: a hash of
it is kept in `.venv` (see STAMP). The exit code is that of the failing step.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

MINIMUM_PYTHON = (3, 11)

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
VENV_PYTHON = VENV_BIN / ("python.exe" if os.name == "nt" else "python")
PYPROJECT = ROOT / "pyproject.toml"
# The project's own packages (compiled to bytecode once, see `compile_sources`).
PACKAGES = ("ledger", "projections", "consumers")
# Hash of the pyproject.toml last installed. Inside .venv so that deleting the venv
# also forgets the install, and a fresh venv always gets one.
STAMP = VENV / ".sla-ledger-pyproject.sha256"

STATIC_CHECKS: list[tuple[str, list[str]]] = [
    ("ruff check", ["ruff", "check", "."]),
    ("ruff format --check", ["ruff", "format", "--check", "."]),
    ("mypy", ["mypy"]),  # files and --strict come from [tool.mypy] in pyproject.toml
    ("lint-imports", ["lint-imports"]),
]

# The browser the web view's tests drive (Playwright for Python launches it: it never
# downloads one of its own). Debian's package, installed with apt-get when missing; set
# SLA_LEDGER_BROWSER to use another Chromium instead.
BROWSER = Path("/usr/bin/chromium")
BROWSER_PACKAGES = ("chromium",)

# pytest's "no tests were collected". A suite that runs nothing proves nothing.
PYTEST_NO_TESTS_COLLECTED = 5


def say(line: str) -> None:
    print(f"dev.py: {line}", flush=True)


def fail(line: str, code: int) -> int:
    print(f"dev.py: FAILED: {line}", file=sys.stderr, flush=True)
    return code


def pyproject_hash() -> str:
    return hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()


def tool_environment() -> dict[str, str]:
    """The environment of an activated venv, so that tools and tests find its commands."""
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env.pop("PYTHONHOME", None)
    # Never wait for an answer: CI has no stdin, and a prompt would hang until timeout.
    env["PIP_NO_INPUT"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def ensure_installed(*, force: bool = False) -> int:
    """Create `.venv` if missing and install the project if pyproject.toml changed."""
    if not VENV_PYTHON.exists():
        say(f"creating {VENV.relative_to(ROOT)} with {sys.executable}")
        created = subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False)
        if created.returncode != 0:
            return fail(
                "python -m venv could not create .venv (on Debian/Ubuntu install the "
                "python3-venv package)",
                created.returncode,
            )
        STAMP.unlink(missing_ok=True)

    wanted = pyproject_hash()
    installed = STAMP.read_text().strip() if STAMP.exists() else None
    if installed == wanted and not force:
        return 0

    say('installing the project: pip install -e ".[dev]"')
    pip = subprocess.run(
        [str(VENV_PYTHON), "-m", "pip", "install", "-e", ".[dev]"],
        cwd=ROOT,
        env=tool_environment(),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if pip.returncode != 0:
        # No stamp: the next run tries again instead of trusting a half-done install.
        STAMP.unlink(missing_ok=True)
        return fail(
            f'step "install" (pip install -e ".[dev]") exited with {pip.returncode}',
            pip.returncode,
        )
    STAMP.write_text(wanted + "\n")
    return 0


def ensure_browser() -> int:
    """Install Debian's chromium unless it (or $SLA_LEDGER_BROWSER) is there: `apt-get`
    as root, or through `sudo -n` (never a password prompt: CI has no stdin)."""
    chosen = os.environ.get("SLA_LEDGER_BROWSER")
    if chosen:
        if Path(chosen).exists():
            return 0
        return fail(f"SLA_LEDGER_BROWSER names {chosen}, which does not exist: fix or unset it", 2)
    if BROWSER.exists():
        return 0
    apt = shutil.which("apt-get")
    if apt is None:
        return fail(
            f"the web view's browser tests need Chromium at {BROWSER}, and this machine has no "
            "apt-get: install Chromium and set SLA_LEDGER_BROWSER to its path",
            2,
        )
    prefix = [] if os.name != "posix" or os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    steps = (
        [*prefix, apt, "-q", "update"],
        [*prefix, apt, "-q", "-y", "install", "--no-install-recommends", *BROWSER_PACKAGES],
    )
    say(f"installing the web tests' browser: apt-get install {' '.join(BROWSER_PACKAGES)}")
    for command in steps:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, env=env, check=False)
        if done.returncode != 0:
            return fail(
                f"{' '.join(command)} exited with {done.returncode}: install Chromium yourself "
                "(or set SLA_LEDGER_BROWSER to one) and run again",
                done.returncode,
            )
    return 0


def compile_sources() -> None:
    """Write the project's bytecode next to its sources. An editable install does not,
    and where PYTHONDONTWRITEBYTECODE is set (as on the development machines) Python then
    compiles every module again in every process, a few tenths of a second per command.
    Up-to-date files are skipped, and a source edited later is compiled again on import
    (its bytecode no longer matches), so this can never run stale code."""
    subprocess.run(
        [str(VENV_PYTHON), "-m", "compileall", "-q", *PACKAGES],
        cwd=ROOT,
        env=tool_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        check=False,
    )


def run_steps(steps: list[tuple[str, list[str]]]) -> int:
    """Run each step in order, naming it first; stop at the first failure."""
    env = tool_environment()
    for number, (name, command) in enumerate(steps, start=1):
        say(f"[{number}/{len(steps)}] {name}: {' '.join(command)}")
        started = time.monotonic()
        executable = str(VENV_BIN / command[0])
        code = subprocess.run([executable, *command[1:]], cwd=ROOT, env=env, check=False).returncode
        elapsed = time.monotonic() - started
        if code == PYTEST_NO_TESTS_COLLECTED and command[0] == "pytest":
            return fail(f'step "{name}" collected no tests (exit code {code})', code)
        if code != 0:
            return fail(f'step "{name}" exited with {code} after {elapsed:.1f} s', code)
        say(f"[{number}/{len(steps)}] {name}: ok ({elapsed:.1f} s)")
    say(f"all {len(steps)} steps passed")
    return 0


def exec_demo(args: list[str]) -> int:
    command = [str(VENV_BIN / "sla-ledger"), "demo", *args]
    say(f"running sla-ledger {' '.join(command[1:])}")
    if os.name == "nt":  # no real exec on Windows: wait and pass the exit code on
        return subprocess.run(command, cwd=ROOT, env=tool_environment(), check=False).returncode
    os.execve(command[0], command, tool_environment())


def main(argv: list[str]) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        wanted = ".".join(map(str, MINIMUM_PYTHON))
        found = ".".join(map(str, sys.version_info[:3]))
        return fail(f"expected Python {wanted} or newer, found {found} ({sys.executable})", 2)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0 if argv else 2

    command, args = argv[0], argv[1:]
    if command not in ("demo", "test", "lint", "install"):
        print(__doc__)
        return fail(f"expected one of demo, test, lint, install; found {command!r}", 2)

    installed = ensure_installed(force=command == "install")
    if installed == 0:
        compile_sources()
    if installed != 0 or command == "install":
        return installed
    if command == "demo":
        return exec_demo(args)
    if command == "lint":
        if args:
            return fail(f"lint takes no arguments, found {args}", 2)
        return run_steps(STATIC_CHECKS)
    browser = ensure_browser()
    if browser != 0:
        return browser
    # The slowest tests are listed at the end, so a run that grows slow says which.
    return run_steps([*STATIC_CHECKS, ("pytest", ["pytest", "--durations=20", *args])])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
