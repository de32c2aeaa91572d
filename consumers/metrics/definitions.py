"""Every metric of sla-ledger, defined once, with bounded labels.

Label values come from fixed sets (`SOURCES`, `OUTBOXES`, the outcomes), from the
partitions assigned to the worker (lag), or from the app's route templates and status
codes (HTTP): never from input, so no series can be created per event or per URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "sla_ledger_"
SOURCES = ("file", "kafka", "http")
OUTCOMES = ("accepted", "duplicate", "rejected")
OUTBOXES = ("credits", "alerts", "dead_letters")

# A reconciliation pass takes milliseconds on a small store and minutes on a large one.
RECONCILE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
# API targets are tens of milliseconds for a page and under a second for a report.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class IntakeCounter:
    """The intake counters of one source, for whatever counts a committed batch."""

    accepted: Counter
    duplicates: Counter
    rejected: Counter

    def add(self, accepted: int, duplicates: int, rejected: int) -> None:
        self.accepted.inc(accepted)
        self.duplicates.inc(duplicates)
        self.rejected.inc(rejected)


class Metrics:
    """The metrics of one process (or one app in a test), on `registry`.

    Serve them with `prometheus_client.generate_latest(metrics.registry)`,
    `asgi.metrics_app(metrics)` or `listener.metrics_listener(address, metrics)`.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.intake_events = Counter(
            PREFIX + "intake_events",
            "Inputs committed by an intake, by source and outcome (accepted, duplicate of "
            "an event already recorded, or rejected and kept)",
            ["source", "outcome"],
            registry=registry,
        )
        for source in SOURCES:  # every series from the start: a rate needs its zero
            for outcome in OUTCOMES:
                self.intake_events.labels(source, outcome)
        self.consumer_lag = Gauge(
            PREFIX + "consumer_lag",
            "Messages of an assigned partition not yet recorded in the ledger (end offset "
            "minus the recorded position)",
            ["topic", "partition"],
            registry=registry,
        )
        self.reconcile_seconds = Histogram(
            PREFIX + "reconcile_seconds",
            "Duration of a reconciliation pass of closed periods' credit entries",
            buckets=RECONCILE_BUCKETS,
            registry=registry,
        )
        self.outbox_backlog = Gauge(
            PREFIX + "outbox_backlog",
            "Rows recorded in an outbox and not yet published (credits to the credits "
            "topic, alerts to the alerts topic, rejections to the dead-letter topic)",
            ["outbox"],
            registry=registry,
        )
        self.http_request_seconds = Histogram(
            PREFIX + "http_request_seconds",
            "HTTP request latency by method, route template and status code",
            ["method", "route", "status"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.http_in_flight = Gauge(
            PREFIX + "http_requests_in_flight",
            "HTTP requests being served",
            registry=registry,
        )

    def intake(self, source: str) -> IntakeCounter:
        """The counters of one intake source (`SOURCES`)."""
        if source not in SOURCES:
            raise ValueError(f"unknown intake source {source!r}: one of {', '.join(SOURCES)}")
        return IntakeCounter(
            accepted=self.intake_events.labels(source, "accepted"),
            duplicates=self.intake_events.labels(source, "duplicate"),
            rejected=self.intake_events.labels(source, "rejected"),
        )

    def set_lag(self, lag: dict[tuple[str, int], int]) -> None:
        """The lag of exactly the partitions given: a partition no longer assigned loses
        its series (it is another worker's to report)."""
        wanted = {(topic, str(partition)) for topic, partition in lag}
        for labels in self._lag_series() - wanted:
            self.consumer_lag.remove(*labels)
        for (topic, partition), behind in lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(behind)

    def _lag_series(self) -> set[tuple[str, str]]:
        series: set[tuple[str, str]] = set()
        for metric in self.consumer_lag.collect():
            for sample in metric.samples:
                series.add((sample.labels["topic"], sample.labels["partition"]))
        return series

    def set_outbox_backlog(self, backlog: dict[str, int]) -> None:
        for outbox, rows in backlog.items():
            if outbox not in OUTBOXES:
                raise ValueError(f"unknown outbox {outbox!r}: one of {', '.join(OUTBOXES)}")
            self.outbox_backlog.labels(outbox).set(rows)
