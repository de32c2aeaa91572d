"""The intake's metrics against real stores and a real broker: a file ingest's counters
and reconciliation time (in-process), the outbox backlog on both stores, and the Kafka
worker's `/metrics` scraped over a socket while it consumes."""

from __future__ import annotations

import re
import socket
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from consumers.intake.file_ingest import ingest_file
from consumers.intake.outbox import ALERTS_POSITION, DEAD_LETTER_POSITION, backlog
from consumers.metrics import Metrics
from projections.store import LedgerStore
from tests.infrastructure import sqlite_url, wait_until
from tests.integration.test_kafka_intake import Ingest, build_stream, new_group, new_topics

pytestmark = pytest.mark.integration

DEMO = Path(__file__).parents[2] / "consumers" / "demo"
EVENTS = "sla_ledger_intake_events_total"


def intake_file(tmp_path: Path) -> Path:
    """The demo month, one of its lines again, and two lines that are no envelopes."""
    lines = (DEMO / "month.jsonl").read_bytes().splitlines()
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"\n".join([*lines, lines[0], b"{not json", b"[]"]) + b"\n")
    return path


def counted(metrics: Metrics, source: str, outcome: str) -> float | None:
    return metrics.registry.get_sample_value(EVENTS, {"source": source, "outcome": outcome})


def test_file_ingest_counts_on_the_metrics(store: LedgerStore, tmp_path: Path) -> None:
    metrics = Metrics()
    path = intake_file(tmp_path)
    first = ingest_file(store, path, metrics=metrics)
    again = ingest_file(store, path, metrics=metrics)
    assert first.duplicates == 1
    assert first.rejected == 2
    assert counted(metrics, "file", "accepted") == first.accepted
    assert counted(metrics, "file", "duplicate") == first.duplicates + again.duplicates
    assert counted(metrics, "file", "rejected") == first.rejected + again.rejected
    assert counted(metrics, "kafka", "accepted") == 0
    assert metrics.registry.get_sample_value("sla_ledger_reconcile_seconds_count") == 2


def test_outbox_backlog_counts_what_is_not_yet_published(
    store: LedgerStore, tmp_path: Path
) -> None:
    ingest_file(store, intake_file(tmp_path))
    # The demo month is not closed: its rows raised alerts, none published yet.
    raised = store.alerts_after(-1, 1_000)
    assert raised
    assert backlog(store) == {"credits": 0, "alerts": len(raised), "dead_letters": 2}
    [first, second] = store.rejections_after(-1, 10)
    store.record_position(DEAD_LETTER_POSITION, first.seq)
    assert backlog(store) == {"credits": 0, "alerts": len(raised), "dead_letters": 1}
    store.record_position(DEAD_LETTER_POSITION, second.seq)
    store.record_position(ALERTS_POSITION, raised[0][0])
    assert backlog(store) == {"credits": 0, "alerts": len(raised) - 1, "dead_letters": 0}
    store.record_position(ALERTS_POSITION, raised[-1][0])
    assert backlog(store) == {"credits": 0, "alerts": 0, "dead_letters": 0}


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_worker_serves_its_metrics_while_consuming(kafka_bootstrap: str, tmp_path: Path) -> None:
    topics = new_topics(kafka_bootstrap, "metrics")
    stream = build_stream(
        topics, 400, seed=7, contracts=5, duplicates=20, conflicts=3, poison_each=1
    )
    stream.produce(kafka_bootstrap)
    store = sqlite_url(tmp_path)
    args = [
        "--bootstrap-servers", kafka_bootstrap, "--store", store, "--group-id", new_group(),
        "--topics", ",".join(topics.inbound), "--dead-letter-topic", topics.rejected,
        "--credits-topic", topics.credits, "--alerts-topic", topics.alerts,
        "--format", "json", "--no-progress", "--metrics-listen", "127.0.0.1:0",
    ]  # fmt: skip
    worker = Ingest(args, tmp_path, "worker")
    try:
        found: list[str] = []

        def announced() -> bool:
            found[:] = re.findall(r"metrics at (http://\S+/metrics)", worker.err.read_text())
            return bool(found) or not worker.alive()

        wait_until(announced, what="the metrics address", diagnostics=worker.stderr)
        assert found, worker.stderr()
        url = found[0]
        want = {
            "accepted": len(stream.valid_ids),
            "duplicate": stream.duplicates,
            "rejected": stream.rejected,
        }

        def kafka_counts() -> dict[str, float]:
            samples = scrape(url)
            return {
                outcome: samples.get((EVENTS, (("outcome", outcome), ("source", "kafka"))), -1)
                for outcome in want
            }

        wait_until(
            lambda: kafka_counts() == want,
            what="the scraped counts to reach the stream's",
            timeout_seconds=120,
            diagnostics=lambda: f"{kafka_counts()} {worker.stderr()}",
        )

        def lag() -> dict[tuple[str, str], float]:
            return {
                (dict(labels)["topic"], dict(labels)["partition"]): value
                for (name, labels), value in scrape(url).items()
                if name == "sla_ledger_consumer_lag"
            }

        # Every assigned partition has its series, and all of them drain to 0.
        wait_until(
            lambda: len(lag()) == len(topics.inbound) * 4 and set(lag().values()) == {0},
            what="the lag of every partition to reach 0",
            timeout_seconds=60,
            diagnostics=lambda: f"{lag()} {worker.stderr()}",
        )
        samples = scrape(url)
        assert samples[("sla_ledger_reconcile_seconds_count", ())] >= 1
        assert ("sla_ledger_outbox_backlog", (("outbox", "dead_letters"),)) in samples
        port = int(url.rsplit(":", 1)[1].split("/")[0])
    finally:
        worker.stop()
    # The listener stopped with the worker: its port is free again.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_metrics_listen_refuses_a_taken_port(tmp_path: Path) -> None:
    from tests.cli_process import run_cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "ingest", "--bootstrap-servers", "127.0.0.1:1", "--store",
            sqlite_url(tmp_path), "--metrics-listen", f"127.0.0.1:{port}",
        )  # fmt: skip
    assert result.returncode == 2, result
    assert f"--metrics-listen 127.0.0.1:{port}: cannot listen" in result.stderr
    assert result.stderr.count("\n") == 1
