"""Kafka topics: `publish` to those an `ingest --topics` consumes, and a batch run that
never gets a partition of its topics."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.builders import contract, outage
from tests.cli_process import environment, run_cli
from tests.integration.test_hostile_input import line
from tests.integration.test_kafka_intake import new_group, new_topics

pytestmark = pytest.mark.integration


def test_publish_to_custom_topics_then_ingest_them(
    kafka_bootstrap: str, store_url: str, tmp_path: Path
) -> None:
    topics = new_topics(kafka_bootstrap, "custom")
    documents = [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z")]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(line(d) + b"\n" for d in documents))

    published = run_cli(
        "publish", "--from-file", str(path), "--bootstrap-servers", kafka_bootstrap,
        "--contracts-topic", topics.contracts, "--outages-topic", topics.outages,
        "--incidents-topic", topics.incidents, "--no-progress",
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    assert published.stdout.startswith(f"published {len(documents)} events (")
    assert topics.contracts in published.stdout
    assert topics.outages in published.stdout

    ingested = run_cli(
        "ingest", "--bootstrap-servers", kafka_bootstrap, "--topics", ",".join(topics.inbound),
        "--group-id", new_group(), "--dead-letter-topic", topics.rejected,
        "--credits-topic", topics.credits, "--alerts-topic", topics.alerts,
        "--idle-timeout-seconds", "3",
        "--format", "json", "--no-progress",
        store=store_url,
    )  # fmt: skip
    assert ingested.returncode == 0, ingested.stderr
    counts = json.loads(ingested.stdout)
    assert counts["accepted"] == len(documents), counts


def test_publish_refuses_an_empty_topic_name(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(line(contract()) + b"\n")
    result = run_cli(
        "publish", "--from-file", str(path), "--bootstrap-servers", "127.0.0.1:9",
        "--outages-topic", " ",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr == "sla-ledger: error: publish: --outages-topic names no topic\n"


# The real allowance is 120 s (a slow group join must not end a batch run): the child
# runs the command line's `main` with it patched to a few seconds, and nothing else.
_SHORT_ALLOWANCE = (
    "import sys, consumers.intake.kafka_ingest as k; k.UNASSIGNED_ALLOWANCE_SECONDS = 3.0; "
    "from consumers.cli.main import main; sys.exit(main())"
)


def test_a_batch_run_never_assigned_a_partition_fails_saying_so(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Before the fix it ended `consumed 0`, exit 0, as if the topics were drained."""
    topic = f"nosuch-{uuid.uuid4().hex[:10]}"
    group = new_group()
    env = environment(debug=False)
    result = subprocess.run(
        [
            sys.executable, "-c", _SHORT_ALLOWANCE, "ingest", "--bootstrap-servers",
            kafka_bootstrap, "--topics", topic, "--group-id", group, "--store",
            f"sqlite:///{tmp_path / 'ledger.db'}", "--idle-timeout-seconds", "1",
            "--no-progress",
        ],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"sla-ledger: error: no partition of {topic} was assigned to group {group} in "
    ), line
    assert "check that the topics exist" in line
