"""`publish` to the topics an `ingest --topics` consumes, not only the production names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import contract, outage
from tests.cli_process import run_cli
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
        "--credits-topic", topics.credits, "--idle-timeout-seconds", "3",
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
