"""Webhooks: credit entries delivered to a real HTTP receiver over loopback, on both
stores. The receiver verifies every Standard Webhooks signature with the
`standardwebhooks` package and de-duplicates by webhook-id, as the README tells a
receiver to; delivery must be at least once: retried, never skipped, and nothing lost
when the delivering process is killed mid-delivery."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from consumers.cloud_events import ledger_source
from consumers.errors import UsageError
from consumers.webhooks import (
    DeliveryFailedError,
    RetryPolicy,
    Subscription,
    WebhookDeliverer,
    deliver_pending,
    load_subscriptions,
    redeliver,
)
from consumers.webhooks.delivery import new_client
from projections.store import LedgerStore
from tests.cli_process import SLA_LEDGER, environment, run_cli, succeeded

SECRET = "whsec_" + base64.b64encode(b"a key of thirty-two bytes long!!").decode()
FAST = RetryPolicy(attempts=4, first_delay=0.01, max_delay=0.05)


@dataclass
class Receiver:
    """What the test's webhook endpoint saw."""

    fail_first: int = 0  # answer 503 to each entry's first attempts
    delay: float = 0.0  # seconds before answering
    attempts: list[str] = field(default_factory=list)  # webhook-ids, every request
    received: dict[str, dict[str, Any]] = field(default_factory=dict)  # de-duplicated
    refused: int = 0  # requests whose signature did not verify
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            payload = Webhook(SECRET).verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.refused += 1
            return 401
        time.sleep(self.delay)
        with self.lock:
            webhook_id = headers["webhook-id"]
            self.attempts.append(webhook_id)
            if self.attempts.count(webhook_id) <= self.fail_first:
                return 503
            self.received.setdefault(webhook_id, payload)  # a duplicate changes nothing
        return 204

    def delivered_ids(self) -> set[str]:
        with self.lock:
            return set(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            status = state.handle(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sla"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _entries(url: str) -> list[dict[str, Any]]:
    document = json.loads(succeeded("credits", "--store", url, "--format", "json"))
    return list(document["entries"])


def _subscription(receiver: Receiver, **changes: Any) -> Subscription:
    return Subscription(**{"name": "billing", "url": receiver.url, "secret": SECRET, **changes})


def test_every_entry_arrives_signed_as_a_cloud_event_after_retries(
    ledger: str, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    entries = _entries(ledger)
    assert [e["kind"] for e in entries] == ["issue", "reversal", "issue", "issue"]
    subscription = _subscription(receiver)
    with LedgerStore(ledger, access="write") as store, new_client() as client:
        source = ledger_source(store)
        sent = deliver_pending(store, subscription, client, source=source, holder="h", policy=FAST)
        assert sent == len(entries)
        assert deliver_pending(store, subscription, client, source=source, holder="h") == 0
        last_seq = store.entry_seq(entries[-1]["entry_id"])
        assert store.tracked_position(subscription.position_name) == last_seq
    assert receiver.refused == 0
    assert receiver.attempts == [e["entry_id"] for e in entries for _ in range(3)]
    for entry in entries:
        event = receiver.received[entry["entry_id"]]
        assert event["id"] == entry["entry_id"] == entry["idempotency_key"]
        assert event["type"] == f"sla.credit.{'issued' if entry['kind'] == 'issue' else 'reversed'}"
        assert (event["specversion"], event["source"]) == ("1.0", source)
        assert event["data"] == entry
    reversal = entries[1]
    assert reversal["memo"].startswith(f"Reversal of {reversal['supersedes']}: ")


def test_a_failing_receiver_leaves_entries_pending_never_skipped(
    ledger: str, receiver: Receiver
) -> None:
    receiver.fail_first = 10**6
    entries = _entries(ledger)
    wanted = [e["entry_id"] for e in entries if e["kind"] == "issue"]
    subscription = _subscription(receiver, event_types=frozenset({"sla.credit.issued"}))
    with LedgerStore(ledger, access="write") as store, new_client() as client:
        source = ledger_source(store)
        with pytest.raises(DeliveryFailedError, match="stays pending"):
            deliver_pending(store, subscription, client, source=source, holder="h", policy=FAST)
        assert store.tracked_position(subscription.position_name) is None
        assert receiver.attempts == [wanted[0]] * FAST.attempts
        receiver.fail_first = 0
        sent = deliver_pending(store, subscription, client, source=source, holder="h", policy=FAST)
    assert sent == len(wanted), "the reversal is not of a wanted type"
    assert list(receiver.received) == wanted


def test_redelivery_sends_exactly_the_range_again(
    ledger: str, receiver: Receiver, tmp_path: Path
) -> None:
    entries = _entries(ledger)
    subscription = _subscription(receiver)
    with LedgerStore(ledger, access="write") as store:
        seqs = [store.entry_seq(e["entry_id"]) for e in entries]
        source = ledger_source(store)
        assert all(seq is not None for seq in seqs)
        sent = redeliver(store, subscription, seqs[1] or 0, seqs[2] or 0, source=source)
        assert sent == 2
        assert store.tracked_position(subscription.position_name) is None, "it stays"
    assert receiver.attempts == [entries[1]["entry_id"], entries[2]["entry_id"]]

    config = _config_file(tmp_path, receiver)
    out = succeeded(
        "webhooks", "redeliver", "--store", ledger, "--config", str(config),
        "--subscription", "billing",
        "--from-entry", entries[0]["entry_id"], "--to-entry", entries[1]["entry_id"],
    )  # fmt: skip
    assert out == "redelivered 2 entries to billing\n"
    assert receiver.attempts[2:] == [entries[0]["entry_id"], entries[1]["entry_id"]]
    backwards = run_cli(
        "webhooks", "redeliver", "--store", ledger, "--config", str(config),
        "--subscription", "billing",
        "--from-entry", entries[1]["entry_id"], "--to-entry", entries[0]["entry_id"],
    )  # fmt: skip
    assert backwards.returncode == 2, backwards.stderr
    assert "--from-entry was recorded after --to-entry" in backwards.stderr


def _config_file(directory: Path, receiver: Receiver) -> Path:
    path = directory / "webhooks.json"
    subscription = {"name": "billing", "url": receiver.url, "secret": SECRET}
    path.write_text(json.dumps({"subscriptions": [subscription]}))
    return path


def _deliverer(ledger: str, config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SLA_LEDGER, "webhooks", "deliver", "--store", ledger, "--config", str(config)],
        env=environment(debug=False),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_kill_9_mid_delivery_then_restart_delivers_every_entry(
    ledger: str, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.delay = 0.5  # slow enough to kill the deliverer between two entries
    entries = {e["entry_id"] for e in _entries(ledger)}
    config = _config_file(tmp_path, receiver)
    first = _deliverer(ledger, config)
    try:
        _until(lambda: len(receiver.delivered_ids()) >= 1, 30, "a first delivery")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
    assert receiver.delivered_ids() < entries, "killed before it had delivered everything"

    # The killed deliverer's lease expires (LEASE_SECONDS) before the next takes over.
    second = _deliverer(ledger, config)
    try:
        _until(lambda: receiver.delivered_ids() == entries, 60, "every entry")
        second.send_signal(signal.SIGTERM)
        _out, err = second.communicate(timeout=30)
    finally:
        second.kill()
    assert second.returncode == 0, err
    assert "stopped by SIGTERM" in err
    assert SECRET not in err
    assert SECRET.removeprefix("whsec_") not in err
    assert receiver.refused == 0
    assert set(receiver.attempts) == entries, "only the ledger's entries, each at least once"


def test_the_configuration_is_checked_and_keeps_its_secret(tmp_path: Path) -> None:
    path = tmp_path / "hooks.json"
    path.write_text(
        json.dumps({"subscriptions": [{"name": "b", "url": "https://x.example/h", "secret": "x"}]})
    )
    with pytest.raises(UsageError, match="whsec_") as refused:
        load_subscriptions(path)
    assert "'x'" not in str(refused.value)
    path.write_text(
        json.dumps(
            {"subscriptions": [{"name": "b", "url": "https://x.example/h", "secret_env": "K"}]}
        )
    )
    (loaded,) = load_subscriptions(path, {"K": SECRET})
    assert loaded.secret == SECRET
    assert SECRET not in repr(loaded)
    assert loaded.event_types == {"sla.credit.issued", "sla.credit.reversed"}


def test_the_deliverer_thread_delivers_new_entries_and_stops(
    ledger: str, receiver: Receiver
) -> None:
    entries = {e["entry_id"] for e in _entries(ledger)}
    deliverer = WebhookDeliverer(ledger, [_subscription(receiver)], poll_seconds=0.05)
    deliverer.start()
    try:
        _until(lambda: receiver.delivered_ids() == entries, 30, "every entry")
    finally:
        deliverer.stop(timeout=30)
    assert deliverer.delivered == len(entries)
    with LedgerStore(ledger, access="write") as store:
        # Stopped cleanly: its lease is released, so another may deliver at once.
        assert store.hold_lease("webhooks:billing", "another", 30)


def test_serve_killed_mid_delivery_loses_nothing(
    ledger: str, receiver: Receiver, tmp_path: Path
) -> None:
    """`serve --webhooks` delivers from the same outbox: killed with SIGKILL between two
    deliveries and started again, every entry arrives, and the receiver sees each once
    after de-duplicating by webhook-id."""
    from tests.http_server import start, stop

    receiver.delay = 0.5
    entries = {e["entry_id"] for e in _entries(ledger)}
    config = _config_file(tmp_path, receiver)
    first = start(ledger, tmp_path, "--webhooks", str(config))
    try:
        _until(lambda: len(receiver.delivered_ids()) >= 1, 30, "a first delivery")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
    finally:
        first.process.kill()
    assert receiver.delivered_ids() < entries, "killed before it had delivered everything"
    second = start(ledger, tmp_path, "--webhooks", str(config))
    try:
        _until(lambda: receiver.delivered_ids() == entries, 60, "every entry")
    finally:
        assert stop(second) == 0
    assert receiver.refused == 0
    assert SECRET.removeprefix("whsec_") not in second.log()
