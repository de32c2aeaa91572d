"""`--checkpoint POS:SHA256`: one parser for `audit verify` and `audit check`, refusing a
position below 1 and non-ASCII digits; `audit verify` confirms the checkpoints given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import contract, outage
from tests.cli_process import run_cli as run
from tests.integration.test_store_access import one_line_error

pytestmark = pytest.mark.integration

DIGEST = "ab" * 32


def _store(store_url: str, tmp_path: Path) -> list[str]:
    """A small ledger; returns the checkpoint of each of its chain positions 1 and 2."""
    docs = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")]
    source = tmp_path / "C.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in docs))
    assert run("ingest", "--from-file", str(source), store=store_url).returncode == 0
    head = json.loads(run("audit", "verify", "--format", "json", store=store_url).stdout)["head"]
    return [f"{head['position']}:{head['chain_sha256']}"]


@pytest.mark.parametrize(
    ("checkpoint", "fragment"),
    [
        (f"0:{DIGEST}", "a checkpoint's position is 1 or more (the chain starts at 1)"),
        (f"00:{DIGEST}", "a checkpoint's position is 1 or more (the chain starts at 1)"),
        (f"\u00b2:{DIGEST}", "a checkpoint is POSITION:SHA256 (digits 0-9"),
        (f"\u0661:{DIGEST}", "a checkpoint is POSITION:SHA256 (digits 0-9"),
        (f"-1:{DIGEST}", "a checkpoint is POSITION:SHA256 (digits 0-9"),
        ("3:" + "AB" * 32, "a checkpoint is POSITION:SHA256 (digits 0-9"),
    ],
)
def test_verify_and_check_refuse_the_same_bad_checkpoints(
    store_url: str, tmp_path: Path, checkpoint: str, fragment: str
) -> None:
    _store(store_url, tmp_path)
    for args in (["audit", "verify"], ["audit", "check", str(tmp_path)]):
        message = one_line_error(run(*args, f"--checkpoint={checkpoint}", store=store_url), 2)
        assert message.startswith("sla-ledger: error: "), message
        assert fragment in message, message
        assert "invalid literal" not in message


def test_verify_confirms_the_checkpoints_given(store_url: str, tmp_path: Path) -> None:
    [head] = _store(store_url, tmp_path)
    first = json.loads(run("audit", "verify", "--format", "json", store=store_url).stdout)
    assert first["checkpoints_given"] == 0
    assert first["checkpoints_matched"] == []
    verified = run("audit", "verify", "--checkpoint", head, store=store_url)
    assert verified.returncode == 0, verified.stderr
    assert "; 1 checkpoint given matches; head " in verified.stdout
    document = json.loads(
        run("audit", "verify", "--checkpoint", head, "--format", "json", store=store_url).stdout
    )
    position, digest = head.split(":")
    assert document["checkpoints_given"] == 1
    assert document["checkpoints_matched"] == [{"position": int(position), "chain_sha256": digest}]
    wrong = run("audit", "verify", "--checkpoint", f"{position}:{DIGEST}", store=store_url)
    assert wrong.returncode == 1
    assert "differs from the checkpoint given" in wrong.stdout
