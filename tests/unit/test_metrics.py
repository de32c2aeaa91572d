"""The metrics room without a store or a broker: the request metrics of an ASGI app (by
route template and status, over httpx's ASGI transport), its `/metrics` endpoint, the
bounded label sets, and the poll watchdog."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from consumers.intake.poll_watchdog import PollWatchdog
from consumers.metrics import Metrics
from consumers.metrics.asgi import UNMATCHED, expose_metrics, instrument

LATENCY = "sla_ledger_http_request_seconds_count"


def tiny_app(metrics: Metrics) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/credits/{entry_id}")
    def credit(entry_id: str) -> dict[str, str]:
        if entry_id == "missing":
            raise HTTPException(status_code=404, detail="no such entry")
        return {"entry_id": entry_id}

    instrument(app, metrics)
    expose_metrics(app, metrics)
    return app


async def requests(app: FastAPI, paths: list[str]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return [await client.get(path) for path in paths]


def served(metrics: Metrics, route: str, status: int) -> float | None:
    labels = {"method": "GET", "route": route, "status": str(status)}
    return metrics.registry.get_sample_value(LATENCY, labels)


def test_requests_are_labelled_by_route_template_and_status() -> None:
    metrics = Metrics()
    app = tiny_app(metrics)
    answers = asyncio.run(
        requests(app, ["/v1/credits/a", "/v1/credits/b", "/v1/credits/missing", "/nowhere"])
    )
    assert [a.status_code for a in answers] == [200, 200, 404, 404]
    assert served(metrics, "/v1/credits/{entry_id}", 200) == 2
    assert served(metrics, "/v1/credits/{entry_id}", 404) == 1
    assert served(metrics, UNMATCHED, 404) == 1
    # Never a raw path: only the template and the unmatched label exist.
    routes = {
        sample.labels["route"]
        for family in metrics.http_request_seconds.collect()
        for sample in family.samples
    }
    assert routes == {"/v1/credits/{entry_id}", UNMATCHED}
    assert metrics.registry.get_sample_value("sla_ledger_http_requests_in_flight") == 0


def test_unknown_methods_are_counted_together() -> None:
    metrics = Metrics()
    app = tiny_app(metrics)

    async def odd() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.request("BREW", "/v1/credits/a")).status_code

    assert asyncio.run(odd()) == 405
    labels = {"method": "OTHER", "route": "/v1/credits/{entry_id}", "status": "405"}
    assert metrics.registry.get_sample_value(LATENCY, labels) == 1


def test_metrics_endpoint_serves_the_registry() -> None:
    metrics = Metrics()
    app = tiny_app(metrics)
    [_, exposition] = asyncio.run(requests(app, ["/v1/credits/a", "/metrics"]))
    assert exposition.status_code == 200
    names = {family.name for family in text_string_to_metric_families(exposition.text)}
    assert {
        "sla_ledger_http_request_seconds",
        "sla_ledger_http_requests_in_flight",
        "sla_ledger_intake_events",
        "sla_ledger_reconcile_seconds",
    } <= names
    # Only this registry's metrics: no process or platform collectors of the default one.
    assert all(name.startswith("sla_ledger_") for name in names), names


def test_in_flight_counts_requests_being_served() -> None:
    metrics = Metrics()
    app = FastAPI()
    seen: list[float | None] = []

    @app.get("/v1/periods")
    def periods() -> list[str]:
        seen.append(metrics.registry.get_sample_value("sla_ledger_http_requests_in_flight"))
        return []

    instrument(app, metrics)
    asyncio.run(requests(app, ["/v1/periods"]))
    assert seen == [1]


def test_two_metrics_objects_do_not_clash() -> None:
    first, second = Metrics(), Metrics()
    first.intake("kafka").add(3, 1, 2)
    assert b'source="kafka"' in generate_latest(first.registry)
    sample = {"source": "kafka", "outcome": "accepted"}
    assert first.registry.get_sample_value("sla_ledger_intake_events_total", sample) == 3
    assert second.registry.get_sample_value("sla_ledger_intake_events_total", sample) == 0


def test_label_values_are_bounded() -> None:
    metrics = Metrics()
    with pytest.raises(ValueError, match="unknown intake source"):
        metrics.intake("smtp")
    with pytest.raises(ValueError, match="unknown outbox"):
        metrics.set_outbox_backlog({"webhooks?": 1})


def test_lag_series_follow_the_assignment() -> None:
    metrics = Metrics()
    metrics.set_lag({("sla.outages", 0): 5, ("sla.outages", 1): 0})
    metrics.set_lag({("sla.outages", 1): 2})  # partition 0 went to another worker
    lag = {
        sample.labels["partition"]: sample.value
        for family in metrics.consumer_lag.collect()
        for sample in family.samples
    }
    assert lag == {"1": 2}


def test_watchdog_reports_a_poll_that_does_not_return_once() -> None:
    hung: list[str] = []
    reported = threading.Event()

    def on_hang(line: str) -> None:
        hung.append(line)
        reported.set()

    with PollWatchdog(0.2, on_hang) as watchdog:
        with watchdog.polling():
            time.sleep(0.05)  # a poll within the bound
        assert not hung
        with watchdog.polling():
            assert reported.wait(5)
            time.sleep(0.3)
    assert len(hung) == 1
    assert "has not returned" in hung[0]
    assert "status 75" in hung[0]
