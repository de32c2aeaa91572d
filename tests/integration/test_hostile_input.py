"""Hostile bytes through every door: a file, standard input, the broker, `publish`.

Each hostile input sits between good ones. Whatever it is, the good inputs are accepted,
the hostile one is rejected with a reason that names the field and the rule, it is kept
and listed by `rejections`, and the process goes on: no traceback, no crash.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from consumers.intake.kafka_config import KafkaSettings
from consumers.intake.publish import publish_file
from tests.builders import contract, outage
from tests.cli_process import run_cli as run
from tests.cli_process import succeeded
from tests.integration.test_kafka_intake import (
    Ingest,
    Message,
    TopicReader,
    headers_of,
    ingest_args,
    new_group,
    new_topics,
    produce,
    routed,
)

pytestmark = pytest.mark.integration


def line(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


GOOD = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
STARTED = outage("O-2", "2026-03-11T10:00:00Z", None)[0]


def _changed(document: dict[str, Any], **payload: Any) -> dict[str, Any]:
    return {
        **document,
        "event_id": str(uuid.uuid4()),
        "payload": {**document["payload"], **payload},
    }


# (case, raw line, field, a fragment of the rule)
HOSTILE: list[tuple[str, bytes, str, str]] = [
    ("1,000 nested arrays", b"[" * 1000 + b"]" * 1000, "(document)", "nested more than 32 deep"),
    (
        "1,000 nested objects",
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        "(document)",
        "nested more than 32 deep",
    ),
    (
        "nesting under a well-formed event_id",
        b'{"event_id": "%s", "x": %s}' % (str(uuid.uuid4()).encode(), b"[" * 999 + b"]" * 999),
        "(document)",
        "nested more than 32 deep",
    ),
    ("a huge exponent", b"1e999999", "(document)", "must be a JSON object, got number"),
    (
        "a 5000-digit integer",
        b'{"schema_version": ' + b"9" * 5000 + b"}",
        "(document)",
        "a number has too many digits",
    ),
    (
        "a lone surrogate as event_id",
        line({**STARTED, "event_id": "\ud800"}),
        "event_id",
        "must be a UUID",
    ),
    (
        "a NUL in an identifier",
        line(_changed(STARTED, outage_id="O-\x00")),
        "payload.outage_id",
        "must not contain control characters",
    ),
    ("NUL bytes", b"\x00\x00", "(document)", "malformed JSON"),
    (
        "a byte order mark inside the file",
        b"\xef\xbb\xbf" + line(_changed(STARTED)),
        "(document)",
        "starts with a byte order mark",
    ),
    (
        "a 100,000-character identifier",
        line(_changed(STARTED, outage_id="o" * 100_000)),
        "payload.outage_id",
        "must be at most 200 characters, got 100000",
    ),
    (
        "a negative fee",
        line(contract(contract_id="C-2", event_id=str(uuid.uuid4()))).replace(
            b'"monthly_fee": "1000.00"', b'"monthly_fee": "-100.00"'
        ),
        "payload.services[0].monthly_fee",
        'must not be negative, got "-100.00"',
    ),
    ("a string", b'"just a string"', "(document)", 'must be a JSON object, got string "just'),
    ("an array", b"[1, 2, 3]", "(document)", "must be a JSON object, got array"),
    ("not UTF-8", b"\xff\xfe{}", "(document)", "not valid UTF-8 at byte 0"),
]


def hostile_file(tmp_path: Path) -> tuple[Path, dict[int, tuple[str, str]]]:
    """Good lines with every hostile one between them (and a blank line); the good first
    line starts with a byte order mark, as some editors write it. Returns the file and
    line number -> (field, rule fragment) of each hostile line."""
    lines = [b"\xef\xbb\xbf" + line(GOOD[0])]
    expected: dict[int, tuple[str, str]] = {}
    for index, (_, raw, field, rule) in enumerate(HOSTILE):
        lines.append(raw)
        expected[len(lines)] = (field, rule)
        if index == 3:
            lines.append(b"")
        if index in (5, 10):
            lines.append(line(GOOD[1 if index == 5 else 2]))
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, expected


def assert_listed(store: str, expected: dict[int, tuple[str, str]], file: str) -> None:
    listed = json.loads(run("rejections", "--format", "json", store=store).stdout)["rejections"]
    by_line = {r["origin"]["line"]: r for r in listed}
    assert set(by_line) == set(expected)
    for number, (field, rule) in expected.items():
        rejection = by_line[number]
        assert rejection["origin"]["file"] == file
        assert rejection["field"] == field, rejection["reason"]
        assert rejection["reason"].startswith(f"{field}: "), rejection["reason"]
        assert rule in rejection["reason"], rejection["reason"]
        assert rejection["resubmitted"] is False


def test_hostile_lines_between_good_ones_are_rejected_and_ingest_goes_on(
    store_url: str, tmp_path: Path
) -> None:
    path, expected = hostile_file(tmp_path)
    ingest = run("ingest", "--from-file", str(path), "--format", "json", store=store_url)
    assert ingest.returncode == 0, ingest.stderr
    assert ingest.stderr == ""
    summary = json.loads(ingest.stdout)
    assert (summary["accepted"], summary["rejected"], summary["blank_lines"]) == (
        len(GOOD),
        len(HOSTILE),
        1,
    )
    assert_listed(store_url, expected, str(path.resolve()))
    # Read again, nothing changes: each rejection is kept once, each event is a duplicate.
    again = run("ingest", "--from-file", str(path), store=store_url)
    assert again.stdout.startswith(
        f"accepted 0, duplicates {len(GOOD)}, rejected {len(HOSTILE)} "
        f"(of {len(GOOD) + len(HOSTILE)} inputs); 1 blank line skipped"
    ), again.stdout
    assert_listed(store_url, expected, str(path.resolve()))


def test_standard_input_is_read_with_the_origin_stdin(store_url: str, tmp_path: Path) -> None:
    path, expected = hostile_file(tmp_path)
    ingest = run("ingest", "--from-file", "-", store=store_url, stdin=path.read_bytes())
    assert ingest.returncode == 0, ingest.stderr
    assert ingest.stdout.startswith(f"accepted {len(GOOD)}, duplicates 0, rejected {len(HOSTILE)}")
    assert_listed(store_url, expected, "<stdin>")


def test_progress_on_standard_input_counts_bytes_until_the_end(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    lines = b"[]\n" * 1500
    shown = run("ingest", "--from-file", "-", "--progress", store=store, stdin=lines)
    assert shown.returncode == 0, shown.stderr
    # No size to show a share of while reading: the bytes read; at the end, all of it.
    updates = shown.stderr.split("\r")[1:]
    assert updates[0].startswith("ingest stdin 3,000 bytes  1,000 inputs"), updates
    assert updates[-1].startswith("ingest stdin [##############################] 100.0%")
    assert updates[-1].endswith("\n")


def test_dev_null_is_an_empty_input_and_a_directory_is_named_as_such(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    empty = run("ingest", "--from-file", os.devnull, store=store)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.startswith("accepted 0, duplicates 0, rejected 0 (of 0 inputs)")
    directory = run("ingest", "--from-file", str(tmp_path), store=store)
    assert directory.returncode == 2
    assert directory.stderr.strip() == (
        f"sla-ledger: error: ingest: {tmp_path} is a directory: give a JSON Lines file"
    )
    missing = run("ingest", "--from-file", str(tmp_path / "nope.jsonl"), store=store)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    publish = run(
        "publish", "--from-file", str(tmp_path), "--bootstrap-servers", "127.0.0.1:1", store=store
    )
    assert publish.returncode == 2
    assert "is a directory" in publish.stderr


def test_hostile_messages_are_dead_lettered_and_the_consumer_goes_on_after_a_restart(
    kafka_bootstrap: str, store_url: str, tmp_path: Path
) -> None:
    topics = new_topics(kafka_bootstrap, "hostile")
    group = new_group()
    hostile = [raw for _, raw, _, _ in HOSTILE]
    # One key: one partition, so the offsets follow the list.
    first = [Message(topics.outages, b"O-1", raw) for raw in [line(GOOD[1]), *hostile]]
    produce(kafka_bootstrap, first)

    def ingest(name: str) -> dict[str, Any]:
        args = ingest_args(kafka_bootstrap, store_url, topics, group, idle=2.0)
        return Ingest(args, tmp_path, name).result()

    counts = ingest("first")
    assert (counts["accepted"], counts["rejected"]) == (1, len(hostile)), counts
    assert counts["dead_letters_published"] == len(hostile), counts
    # A restart in the same group starts after the poison (it is no pill) and goes on.
    produce(kafka_bootstrap, [routed(topics, GOOD[0]), routed(topics, GOOD[2])])
    counts = ingest("second")
    assert (counts["accepted"], counts["rejected"]) == (2, 0), counts

    listed = json.loads(succeeded("rejections", "--store", store_url, "--format", "json"))
    by_offset = sorted(listed["rejections"], key=lambda r: r["origin"]["offset"])
    assert len(by_offset) == len(HOSTILE)
    for rejection, (case, _, field, rule) in zip(by_offset, HOSTILE, strict=True):
        assert rejection["field"] == field, case
        assert rule in rejection["reason"], (case, rejection["reason"])
    dead = TopicReader(kafka_bootstrap, topics.rejected)
    try:
        letters = dead.until(len(hostile), "the hostile messages on the dead-letter topic")
    finally:
        dead.close()
    assert sorted(letter.value for letter in letters) == sorted(hostile)
    assert sorted(headers_of(letter)["field"] for letter in letters) == sorted(
        field.encode() for _, _, field, _ in HOSTILE
    )


def test_publish_sends_what_routes_and_names_each_line_that_does_not(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = new_topics(kafka_bootstrap, "publish")
    path, expected = hostile_file(tmp_path)
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap, topics=(), group_id=new_group())
    summary = publish_file(path, settings, topic_override=topics.as_override())
    # A line that cannot be parsed (or is no object) is named with the ledger's own
    # reason and not sent; one whose type and subject route it is sent, and the ledger
    # rejects it on intake like any other.
    unparsable = {n: rule for n, (field, rule) in expected.items() if field == "(document)"}
    unroutable = dict(summary.unroutable)
    assert set(unroutable) == set(unparsable)
    for number, rule in unparsable.items():
        assert unroutable[number].startswith("(document): ")
        assert rule in unroutable[number]
    assert summary.sent == len(GOOD) + len(HOSTILE) - len(unparsable)


def test_a_subject_no_kafka_key_can_hold_is_named_not_sent(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = new_topics(kafka_bootstrap, "surrogate")
    path = tmp_path / "surrogate.jsonl"
    path.write_bytes(line(_changed(STARTED, outage_id="\ud800")) + b"\n" + line(GOOD[0]) + b"\n")
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap, topics=(), group_id=new_group())
    summary = publish_file(path, settings, topic_override=topics.as_override())
    assert summary.sent == 1
    assert summary.unroutable == [
        (1, "payload.outage_id: holds an unpaired surrogate, cannot key the message")
    ]
