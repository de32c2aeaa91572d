"""How the demo names the program and the paths in the commands it prints (pure path logic)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from consumers.shell_commands import program_argv, shown_path


def test_a_path_inside_the_current_directory_is_shown_relative(tmp_path: Path) -> None:
    assert shown_path(tmp_path / "sla-ledger-demo" / "ledger.db", tmp_path) == str(
        Path("sla-ledger-demo") / "ledger.db"
    )


def test_a_path_outside_the_current_directory_is_shown_absolute(tmp_path: Path) -> None:
    inside = tmp_path / "here"
    inside.mkdir()
    assert shown_path(tmp_path / "elsewhere" / "ledger.db", inside) == str(
        tmp_path / "elsewhere" / "ledger.db"
    )


def test_the_console_script_next_to_the_interpreter_is_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "sla-ledger"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    assert program_argv(str(bin_dir / "python")) == [os.path.join(".venv", "bin", "sla-ledger")]


def test_without_a_console_script_the_same_interpreter_runs_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert program_argv(str(tmp_path / "python3")) == ["./python3", "-m", "consumers"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert program_argv(str(tmp_path / "python3")) == [str(tmp_path / "python3"), "-m", "consumers"]
