"""Every reading command, run on the golden store, prints exactly what it printed when
the store was built (`tests/golden`): the same figures, entry ids, digests and bytes.

A change that must leave every output as it was (a restructuring, a faster path) keeps
this test passing unchanged. A change that changes an output on purpose regenerates the
golden files (`python -m tests.golden.make_golden --outputs-only`), and the diff of
`tests/golden/outputs` is then the whole of what it changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_process import succeeded
from tests.golden.commands import OUTPUTS, STORE, outputs

pytestmark = pytest.mark.integration

GOLDEN = sorted(str(path.relative_to(OUTPUTS)) for path in OUTPUTS.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return outputs(STORE, tmp_path_factory.mktemp("golden"))


def test_the_same_outputs_are_printed(printed: dict[str, bytes]) -> None:
    assert sorted(printed) == GOLDEN


@pytest.mark.parametrize("name", GOLDEN)
def test_each_output_is_byte_identical(printed: dict[str, bytes], name: str) -> None:
    expected = (OUTPUTS / name).read_bytes()
    if printed.get(name) != expected:
        got = printed.get(name, b"").decode(errors="replace").splitlines()
        want = expected.decode(errors="replace").splitlines()
        first = next(
            (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
            min(len(got), len(want)),
        )
        pytest.fail(
            f"{name} differs from the golden output at line {first + 1}:\n"
            f"  now:    {got[first] if first < len(got) else '(nothing)'}\n"
            f"  golden: {want[first] if first < len(want) else '(nothing)'}"
        )


def test_a_bundle_exported_before_chain_positions_still_checks() -> None:
    """Bundles auditors hold from before answers named their chain position (report.json
    and credits.json without `chain_position`, the same format otherwise) still verify."""
    older = Path(__file__).resolve().parents[1] / "golden" / "older-bundle"
    checked = succeeded("audit", "check", str(older), "--format", "json")
    assert json.loads(checked)["ok"] is True
