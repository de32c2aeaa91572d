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

import pytest

from ledger.chain import link, record_sha256
from ledger.periods import Period
from projections.credit_entries import close_period
from projections.store import LedgerStore
from projections.store.chain_append import library_state
from projections.store.ledger_store import originator_of
from tests.builders import contract, outage
from tests.cli_process import run_cli as run
from tests.tampering import library_table, tamper

pytestmark = pytest.mark.integration

NESTED = b"[" * 1000 + b"]" * 1000


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine bundle of March 2026: one contract, one outage, a close, one entry."""
    base = tmp_path_factory.mktemp("bundle")
    store_url = f"sqlite:///{base / 'ledger.db'}"
    events = base / "events.jsonl"
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    events.write_text("".join(json.dumps(d) + "\n" for d in docs))
    assert run("ingest", "--from-file", str(events), store=store_url).returncode == 0
    with LedgerStore(store_url) as store:
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
    assert verified.stdout.startswith("chain verified: 5 records, 1 close checkpoint matched; ")
    checked = run("audit", "check", str(pristine))
    assert "ok   report: 1 row recomputed from 3 events" in checked.stdout
    assert "ok   entries: 1 entry: every basis_sha256 recomputed" in checked.stdout


def test_a_nested_envelope_forged_consistently_into_the_store_does_not_crash_verify(
    store_url: str, tmp_path: Path
) -> None:
    """The threat model's forger rewrites the last event, its link, the head and the
    event store's copy consistently: verify reads the envelope as data, not recursing."""
    events = tmp_path / "events.jsonl"
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    events.write_text("".join(json.dumps(d) + "\n" for d in docs))
    assert run("ingest", "--from-file", str(events), store=store_url).returncode == 0
    with LedgerStore(store_url) as store:
        [(_, before), (_, fields)] = store.chain_rows(1, 3)
    fields["envelope"] = (NESTED[:-1] + b"]").decode()
    fields["content_sha256"] = hashlib.sha256(fields["envelope"].encode()).hexdigest()
    fields["chain_sha256"] = link(before["chain_sha256"], record_sha256("event", 3, fields))
    originator = originator_of("event", fields["event_id"])
    state = library_state("event", fields).decode()
    sqlite = store_url.startswith("sqlite")
    tamper(
        store_url,
        f"UPDATE sla_events SET envelope = '{fields['envelope']}', "
        f"content_sha256 = '{fields['content_sha256']}', "
        f"chain_sha256 = '{fields['chain_sha256']}' WHERE chain_pos = 3",
        f"UPDATE sla_chain_head SET chain_sha256 = '{fields['chain_sha256']}'",
        f"UPDATE {library_table(store_url)} SET state = "
        + (f"CAST('{state}' AS BLOB)" if sqlite else f"convert_to('{state}', 'UTF8')")
        + " WHERE originator_id = "
        + (f"'{originator.hex}'" if sqlite else f"'{originator}'"),
    )
    verified = run("audit", "verify", store=store_url)
    assert "internal error" not in verified.stderr, verified.stderr
    # The forged record is on a consistent chain; what it broke is the outage's span
    # (its end is gone), named at the outage's first event.
    assert verified.returncode == 1
    assert verified.stdout.startswith("chain broken at position 2: the span of outage O-1 ")
    assert verified.stderr == "sla-ledger: audit verify failed at position 2\n"


def test_a_stored_envelope_edited_to_deep_nesting_is_a_damaged_store_not_a_crash(
    store_url: str, tmp_path: Path
) -> None:
    """A read command parsed the stored envelope with no guard: RecursionError, an
    internal error. It is one line naming the damage and what finds it."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(contract()) + "\n")
    assert run("ingest", "--from-file", str(feed), store=store_url).returncode == 0
    nested = "[" * 100_000 + "]" * 100_000
    tamper(store_url, f"UPDATE sla_events SET envelope = '{nested}'")
    report = run("report", "--period", "2026-03", store=store_url)
    assert report.returncode == 1, report.stderr
    assert report.stderr == (
        "sla-ledger: error: the store holds a record that is not the JSON the ledger wrote "
        "(edited or damaged): run `sla-ledger audit verify` to find it\n"
    )
