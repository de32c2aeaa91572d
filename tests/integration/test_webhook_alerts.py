"""Webhooks: alerts delivered to a real HTTP receiver over loopback, on both stores.

The two closed months of `tests.ledgers.two_closed_months` raised alerts while March was
still provisional (its outages take the whole budget and more), then entries when each
month closed. A subscription that asks for `sla.alert.raised` receives every alert,
signed as Standard Webhooks says (the receiver verifies each signature), as a CloudEvent
in structured mode, tracked at a position of its own; one that does not ask (the
default: the credit types) receives none, and its credits position means what it did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consumers.cloud_events import ALERTS, ledger_source
from consumers.webhooks import DeliveryFailedError, deliver_pending, redeliver
from consumers.webhooks.delivery import new_client
from projections.store import LedgerStore
from tests.cli_process import succeeded
from tests.integration import test_webhooks
from tests.integration.test_webhooks import FAST, SECRET, Receiver, _entries, _subscription

pytestmark = pytest.mark.integration

receiver = test_webhooks.receiver  # the fixture: a real HTTP receiver on a socket

EVERY_TYPE = frozenset({"sla.credit.issued", "sla.credit.reversed", "sla.alert.raised"})


def _alerts(url: str) -> list[dict[str, Any]]:
    """The alerts recorded, in the order recorded, as their documents."""
    with LedgerStore(url, access="write") as store:
        return [alert.as_dict() for alert in store.alerts()]


def test_a_subscription_asking_for_alerts_receives_each_signed_at_its_own_position(
    ledger: str, receiver: Receiver
) -> None:
    receiver.fail_first = 1  # every record is retried once: still delivered once each
    entries, alerts = _entries(ledger), _alerts(ledger)
    assert {(a["kind"], a["threshold"]) for a in alerts} >= {
        ("availability.budget", "100"),
        ("availability.tier", "99.9"),
    }
    credits_only = _subscription(receiver, name="billing")
    both = _subscription(receiver, name="noc", event_types=EVERY_TYPE)
    with LedgerStore(ledger, access="write") as store, new_client() as client:
        source = ledger_source(store)
        sent = deliver_pending(store, credits_only, client, source=source, holder="h", policy=FAST)
        assert sent == len(entries)
        assert store.tracked_position(credits_only.feed_position(ALERTS)) is None
        assert set(receiver.received) == {e["entry_id"] for e in entries}, "no alert asked for"

        receiver.received.clear()
        sent = deliver_pending(store, both, client, source=source, holder="h", policy=FAST)
        assert sent == len(entries) + len(alerts)
        assert deliver_pending(store, both, client, source=source, holder="h") == 0
        positions = [store.alert_position(a["alert_id"]) for a in alerts]
        assert store.tracked_position(both.feed_position(ALERTS)) == max(p or 0 for p in positions)
        assert store.tracked_position("webhooks:noc:alerts") == positions[-1]
        assert store.tracked_position(both.position_name) == store.entry_seq(
            entries[-1]["entry_id"]
        )
        assert store.tracked_position(credits_only.position_name) == store.tracked_position(
            both.position_name
        ), "the credits position keeps its name and meaning"
    assert receiver.refused == 0
    for alert in alerts:
        event = receiver.received[alert["alert_id"]]
        assert event["id"] == alert["alert_id"]
        assert event["type"] == "sla.alert.raised"
        assert (event["specversion"], event["source"]) == ("1.0", source)
        assert event["subject"] == f"{alert['contract_id']}/{alert['service_id']}/{alert['period']}"
        assert event["time"] == alert["recorded_at"]
        assert event["data"] == alert
    ids = [a["alert_id"] for a in alerts]
    assert [i for i in receiver.attempts if i in set(ids)] == [i for i in ids for _ in range(2)]


def test_a_failing_alert_leaves_the_credits_delivered_and_the_alert_pending(
    ledger: str, receiver: Receiver
) -> None:
    entries, alerts = _entries(ledger), _alerts(ledger)
    first = alerts[0]["alert_id"]
    refused = {first}
    original = receiver.handle

    def handle(body: bytes, headers: dict[str, str]) -> int:
        if headers["webhook-id"] in refused:
            return 503
        return original(body, headers)

    receiver.handle = handle  # type: ignore[method-assign]
    both = _subscription(receiver, name="noc", event_types=EVERY_TYPE)
    with LedgerStore(ledger, access="write") as store, new_client() as client:
        source = ledger_source(store)
        with pytest.raises(DeliveryFailedError, match=f"alert {first} not delivered"):
            deliver_pending(store, both, client, source=source, holder="h", policy=FAST)
        assert set(receiver.received) == {e["entry_id"] for e in entries}
        assert store.tracked_position(both.feed_position(ALERTS)) is None, "never skipped"
        refused.clear()
        assert deliver_pending(store, both, client, source=source, holder="h") == len(alerts)


def test_alerts_are_redelivered_by_their_ids(
    ledger: str, receiver: Receiver, tmp_path: Path
) -> None:
    alerts = _alerts(ledger)
    both = _subscription(receiver, name="noc", event_types=EVERY_TYPE)
    with LedgerStore(ledger, access="write") as store:
        first, last = (store.alert_position(a["alert_id"]) for a in (alerts[0], alerts[1]))
        assert first is not None
        assert last is not None
        sent = redeliver(store, both, first, last, source=ledger_source(store), feed=ALERTS)
        assert sent == 2
        assert store.tracked_position(both.feed_position(ALERTS)) is None, "it stays"
    assert receiver.attempts == [alerts[0]["alert_id"], alerts[1]["alert_id"]]

    config = tmp_path / "webhooks.json"
    subscription = {
        "name": "noc",
        "url": receiver.url,
        "secret": SECRET,
        "event_types": sorted(EVERY_TYPE),
    }
    config.write_text(json.dumps({"subscriptions": [subscription]}))
    out = succeeded(
        "webhooks", "redeliver", "--store", ledger, "--config", str(config),
        "--subscription", "noc",
        "--from-entry", alerts[0]["alert_id"], "--to-entry", alerts[-1]["alert_id"],
    )  # fmt: skip
    assert out == f"redelivered {len(alerts)} alerts to noc\n"
    assert receiver.attempts[2:] == [a["alert_id"] for a in alerts]
