"""`audit check` on a bundle someone else handed over: untrusted bytes in every file.

Whatever is in the directory (or is not), the check ends in words and exit status 1: one
line on stderr, the failed check named on stdout, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.chain import link, record_sha256
from ledger.periods import Period
from projections.credit_entries import close_period
from projections.store import LedgerStore
from projections.store.chain_append import library_state
from tests.builders import contract, outage
from tests.cli_process import run_cli as run
from tests.tampering import set_record, tamper

pytestmark = pytest.mark.integration

NESTED = b"[" * 1000 + b"]" * 1000


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine bundle of March 2026: one contract, one outage (50 minutes: the five
    alerts of a budget spent and a tier crossed, raised when ingested), a close, one entry."""
    base = tmp_path_factory.mktemp("bundle")
    store_url = f"sqlite:///{base / 'ledger.db'}"
    events = base / "events.jsonl"
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    events.write_text("".join(json.dumps(d) + "\n" for d in docs))
    assert run("ingest", "--from-file", str(events), store=store_url).returncode == 0
    with LedgerStore(store_url, access="create") as store:
        close_period(store, Period(2026, 3), datetime.now(UTC))
    bundle = base / "b"
    exported = run("audit", "export", "--period", "2026-03", "--out", str(bundle), store=store_url)
    assert exported.returncode == 0, exported.stderr
    assert run("audit", "check", str(bundle)).returncode == 0
    return bundle


def _forge(bundle: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    """Change a file and, like a careful forger, give the manifest its new digest."""
    path = bundle / name
    path.write_bytes(change(path.read_bytes()))
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def _first_line_replaced(new: bytes) -> Callable[[bytes], bytes]:
    return lambda text: b"\n".join([new, *text.split(b"\n")[1:]])


def _replaced(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(text: bytes) -> bytes:
        assert old in text
        return text.replace(old, new, 1)

    return change


# (case, file, change, where the words are, what they say)
FORGED: list[tuple[str, str, Callable[[bytes], bytes], str, str]] = [
    (
        "nested chain line",
        "chain.jsonl",
        _first_line_replaced(NESTED),
        "stdout",
        "FAIL structure: a file is not in the bundle format: chain.jsonl line 1: "
        "malformed JSON: arrays and objects nested more than 32 deep",
    ),
    (
        "nested envelope inside an event",
        "events.jsonl",
        _replaced(b'"envelope":"{', b'"envelope":"' + NESTED + b"{"),
        "stdout",
        "envelope: malformed JSON: arrays and objects nested more than 32 deep",
    ),
    (
        "a huge exponent as a position",
        "chain.jsonl",
        _replaced(b'"position":1', b'"position":1e999999999'),
        "stdout",
        "chain.jsonl line 1: malformed JSON: 1e999999999 is not an integer",
    ),
    (
        "a record time past year 9999",
        "events.jsonl",
        _replaced(b'"recorded_us":', b'"recorded_us":9' + b"9" * 30),
        "stdout",
        "FAIL structure: a file is not in the bundle format: ",
    ),
    (
        "an amount that is no decimal",
        "entries.jsonl",
        _replaced(b'"amount":"', b'"amount":"x'),
        "stdout",
        "FAIL structure: a file is not in the bundle format: ",
    ),
    (
        "a position of the wrong type",
        "events.jsonl",
        _replaced(b'"chain_pos":', b'"chain_pos":"one","x":'),
        "stdout",
        "FAIL structure: a file is not in the bundle format: ",
    ),
    (
        "not UTF-8",
        "events.jsonl",
        lambda text: b"\xff" + text,
        "stdout",
        "events.jsonl line 1: not valid UTF-8 at byte 0",
    ),
    (
        "a lone surrogate in an envelope",
        "events.jsonl",
        _replaced(b'"envelope":"{', b'"envelope":"\\ud800{'),
        "stdout",
        "FAIL structure: a file is not in the bundle format: ",
    ),
    (
        "an empty file",
        "close.json",
        lambda _: b"",
        "stdout",
        "FAIL structure: a file is not in the bundle format: close.json: empty input",
    ),
    (
        "a nested manifest",
        "manifest.json",
        lambda _: NESTED,
        "stderr",
        "manifest.json cannot be read: manifest.json: malformed JSON: arrays and objects",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "stream", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in FORGED],
)
def test_a_hostile_bundle_fails_in_one_line(
    pristine: Path,
    tmp_path: Path,
    name: str,
    change: Callable[[bytes], bytes],
    stream: str,
    words: str,
) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(pristine, bundle)
    if name == "manifest.json":
        (bundle / name).write_bytes(change((bundle / name).read_bytes()))
    else:
        _forge(bundle, name, change)
    checked = run("audit", "check", str(bundle))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "Traceback" not in checked.stderr
    assert len(checked.stderr.strip().splitlines()) == 1, checked.stderr
    assert words in (checked.stdout if stream == "stdout" else checked.stderr), (
        checked.stdout + checked.stderr
    )


def test_a_deleted_file_is_named(pristine: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(pristine, bundle)
    (bundle / "entries.jsonl").unlink()
    checked = run("audit", "check", str(bundle))
    assert checked.returncode == 1
    assert "FAIL files: entries.jsonl is missing" in checked.stdout
    assert checked.stderr == "sla-ledger: audit check failed: files\n"


def test_a_missing_directory_or_a_file_is_named_as_such(tmp_path: Path) -> None:
    missing = run("audit", "check", str(tmp_path / "nope"))
    assert (missing.returncode, missing.stderr) == (
        1,
        f"sla-ledger: error: {tmp_path / 'nope'} does not exist: "
        "give the directory `audit export` wrote\n",
    )
    a_file = tmp_path / "bundle.zip"
    a_file.write_bytes(b"PK")
    named = run("audit", "check", str(a_file))
    assert (named.returncode, named.stderr) == (
        1,
        f"sla-ledger: error: {a_file} is not a directory: "
        "give the directory `audit export` wrote\n",
    )


def test_counts_in_audit_output_are_singular_or_plural(pristine: Path) -> None:
    verified = run("audit", "verify", store=f"sqlite:///{pristine.parent / 'ledger.db'}")
    # Ten records: three events, five alerts, the entry, the close.
    assert verified.stdout.startswith("chain verified: 10 records, 1 close checkpoint matched; ")
    checked = run("audit", "check", str(pristine))
    assert "ok   report: 1 row recomputed from 3 events" in checked.stdout
    assert "ok   entries: 1 entry: every basis_sha256 recomputed" in checked.stdout


def test_a_nested_envelope_forged_consistently_into_the_store_does_not_crash_the_audits(
    store_url: str, tmp_path: Path
) -> None:
    """The threat model's forger rewrites the last event, its link and the head
    consistently: the audits read the envelope as data, not recursing. (The outage is
    short, within half of March's error budget: no alert follows the event.)"""
    events = tmp_path / "events.jsonl"
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:10:00Z")]
    events.write_text("".join(json.dumps(d) + "\n" for d in docs))
    assert run("ingest", "--from-file", str(events), store=store_url).returncode == 0
    with LedgerStore(store_url, access="create") as store:
        assert store.chain_head().position == 3, "the outage event must be the last record"
        [(_, before), (_, fields)] = store.chain_rows(1, 3)
    fields["envelope"] = (NESTED[:-1] + b"]").decode()
    fields["content_sha256"] = hashlib.sha256(fields["envelope"].encode()).hexdigest()
    fields["chain_sha256"] = link(before["chain_sha256"], record_sha256("event", 3, fields))
    tamper(
        store_url,
        f"UPDATE sla_events SET chain_sha256 = '{fields['chain_sha256']}' WHERE chain_pos = 3",
        f"UPDATE sla_chain_head SET chain_sha256 = '{fields['chain_sha256']}'",
        set_record(store_url, 3, library_state("event", fields).decode()),
    )
    verified = run("audit", "verify", store=store_url)
    assert "internal error" not in verified.stderr, verified.stderr
    # A consistent forgery is on a consistent chain: only a checkpoint kept elsewhere
    # (or the rebuild, which derives the event again) reveals it.
    assert verified.returncode == 0, verified.stdout
    rebuilt = run("audit", "rebuild", store=store_url)
    assert "internal error" not in rebuilt.stderr, rebuilt.stderr
    assert rebuilt.returncode == 1
    assert (
        "the log does not replay: position 3: the event store's record is no event the "
        "ledger wrote" in rebuilt.stdout
    )


# What Python says when a check uses a value of the wrong shape: never for an auditor.
PYTHON_INTERNALS = (
    "Traceback",
    "Error",
    "string indices",
    "not subscriptable",
    "has no attribute",
    "object is not",
    "invalid literal",
    "unexpected keyword",
    "<class",
    "'str'",
    "'list'",
    "'dict'",
    "'int'",
    "NoneType",
    "codec",
    "surrogates not allowed",
)


def assert_in_words(text: str) -> None:
    for internal in PYTHON_INTERNALS:
        assert internal not in text, text


def _manifest_changed(change: Callable[[dict[str, Any]], Any]) -> Callable[[bytes], bytes]:
    def changed(raw: bytes) -> bytes:
        manifest = json.loads(raw)
        result = change(manifest)
        return json.dumps(manifest if result is None else result).encode()

    return changed


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(manifest: dict[str, Any]) -> None:
        target = manifest
        for name in parents:
            target = target[name]
        target[last] = value

    return change


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda manifest: manifest.pop(name) and None


# (case, change to manifest.json, what stderr says after "manifest.json: ")
HOSTILE_MANIFESTS: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("head is a string", _set("head", "36:abc"), 'head must be an object, got the string "36:abc"'),
    ("head is a list", _set("head", [36, "abc"]), "head must be an object, got a list"),
    (
        "files is a list",
        _set("files", ["events.jsonl"]),
        "files must be an object of file names and their SHA-256, got a list",
    ),
    (
        "files is a string",
        _set("files", "events.jsonl"),
        'files must be an object of file names and their SHA-256, got the string "events.jsonl"',
    ),
    (
        "a file's digest is a number",
        lambda manifest: manifest["files"].update({"events.jsonl": 42}),
        "files must be an object of file names and their SHA-256, got an object",
    ),
    (
        "the head's position as a string",
        _set("head.position", "5"),
        'head.position must be a chain position or 0 (an integer), got the string "5"',
    ),
    (
        "the head's digest as a list",
        _set("head.chain_sha256", ["0" * 64]),
        "head.chain_sha256 must be a SHA-256 (64 lower-case hex digits), got a list",
    ),
    ("the period missing", _drop("period"), "field period is missing"),
    ("the head missing", _drop("head"), "field head is missing"),
    ("the files missing", _drop("files"), "field files is missing"),
    (
        "the period as a number",
        _set("period", 202603),
        'period must be a period such as "2026-03" (a month) or "2026" (a year), '
        "got the integer 202603",
    ),
    (
        "the period as an object",
        _set("period", {"year": 2026}),
        'period must be a period such as "2026-03" (a month) or "2026" (a year), got an object',
    ),
    (
        "the moment as a number",
        _set("as_of", 1774000000),
        'as_of must be a UTC instant such as "2026-04-01T00:00:00Z", got the integer 1774000000',
    ),
    (
        "the moment not an instant",
        _set("as_of", "yesterday"),
        'as_of must be a UTC instant such as "2026-04-01T00:00:00Z", got the string "yesterday"',
    ),
    (
        "the format as a list",
        _set("format", ["sla-ledger-audit-bundle/1"]),
        "not a bundle manifest of format sla-ledger-audit-bundle/1 (a list)",
    ),
    ("the format missing", _drop("format"), "(missing)"),
    (
        "a list for a manifest",
        lambda m: [m],
        "not a bundle manifest: must be an object, got a list",
    ),
    ("a string for a manifest", lambda m: "manifest", 'got the string "manifest"'),
]


@pytest.mark.parametrize(
    ("change", "words"),
    [pytest.param(change, words, id=case) for case, change, words in HOSTILE_MANIFESTS],
)
def test_a_manifest_of_the_wrong_shape_is_said_in_words(
    pristine: Path, tmp_path: Path, change: Callable[[dict[str, Any]], Any], words: str
) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(pristine, bundle)
    manifest = bundle / "manifest.json"
    manifest.write_bytes(_manifest_changed(change)(manifest.read_bytes()))

    checked = run("audit", "check", str(bundle))

    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert checked.stdout == ""
    [line] = checked.stderr.splitlines()
    assert line.startswith(f"sla-ledger: error: {manifest}: "), line
    assert words in line, line
    assert_in_words(line)


# (case, file, change, what the failed structure check says after the file's name)
HOSTILE_FILES: list[tuple[str, str, Callable[[bytes], bytes], str]] = [
    (
        "a chain position as a string",
        "chain.jsonl",
        _replaced(b'"position":1', b'"position":"1"'),
        "chain.jsonl line 1: position must be a chain position (an integer of at least 1), "
        'got the string "1"',
    ),
    (
        "a chain kind as a list",
        "chain.jsonl",
        _replaced(b'"kind":"event"', b'"kind":["event"]'),
        'chain.jsonl line 1: kind must be "event", "entry", "close" or "alert", got a list',
    ),
    (
        "a chain link missing",
        "chain.jsonl",
        _replaced(b'"record_sha256":', b'"record":'),
        "chain.jsonl line 1: field record_sha256 is missing",
    ),
    (
        "a link that is not hex",
        "chain.jsonl",
        _replaced(b'"chain_sha256":"', b'"chain_sha256":"\xc3\xa9'),
        "chain.jsonl line 1: chain_sha256 must be a SHA-256 (64 lower-case hex digits), got",
    ),
    (
        "an event's position as a string",
        "events.jsonl",
        _replaced(b'"chain_pos":1,', b'"chain_pos":"1",'),
        "events.jsonl line 1: chain_pos must be a chain position (an integer of at least 1), "
        'got the string "1"',
    ),
    (
        "an envelope as an object",
        "events.jsonl",
        lambda text: _first_line_replaced(
            json.dumps({**json.loads(text.split(b"\n")[0]), "envelope": {"a": 1}}).encode()
        )(text),
        "events.jsonl line 1: envelope must be a string, got an object",
    ),
    (
        "a record time past year 9999",
        "events.jsonl",
        _replaced(b'"recorded_us":', b'"recorded_us":9' + b"9" * 30),
        "events.jsonl line 1: recorded_us must be a record time (microseconds since "
        "1970-01-01T00:00:00Z, before the year 10000), got the integer 9999",
    ),
    (
        "a lone surrogate in an envelope",
        "events.jsonl",
        _replaced(b'"envelope":"{', b'"envelope":"\\ud800{'),
        "events.jsonl line 1: envelope must be a string, got a string holding an unpaired "
        "surrogate",
    ),
    (
        "an origin of the wrong shape",
        "events.jsonl",
        _replaced(b'"origin":"{', b'"origin":"{\\"x\\":1,'),
        'events.jsonl event #1: origin: unexpected field "x"; an origin has only file, line, '
        "topic, partition, offset, key",
    ),
    (
        "an envelope without its payload",
        "events.jsonl",
        _replaced(b',\\"payload\\":', b',\\"cargo\\":'),
        "events.jsonl event #1: envelope: ",
    ),
    (
        "an amount that is no decimal",
        "entries.jsonl",
        _replaced(b'"amount":"', b'"amount":"x'),
        'entries.jsonl line 1: amount must be a decimal string such as "12.50", got the string',
    ),
    (
        "an amount as a number",
        "entries.jsonl",
        _replaced(b'"amount":"100.00"', b'"amount":100'),
        'entries.jsonl line 1: amount must be a decimal string such as "12.50", got the '
        "integer 100",
    ),
    (
        "a revision as a string",
        "entries.jsonl",
        _replaced(b'"revision":1', b'"revision":"1"'),
        'entries.jsonl line 1: revision must be an integer, got the string "1"',
    ),
    (
        "a close checkpoint as a string",
        "close.json",
        lambda text: json.dumps({**json.loads(text), "checkpoint_pos": "4"}).encode(),
        'close.json: checkpoint_pos must be a chain position or 0 (an integer), got the string "4"',
    ),
    (
        "a close as a list",
        "close.json",
        lambda text: b"[" + text + b"]",
        "close.json: not a JSON object",
    ),
    (
        "credits entries as an object",
        "credits.json",
        lambda text: json.dumps({"chain_position": 1, "entries": {"entry_id": "x"}}).encode(),
        "credits.json: entries must be a list, got an object",
    ),
    (
        "credits entries of strings",
        "credits.json",
        lambda text: json.dumps({"chain_position": 1, "entries": ["x"]}).encode(),
        'credits.json: entries item 1 must be an object, got the string "x"',
    ),
    (
        "a credits entry without its id",
        "credits.json",
        lambda text: json.dumps({"chain_position": 1, "entries": [{"id": "x"}]}).encode(),
        "credits.json entries item 1: field entry_id is missing",
    ),
    (
        "a credits chain position as a string",
        "credits.json",
        lambda text: json.dumps({"chain_position": "1", "entries": []}).encode(),
        "credits.json: chain_position must be a chain position or 0 (an integer), got the "
        'string "1"',
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in HOSTILE_FILES],
)
def test_a_bundle_file_of_the_wrong_shape_fails_the_structure_check_in_words(
    pristine: Path,
    tmp_path: Path,
    name: str,
    change: Callable[[bytes], bytes],
    words: str,
) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(pristine, bundle)
    _forge(bundle, name, change)

    checked = run("audit", "check", str(bundle))

    assert checked.returncode == 1, checked.stdout + checked.stderr
    # One line; a forged record may also fail the checks made before the structure's.
    [summary] = checked.stderr.splitlines()
    assert summary.startswith("sla-ledger: audit check failed: "), summary
    assert summary.endswith("structure"), summary
    [failed] = [line for line in checked.stdout.splitlines() if line.startswith("FAIL structure")]
    assert failed.startswith("FAIL structure: a file is not in the bundle format: "), failed
    assert words in failed, failed
    assert_in_words(failed)


def test_a_stored_envelope_edited_to_deep_nesting_is_a_damaged_store_not_a_crash(
    store_url: str, tmp_path: Path
) -> None:
    """A read command parsed the stored envelope with no guard: RecursionError, an
    internal error. It is one line naming the damage and what finds it."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(contract()) + "\n")
    assert run("ingest", "--from-file", str(feed), store=store_url).returncode == 0
    nested = "[" * 100_000 + "]" * 100_000
    tamper(store_url, set_record(store_url, 1, nested))
    report = run("report", "--period", "2026-03", store=store_url)
    assert report.returncode == 1, report.stderr
    assert report.stderr == (
        "sla-ledger: error: the store holds a record that is not the JSON the ledger wrote "
        "(edited or damaged): run `sla-ledger audit verify` to find it\n"
    )
