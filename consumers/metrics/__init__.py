"""Prometheus metrics of the ledger's processes: the Kafka worker, file ingest and the API.

- `definitions.Metrics`: every metric, defined once, on a registry of its own (not the
  process-wide default, so two workers or apps in one test process never clash);
- `asgi.instrument` / `asgi.expose_metrics`: request latency and in-flight requests of
  an ASGI app, and its `/metrics` route;
- `listener.metrics_listener`: `/metrics` on a port of its own, for the Kafka worker.

The exposition is prometheus_client's; nothing here formats it by hand.
"""

from consumers.metrics.definitions import IntakeCounter, Metrics

__all__ = ["IntakeCounter", "Metrics"]
