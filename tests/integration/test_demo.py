"""`sla-ledger demo` as a user runs it: it never replaces what it did not write, and the
commands it prints run as printed, from the user's shell, without the venv on PATH."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import contract
from tests.cli_process import run_cli as run
from tests.integration.test_cli import feed

pytestmark = pytest.mark.integration

MARKER = ".sla-ledger-demo.json"
DIR = "demo dir %41"
ESCAPED = "demo dir %2541"


def a_users_ledger(path: Path, tmp_path: Path) -> bytes:
    """A real ledger of the user's own at `path`, ingested by the CLI; its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ingest = run(
        "ingest", "--from-file", str(feed(tmp_path, [contract()])), store=f"sqlite:///{path}"
    )
    assert ingest.returncode == 0, ingest.stderr
    return path.read_bytes()


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def assert_refused(result: subprocess.CompletedProcess[str], *named: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("sla-ledger: error: demo: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in named:
        assert name in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "users_file", ["ledger.db", "notes.txt", "mine/ledger.db", "two\nlines\u202etxt.exe"]
)
def test_demo_refuses_a_directory_holding_a_users_file_and_leaves_it_untouched(
    tmp_path: Path, users_file: str
) -> None:
    directory = tmp_path / "demo"
    if users_file.endswith("ledger.db"):
        a_users_ledger(directory / users_file, tmp_path)
    else:
        directory.mkdir()
        (directory / users_file).write_text("my own notes\n")
    before = snapshot(directory)

    result = run("demo", "--dir", str(directory), cwd=tmp_path)

    # Named in one line: a newline or a U+202E in a name is shown escaped.
    shown = users_file.split("/")[0].replace("\n", "\\n").replace("\u202e", "\\u202e")
    assert_refused(result, shown, "--force", "choose another --dir")
    assert snapshot(directory) == before
    assert not (directory / MARKER).exists()


@pytest.mark.parametrize("store_kind", ["sqlite", "postgresql"])
def test_demo_refuses_a_store_that_holds_records_and_leaves_it_untouched(
    tmp_path: Path, store_kind: str, request: pytest.FixtureRequest
) -> None:
    if store_kind == "sqlite":
        store = f"sqlite:///{tmp_path / 'users.db'}"
    else:
        store = request.getfixturevalue("fresh_postgres_url")
    assert (
        run("ingest", "--from-file", str(feed(tmp_path, [contract()])), store=store).returncode == 0
    )
    sqlite_bytes = (tmp_path / "users.db").read_bytes() if store_kind == "sqlite" else None
    verified = run("audit", "verify", "--format", "json", store=store)

    # Even --force: the demo's entries would be permanent in the user's ledger.
    for extra in ([], ["--force"]):
        result = run(
            "demo", "--dir", str(tmp_path / "demo"), "--store", store, *extra, cwd=tmp_path
        )
        assert_refused(result, "--store")

    assert not (tmp_path / "demo").exists()
    assert run("audit", "verify", "--format", "json", store=store).stdout == verified.stdout
    if sqlite_bytes is not None:
        assert (tmp_path / "users.db").read_bytes() == sqlite_bytes


def printed_commands(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("The store stays behind"))
    return [line.strip() for line in lines[start + 1 :] if line.strip()]


def run_as_printed(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """In a shell whose PATH lacks the venv, as after `python3 dev.py demo`."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != venv_bin
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "SLA_LEDGER_STORE")}
    env["PATH"] = path or os.defpath
    return subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_runs_again_over_its_own_output_and_its_printed_commands_run_as_printed(
    tmp_path: Path,
) -> None:
    # A relative --dir with a space and a %41: the printed paths must be relative, quoted,
    # and the store URL's % escaped (its path is percent-decoded: %41 would become A).
    first = run("demo", "--dir", DIR, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    commands = printed_commands(first.stdout)
    subcommands = {" ".join(c.split()[1:3]) for c in commands}
    assert {"incidents --store", "audit check", "audit verify", "report --store"} <= subcommands
    for command in commands:
        assert not command.startswith("sla-ledger "), command
        assert f"'sqlite:///{ESCAPED}/ledger.db'" in command or f"'{DIR}/audit-bundle'" in command
        ran = run_as_printed(command, tmp_path)
        assert ran.returncode == 0, f"{command}\n{ran.stderr}"
        assert ran.stdout.strip(), command
        assert ran.stderr == "", f"{command}\n{ran.stderr}"

    # Reading the demo's store left it the demo's: a second run needs no --force.
    second = run("demo", "--dir", DIR, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "reversal" in second.stdout
    marker = json.loads((tmp_path / DIR / MARKER).read_text())
    assert set(snapshot(tmp_path / DIR)) - {MARKER} == {
        name for name, digest in marker["files"].items() if digest is not None
    }

    # A file the demo wrote but someone changed since is no longer the demo's.
    with (tmp_path / DIR / "events-2026-10.jsonl").open("a") as handle:
        handle.write("{}\n")
    assert_refused(run("demo", "--dir", DIR, cwd=tmp_path), "events-2026-10.jsonl")


def test_demo_force_replaces_only_the_demos_own_files(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    a_users_ledger(directory / "ledger.db", tmp_path)
    (directory / "notes.txt").write_text("my own notes\n")
    # A marker anyone edited cannot make the demo remove a path outside its own.
    (tmp_path / "outside.txt").write_text("keep\n")
    (directory / MARKER).write_text(json.dumps({"files": {"../outside.txt": None}}))

    forced = run("demo", "--dir", str(directory), "--force", cwd=tmp_path)

    assert forced.returncode == 0, forced.stderr
    assert (directory / "notes.txt").read_text() == "my own notes\n"
    assert (tmp_path / "outside.txt").read_text() == "keep\n"
    credits = run("credits", "--format", "json", store=f"sqlite:///{directory / 'ledger.db'}")
    assert {e["contract_id"] for e in json.loads(credits.stdout)["entries"]} >= {"C-2002"}
    # What the demo did not write is still there, so the next run must be told again.
    assert_refused(run("demo", "--dir", str(directory), cwd=tmp_path), "notes.txt")


def test_demo_writes_into_a_new_store_given_with_store_and_not_twice(
    store_url: str, tmp_path: Path
) -> None:
    args = ["demo", "--dir", "demo", "--store", store_url]

    first = run(*args, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert not (tmp_path / "demo" / "ledger.db").exists()
    for command in printed_commands(first.stdout):
        assert "--store" not in command or shlex.quote(store_url) in command, command
    credits = run("credits", "--format", "json", store=store_url)
    assert {e["contract_id"] for e in json.loads(credits.stdout)["entries"]} >= {"C-2002"}
    assert_refused(run(*args, cwd=tmp_path), "--store")


@pytest.mark.parametrize(
    "marker",
    [
        b'{"files":' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # RecursionError before
        b'{"files": {"ledger.db": null}, "files": {}}',  # a key twice
        b'{"files": 1e999999}',
        b"\xff\xfe",
        b"[]",
    ],
    ids=["nested-deep", "duplicate-key", "huge-number", "not-utf8", "not-an-object"],
)
def test_demo_refuses_a_directory_whose_marker_it_cannot_read(
    tmp_path: Path, marker: bytes
) -> None:
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / MARKER).write_bytes(marker)

    result = run("demo", "--dir", str(directory), cwd=tmp_path)

    assert_refused(result, MARKER, "--force", "choose another --dir")
    assert (directory / MARKER).read_bytes() == marker
