"""Every metric of sla-ledger, defined once, with bounded labels.

Label values come from fixed sets (`SOURCES`, `OUTBOXES`, the outcomes), from the
partitions assigned to the worker (lag), from the app's route templates and status
codes (HTTP), or from the provisional rows (exposure: contract, service, period and
currency, as many series as rows, never one per incident or event): never from free
input, so no series can be created per event or per URL.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ledger.attainment import Row
from ledger.money import round_half_even

PREFIX = "sla_ledger_"
SOURCES = ("file", "kafka", "http")
OUTCOMES = ("accepted", "duplicate", "rejected")
OUTBOXES = ("credits", "alerts", "dead_letters")
LAG_LABELS = ["topic", "partition"]
# A provisional row's exposure: one series per row (and currency, for money).
ROW_LABELS = ["contract_id", "service_id", "period"]
MONEY_LABELS = [*ROW_LABELS, "currency"]

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
            LAG_LABELS,
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
        self.budget_consumed = Gauge(
            PREFIX + "budget_consumed_percent",
            "Error budget consumed by a provisional row's projected downtime, in percent "
            "(sla-math 8; as `exposure` reports it, to 4 places)",
            ROW_LABELS,
            registry=registry,
        )
        self.credit_at_risk = Gauge(
            PREFIX + "credit_at_risk",
            "Credit a provisional row would owe more if it fell to its next tier, in the "
            "contract's currency (sla-math 8; as `exposure` reports it)",
            MONEY_LABELS,
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
        for labels in _series(self.consumer_lag, LAG_LABELS) - wanted:
            self.consumer_lag.remove(*labels)
        for (topic, partition), behind in lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(behind)

    def set_exposure(
        self, rows: Iterable[Row], *, every_row: bool = False, closed: Collection[str] = ()
    ) -> None:
        """The exposure gauges of `rows` (provisional rows with their exposure). A row
        whose figure is null (no budget, no next tier) has no series for it. With
        `every_row`, `rows` are all the provisional rows there are, and every other
        series goes; else the series of the `closed` periods go. The values are the
        figures as reported (budget to 4 places, money in minor units), as floats, for
        display only: the ledger's own figures stay exact."""
        budget: dict[tuple[str, ...], float | None] = {}
        at_risk: dict[tuple[str, ...], float | None] = {}
        for row in rows:
            key, exposure = row.key, row.exposure
            labels: tuple[str, ...] = (key.contract_id, key.service_id, key.period)
            consumed = None if exposure is None else exposure.budget_consumed_percent
            budget[labels] = None if consumed is None else float(round_half_even(consumed, 4))
            risk = None if exposure is None else exposure.credit_at_risk
            at_risk[(*labels, row.contract.currency)] = None if risk is None else float(risk)
        for gauge, names, values in (
            (self.budget_consumed, ROW_LABELS, budget),
            (self.credit_at_risk, MONEY_LABELS, at_risk),
        ):
            seen = {labels[:3] for labels in values}
            for series in _series(gauge, names):
                kept = values.get(series) is not None
                if every_row:
                    gone = not kept
                else:
                    gone = series[2] in closed or (series[:3] in seen and not kept)
                if gone:
                    gauge.remove(*series)
            for series, value in values.items():
                if value is not None:
                    gauge.labels(*series).set(value)

    def set_outbox_backlog(self, backlog: dict[str, int]) -> None:
        for outbox, rows in backlog.items():
            if outbox not in OUTBOXES:
                raise ValueError(f"unknown outbox {outbox!r}: one of {', '.join(OUTBOXES)}")
            self.outbox_backlog.labels(outbox).set(rows)


def _series(gauge: Gauge, names: list[str]) -> set[tuple[str, ...]]:
    """The label values of every series a gauge labelled `names` has."""
    return {
        tuple(sample.labels[name] for name in names)
        for metric in gauge.collect()
        for sample in metric.samples
    }
