"""`sla-ledger demo` as a user runs it: it never replaces what it did not write, and the
commands it prints run as printed, from the user's shell, without the venv on PATH."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from consumers.intake.kafka_config import (
    ALERTS_TOPIC,
    CREDITS_TOPIC,
    DEAD_LETTER_TOPIC,
    INBOUND_TOPICS,
)
from tests.builders import contract
from tests.cli_process import environment
from tests.cli_process import run_cli as run
from tests.http_server import SERVING
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


def desk_commands(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("See the month in a"))
    end = next(i for i, line in enumerate(lines) if line.startswith("The store stays behind"))
    return [line.strip() for line in lines[start + 2 : end] if line.strip()]


def open_the_desk_as_printed(stdout: str, cwd: Path) -> None:
    """The demo's two desk commands as printed (serve on a free port rather than 8080,
    which another program may hold), then the late correction in the desk's row page."""
    make_key, serve = desk_commands(stdout)
    made = run_as_printed(make_key, cwd)
    assert made.returncode == 0, made.stderr
    key = made.stdout.split(": ", 1)[1].splitlines()[0].strip()
    assert serve.endswith("--listen 127.0.0.1:8080"), serve
    process = subprocess.Popen(
        ["/bin/sh", "-c", "exec " + serve.removesuffix("8080") + "0"],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        base = next(m.group(1) for line in process.stdout if (m := SERVING.search(line)))
        with httpx.Client(base_url=base, timeout=60) as browser:
            signed = browser.post("/web/sign-in", data={"api_key": key, "then": "/web/periods"})
            assert signed.status_code == 303, signed.text
            row = browser.get("/web/periods/2026-10/rows/C-2002/crm")
            assert row.status_code == 200, row.text
            assert "A$300.00" in row.text
            assert "outage.amended" in row.text
    finally:
        process.terminate()
        assert process.wait(60) == 0


def run_as_printed(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """In a shell whose PATH lacks the venv, as after `python3 dev.py demo`."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != venv_bin
    )
    env = environment()
    env.pop("VIRTUAL_ENV", None)
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

    open_the_desk_as_printed(first.stdout, tmp_path)

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


@pytest.mark.parametrize("where", ["immutable", "under /proc", "under a file"])
def test_demo_in_a_directory_it_cannot_write_is_one_line_and_leaves_nothing(
    tmp_path: Path, where: str
) -> None:
    immutable = tmp_path / "ro"
    if where == "immutable":
        immutable.mkdir()
        subprocess.run(["chattr", "+i", str(immutable)], check=True)
        directory = immutable
    elif where == "under /proc":
        directory = Path("/proc/sla-ledger-demo-x")
    else:
        (tmp_path / "a-file").write_text("mine\n")
        directory = tmp_path / "a-file" / "demo"
    before = snapshot(tmp_path)
    try:
        result = run("demo", "--dir", str(directory), cwd=tmp_path)
        after = sorted(p.name for p in immutable.iterdir()) if immutable.exists() else []
    finally:
        if where == "immutable":
            subprocess.run(["chattr", "-i", str(immutable)], check=True)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"sla-ledger: error: demo: cannot write into --dir {directory}: ")
    assert "internal error" not in lines[0]
    assert "Error" not in lines[0]  # no Python exception names
    assert result.stdout == ""
    assert after == []
    assert snapshot(tmp_path) == before
    assert directory.exists() == (where == "immutable")  # made by the test, or not at all


PRODUCTION_TOPICS = (*INBOUND_TOPICS, CREDITS_TOPIC, ALERTS_TOPIC, DEAD_LETTER_TOPIC)
RUN_PREFIX = re.compile(r"sla-demo-[0-9a-f]{12}")


def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[str, dict[int, int]]:
    """Each existing topic's end offset per partition (a missing topic: absent)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    try:
        existing = set(admin.list_topics())
    finally:
        admin.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","))
    try:
        found: dict[str, dict[int, int]] = {}
        for topic in (t for t in topics if t in existing):
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            found[topic] = {tp.partition: o for tp, o in consumer.end_offsets(partitions).items()}
        return found
    finally:
        consumer.close()


def credit_story(directory: Path) -> list[tuple[str, str, str, int, str]]:
    listed = run("credits", "--format", "json", store=f"sqlite:///{directory / 'ledger.db'}")
    assert listed.returncode == 0, listed.stderr
    return [
        (e["contract_id"], e["service_id"], e["kind"], e["revision"], e["amount"])
        for e in json.loads(listed.stdout)["entries"]
    ]


def alert_story(directory: Path) -> list[tuple[str, str, str, str]]:
    listed = run("alerts", "--format", "json", store=f"sqlite:///{directory / 'ledger.db'}")
    assert listed.returncode == 0, listed.stderr
    return [
        (a["alert_id"], a["contract_id"], a["kind"], a["threshold"])
        for a in json.loads(listed.stdout)["alerts"]
    ]


def test_demo_on_a_shared_broker_uses_topics_of_its_own_and_tells_its_story_every_time(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    production_before = end_offsets(kafka_bootstrap, PRODUCTION_TOPICS)
    runs = [
        run(
            "demo",
            "--dir",
            str(tmp_path / name),
            "--bootstrap-servers",
            kafka_bootstrap,
            cwd=tmp_path,
            timeout=300,
        )
        for name in ("first", "second")
    ]
    production_after = end_offsets(kafka_bootstrap, PRODUCTION_TOPICS)

    stories = []
    prefixes = []
    for result in runs:
        assert result.returncode == 0, result.stderr
        [prefix] = set(RUN_PREFIX.findall(result.stdout))
        prefixes.append(prefix)
        # It says which topics and group it used, none of them a production name.
        assert f"on topics of this run only: {prefix}.contracts, {prefix}.outages, " in (
            result.stdout
        )
        assert f"consumer group {prefix}" in result.stdout
        for topic in PRODUCTION_TOPICS:
            assert not re.search(rf"(?<![\w.-]){re.escape(topic)}\b", result.stdout), topic
        ingest = [
            re.sub(r" \([\d,.]+/s\)", "", line.strip().replace(prefix, "RUN"))
            for line in result.stdout.splitlines()
            if line.strip().startswith(("consumed", "published", "outboxes:"))
        ]
        stories.append(ingest)
    assert prefixes[0] != prefixes[1]
    # The same story both times: the second run reads nothing the first left behind.
    assert stories[0] == stories[1]
    # The month in two parts (the early warning between them), then the late correction
    # and the customers' claims.
    assert [line for line in stories[0] if line.startswith("consumed")] == [
        "consumed 17: accepted 14, duplicates 1, rejected 2",
        "consumed 21: accepted 21, duplicates 0, rejected 0",
        "consumed 3: accepted 3, duplicates 0, rejected 0",
    ]
    # The same alerts both times, raised after the first part (ids are the conditions').
    first_alerts, second_alerts = (alert_story(tmp_path / name) for name in ("first", "second"))
    assert first_alerts == second_alerts
    assert [(contract, kind, threshold) for _, contract, kind, threshold in first_alerts] == [
        ("C-4004", "availability.budget", "50"),  # its year's budget (sla-math §9)
        *(("C-1001", "availability.budget", t) for t in ("50", "75", "90", "100")),
        ("C-1001", "availability.tier", "99.9"),
        *(("C-2002", "availability.budget", t) for t in ("50", "75", "90", "100")),
        ("C-2002", "availability.tier", "99.9"),
        ("C-3003", "response.missed", "INC-77"),
    ]
    first, second = (credit_story(tmp_path / name) for name in ("first", "second"))
    assert (
        first
        == second
        == [
            # The close: C-1001 and C-3003 pay only when claimed in time (sla-math §10).
            ("C-2002", "crm", "issue", 1, "120.00"),
            # After it: Northwind's claim, in time; Globex's came too late, so nothing.
            ("C-1001", "api", "issue", 1, "1200.00"),
            ("C-2002", "crm", "reversal", 1, "-120.00"),  # the correction after the close
            ("C-2002", "crm", "issue", 2, "300.00"),
        ]
    )

    # Its own topics hold its messages; the production topics got nothing.
    assert production_after == production_before
    mine = end_offsets(
        kafka_bootstrap,
        [
            f"{prefixes[0]}.{t}"
            for t in ("contracts", "outages", "incidents", "claims", "credits", "rejected")
        ],
    )
    assert {t: sum(o.values()) > 0 for t, o in mine.items()} == {
        f"{prefixes[0]}.{t}": True
        for t in ("contracts", "outages", "incidents", "claims", "credits", "rejected")
    }


@pytest.mark.parametrize("form", ["before the host", "as a query parameter"])
def test_demo_on_postgresql_prints_no_password(
    fresh_postgres_url: str, tmp_path: Path, form: str
) -> None:
    assert "postgres:@" in fresh_postgres_url  # the test server: any password is accepted
    if form == "before the host":
        store = fresh_postgres_url.replace("postgres:@", "postgres:s3cret@", 1)
    else:
        store = fresh_postgres_url + "&password=s3cret"

    result = run("demo", "--dir", str(tmp_path / "demo"), "--store", store, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    assert "The password of --store is not printed: put it in place of *** to run these." in (
        result.stdout
    )
    commands = printed_commands(result.stdout)
    with_store = [c for c in commands if "--store" in c]
    # report, credits, rejections, incidents, alerts, claims, the year's report, two
    # explains, diff, audit verify
    assert len(with_store) == 11
    assert any(" alerts --store " in c for c in with_store)
    assert all("***" in c for c in with_store)
    # Put back, the password makes the printed command run.
    report = with_store[0].replace("***", "s3cret")
    ran = run_as_printed(report, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "C-2002" in ran.stdout


def test_demo_on_sqlite_says_nothing_about_a_password(tmp_path: Path) -> None:
    result = run("demo", "--dir", str(tmp_path / "demo"), "--store", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 0, result.stderr
    assert "password" not in result.stdout


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
