"""Alerts out of a real Kafka worker: a real broker, PostgreSQL and SQLite (sla-math §8).

The worker runs in this process (so its timer can be short and its metrics scraped over
a real socket) against the shared broker, on topics of the test's own:

- an outage stream crosses 50, 75, 90 and 100% of a row's error budget one intake at a
  time; exactly those alerts (and the tier the last one falls below) reach the alerts
  topic, each once, as CloudEvents in binary mode, the same after the worker restarts
  and the stream is sent again; the exposure gauges show the row's figures, a restarted
  worker shows them before any event arrives, and a close takes them away;
- an incident whose response deadline passes with no event at all raises
  `response.missed` from the worker's timer, published on the alerts topic.

The month is the one before the current one: ended everywhere, so its figures no longer
move with the clock, and not closed, so its rows are provisional.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from consumers.cloud_events import ledger_source
from consumers.intake.kafka_config import KafkaSettings
from consumers.intake.kafka_counts import IngestCounts
from consumers.intake.kafka_ingest import (
    RECONCILE_EVERY_SECONDS,
    RECONCILE_IDLE_SECONDS,
    KafkaIngest,
)
from consumers.interrupts import StopRequest
from consumers.metrics import Metrics
from consumers.metrics.listener import metrics_listener
from ledger.alerts import alert_id
from ledger.credits import format_utc_micro
from ledger.money import round_half_even
from ledger.periods import Period
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.builders import contract, ev, outage, service
from tests.infrastructure import wait_until
from tests.integration.test_kafka_intake import (
    PARTITIONS,
    Topics,
    new_group,
    new_topics,
    produce,
    routed,
)

pytestmark = pytest.mark.integration

ALERT_TIMEOUT_SECONDS = 60.0


def _last_month() -> tuple[datetime, datetime]:
    first_of_this = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (first_of_this - timedelta(days=1)).replace(day=1)
    return start, first_of_this


START, END = _last_month()
PERIOD = START.strftime("%Y-%m")


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- the worker


@dataclass
class Running:
    ingest: KafkaIngest
    metrics_url: str
    log: list[str]
    counts: list[IngestCounts] = field(default_factory=list)

    def diagnostics(self) -> str:
        return "\n--- worker log:\n" + "\n".join(self.log[-30:])


def settings(bootstrap: str, topics: Topics, group: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap,
        topics=topics.inbound,
        group_id=group,
        dead_letter_topic=topics.rejected,
        credits_topic=topics.credits,
        alerts_topic=topics.alerts,
    )


@contextmanager
def worker(store_url: str, bootstrap: str, topics: Topics, **options: Any) -> Iterator[Running]:
    """A worker in a thread of this process, its metrics on a socket, stopped (as by
    SIGTERM) when the block ends."""
    store = LedgerStore(store_url, access="create")
    stop = StopRequest()
    metrics = Metrics()
    log: list[str] = []
    ingest = KafkaIngest(
        store,
        settings(bootstrap, topics, new_group()),
        stop=stop,
        metrics=metrics,
        log=log.append,
        exposure_gauges=True,
        **{"reconcile_every_seconds": 0.2, **options},
    )
    with metrics_listener(("127.0.0.1", 0), metrics) as (host, port):
        running = Running(ingest, f"http://{host}:{port}/metrics", log)
        thread = threading.Thread(
            target=lambda: running.counts.append(ingest.run()), name="worker", daemon=True
        )
        thread.start()
        try:
            yield running
        finally:
            stop.signum = signal.SIGTERM
            thread.join(timeout=90)
            store.close()
    assert not thread.is_alive(), "the worker did not stop" + running.diagnostics()


class AlertsTopic:
    """Every record on the test's alerts topic, read from the beginning."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap.split(","), enable_auto_commit=False
        )
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)
        self.records: list[Any] = []

    def read(self) -> list[Any]:
        for batch in self.consumer.poll(timeout_ms=200).values():
            self.records += batch
        return self.records

    def thresholds(self) -> list[tuple[str, str]]:
        """(kind, threshold) of each record read, sorted."""
        return sorted(
            (dict(r.headers)["kind"].decode(), json.loads(r.value)["threshold"])
            for r in self.read()
        )

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def topics(kafka_bootstrap: str) -> Topics:
    return new_topics(kafka_bootstrap, "alerts")


@pytest.fixture
def alerts_topic(kafka_bootstrap: str, topics: Topics) -> Iterator[AlertsTopic]:
    reader = AlertsTopic(kafka_bootstrap, topics.alerts)
    yield reader
    reader.close()


def send(bootstrap: str, topics: Topics, documents: list[dict[str, Any]]) -> None:
    produce(bootstrap, [routed(topics, d) for d in documents])


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def exposure_gauges(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The exposure series of the test's period (the current month's row has its own)."""
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for (name, labels), value in scrape(url).items():
        exposure = name in ("sla_ledger_budget_consumed_percent", "sla_ledger_credit_at_risk")
        if exposure and dict(labels)["period"] == PERIOD:
            found.setdefault(name, {})[labels] = value
    return found


# ----------------------------------------------------------------------------- budget


# The month's error budget at 99.9 is |W| / 1000 seconds; each step's outage brings the
# downtime to these shares of it, so each crossing is clear of the threshold.
STEPS = (Fraction(55, 100), Fraction(77, 100), Fraction(92, 100), Fraction(102, 100))
EXPECTED = (
    [("availability.budget", "50")],
    [("availability.budget", "75")],
    [("availability.budget", "90")],
    # 102% of the budget is projected availability 99.898 (under 99.9, not under 99.0).
    [("availability.budget", "100"), ("availability.tier", "99.9")],
)


def budget_stream(contract_id: str) -> tuple[list[list[dict[str, Any]]], Fraction, int]:
    """The contract, then one outage per step; the budget and the downtime at the end."""
    budget = Fraction(int((END - START).total_seconds()), 1000)
    steps: list[list[dict[str, Any]]] = [
        [contract(contract_id, "K-" + contract_id, effective_from=START.date().isoformat())]
    ]
    done = 0
    for number, share in enumerate(STEPS):
        total = math.ceil(budget * share)
        start = START + timedelta(days=2 + 3 * number, hours=9)
        end = start + timedelta(seconds=total - done)
        steps[-1] += outage(f"O-{contract_id}-{number}", _stamp(start), _stamp(end))
        steps.append([])
        done = total
    return steps[:-1], budget, done


def test_budget_crossings_reach_the_alerts_topic_once_each_as_cloudevents(
    kafka_bootstrap: str, store_url: str, topics: Topics, alerts_topic: AlertsTopic
) -> None:
    contract_id = f"C-{uuid.uuid4().hex[:6]}"
    steps, budget, downtime = budget_stream(contract_id)
    expected: list[tuple[str, str]] = []
    with worker(store_url, kafka_bootstrap, topics, check_every_seconds=1.0) as running:
        for documents, raised in zip(steps, EXPECTED, strict=True):
            send(kafka_bootstrap, topics, documents)
            expected = sorted(expected + raised)
            want = list(expected)
            wait_until(
                lambda: alerts_topic.thresholds() == want,  # noqa: B023 - waited for here
                what=f"exactly the alerts {expected} on {topics.alerts}",
                timeout_seconds=ALERT_TIMEOUT_SECONDS,
                diagnostics=lambda: f" read {alerts_topic.thresholds()}{running.diagnostics()}",
            )
        consumed = Fraction(100) * downtime / budget
        want_gauges = {
            "sla_ledger_budget_consumed_percent": {
                (("contract_id", contract_id), ("period", PERIOD), ("service_id", "crm")): float(
                    round_half_even(consumed, 4)
                )
            },
            # In the 10% tier now; the next (99.0) owes 25% of the 1000.00 fee.
            "sla_ledger_credit_at_risk": {
                (
                    ("contract_id", contract_id),
                    ("currency", "USD"),
                    ("period", PERIOD),
                    ("service_id", "crm"),
                ): 150.0
            },
        }
        wait_until(
            lambda: exposure_gauges(running.metrics_url) == want_gauges,
            what="the exposure gauges to show the row's figures",
            timeout_seconds=ALERT_TIMEOUT_SECONDS,
            diagnostics=lambda: f" scraped {exposure_gauges(running.metrics_url)}",
        )
    assert running.counts[0].alerts_published == len(expected)

    with LedgerStore(store_url, access="write") as store:
        recorded = store.alerts()
        source = ledger_source(store)
    records = alerts_topic.read()
    assert sorted(a.alert_id for a in recorded) == sorted(
        alert_id(contract_id, "crm", PERIOD, kind, Decimal(threshold))
        for kind, threshold in expected
    )
    by_id = {a.alert_id: a for a in recorded}
    assert len(records) == len(by_id)
    for record in records:
        headers = dict(record.headers)
        alert = by_id[headers["alert_id"].decode()]
        assert record.key == contract_id.encode()
        assert json.loads(record.value) == alert.as_dict()
        assert {name: value.decode() for name, value in record.headers} == {
            "alert_id": alert.alert_id,
            "kind": alert.kind,
            "ce_specversion": "1.0",
            "ce_id": alert.alert_id,
            "ce_source": source,
            "ce_type": "sla.alert.raised",
            "ce_time": format_utc_micro(alert.recorded_at),
            "ce_subject": f"{contract_id}/crm/{PERIOD}",
            "content-type": "application/json",
        }

    # A restarted worker (another group) is sent the whole stream again: every event a
    # duplicate, every alert already raised; the topic gains nothing. Its gauges were
    # seeded at start, before any event.
    with worker(store_url, kafka_bootstrap, topics, check_every_seconds=1.0) as again:
        wait_until(
            lambda: exposure_gauges(again.metrics_url) == want_gauges,
            what="the restarted worker's gauges, seeded at start",
            timeout_seconds=ALERT_TIMEOUT_SECONDS,
            diagnostics=lambda: f" scraped {exposure_gauges(again.metrics_url)}",
        )
        send(kafka_bootstrap, topics, [d for documents in steps for d in documents])
        total = sum(len(documents) for documents in steps)
        wait_until(
            lambda: again.ingest.counts.duplicates == total,
            what="the stream re-read as duplicates",
            timeout_seconds=ALERT_TIMEOUT_SECONDS,
            diagnostics=again.diagnostics,
        )
        passes = again.ingest.passes
        wait_until(
            lambda: again.ingest.passes > passes + 1,
            what="a whole pass after the re-read",
            timeout_seconds=ALERT_TIMEOUT_SECONDS,
            diagnostics=again.diagnostics,
        )
        # A close takes the period's rows out of the gauges at the next pass.
        with LedgerStore(store_url, access="write") as store:
            close_period(store, Period.parse(PERIOD), datetime.now(UTC))
        wait_until(
            lambda: exposure_gauges(again.metrics_url) == {},
            what="the closed period's series to go",
            timeout_seconds=ALERT_TIMEOUT_SECONDS,
            diagnostics=lambda: f" scraped {exposure_gauges(again.metrics_url)}",
        )
    assert again.counts[0].alerts_published == 0
    assert alerts_topic.thresholds() == expected, "no alert published twice"
    with LedgerStore(store_url, access="write") as store:
        assert len(store.alerts()) == len(expected)


# ----------------------------------------------------------------------------- timer


RESPONSE = {
    "targets": {"P1": "PT20S"},
    "business_hours": "24x7",
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


# The worker's timing: checks every second (fast to test), or as shipped (a check at
# least every 15 s, passes at most 5 s after a batch): the bar is a minute.
FAST = {"check_every_seconds": 1.0}
SHIPPED = {
    "check_every_seconds": RECONCILE_IDLE_SECONDS,
    "reconcile_every_seconds": RECONCILE_EVERY_SECONDS,
}


@pytest.mark.parametrize(
    ("timing", "within"),
    [(FAST, timedelta(seconds=15)), (SHIPPED, timedelta(minutes=1))],
    ids=["checks-every-second", "as-shipped"],
)
def test_a_deadline_passing_with_no_event_raises_response_missed_from_the_timer(
    kafka_bootstrap: str,
    store_url: str,
    topics: Topics,
    alerts_topic: AlertsTopic,
    timing: dict[str, float],
    within: timedelta,
) -> None:
    contract_id = f"C-{uuid.uuid4().hex[:6]}"
    this_month = datetime.now(UTC).replace(day=1).date().isoformat()
    terms = contract(
        contract_id,
        "K-" + contract_id,
        effective_from=min(this_month, START.date().isoformat()),
        services=[service(availability=False, incident_response=RESPONSE)],
    )
    opened = datetime.now(UTC).replace(microsecond=0)
    respond_by = opened + timedelta(seconds=20)
    incident_id = f"I-{contract_id}"
    opened_event = ev(
        "incident.opened",
        _stamp(opened),
        {
            "incident_id": incident_id,
            "contract_id": contract_id,
            "service_id": "crm",
            "priority": "P1",
            "opened_at": _stamp(opened),
        },
    )
    with worker(store_url, kafka_bootstrap, topics, **timing) as running:
        send(kafka_bootstrap, topics, [terms, opened_event])
        wait_until(
            lambda: running.ingest.counts.accepted == 2,
            what="the contract and the incident accepted",
            timeout_seconds=ALERT_TIMEOUT_SECONDS,
            diagnostics=running.diagnostics,
        )
        assert datetime.now(UTC) < respond_by, "the machine was too slow to prove anything"
        assert alerts_topic.read() == [], "raised before its deadline"
        wait_until(
            lambda: bool(alerts_topic.read()),
            what="response.missed on the alerts topic after the deadline",
            timeout_seconds=ALERT_TIMEOUT_SECONDS,
            diagnostics=running.diagnostics,
        )
        published_at = datetime.now(UTC)
        accepted = running.ingest.counts.accepted
    assert accepted == 2, "an event arrived: the alert was not the timer's"
    [record] = alerts_topic.read()
    document = json.loads(record.value)
    assert document["kind"] == "response.missed"
    assert document["threshold"] == incident_id
    assert document["alert_id"] == alert_id(
        contract_id, "crm", Period.containing(opened.date()).label, "response.missed", incident_id
    )
    assert dict(record.headers)["ce_type"] == b"sla.alert.raised"
    recorded_at = datetime.fromisoformat(document["recorded_at"])
    assert respond_by < recorded_at <= published_at
    # The timer raises it within seconds of the deadline (checking every second), and
    # within the minute as shipped.
    assert recorded_at - respond_by < within, recorded_at - respond_by
