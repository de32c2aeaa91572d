"""`sla-ledger serve` as an operator runs it: SIGTERM drains the requests in flight, the
keys never reach the log, and `keys new` makes a key the server admits."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from consumers.http.keys import KEYS_ENV, load_keyring
from tests.builders import outage
from tests.cli_process import run_cli, succeeded
from tests.http_server import start, stop
from tests.ledgers import two_closed_months

pytestmark = pytest.mark.integration


def test_sigterm_answers_the_request_in_flight_then_exits_0(store_url: str, tmp_path: Path) -> None:
    served = start(two_closed_months(store_url, tmp_path), tmp_path)
    try:
        body = b"\n".join(
            json.dumps(d).encode() for d in outage("D-1", "2026-05-02T10:00:00Z", None)
        )
        address = urlsplit(served.base)
        with socket.create_connection((address.hostname, address.port), timeout=60) as client:
            head = (
                "POST /v1/events HTTP/1.1\r\n"
                f"Host: {address.netloc}\r\n"
                f"Authorization: Bearer {served.keys['ingest']}\r\n"
                "Content-Type: application/x-ndjson\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            # The request is in flight (half its body sent) when the server is told to stop.
            client.sendall(head + body[: len(body) // 2])
            time.sleep(0.3)
            served.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert served.process.poll() is None, "the server quit with a request in flight"
            client.sendall(body[len(body) // 2 :])
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = client.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert b'"accepted": 1' in answer
        assert served.process.wait(60) == 0
    finally:
        stop(served)
    assert "requests in flight were answered" in served.log()
    for key in served.keys.values():
        assert key not in served.log()
    assert succeeded("report", "--period", "2026-05", store=store_url)


def test_keys_new_makes_a_key_the_configuration_admits() -> None:
    printed = succeeded("keys", "new", "--name", "billing", "--role", "finance")
    key = printed.split(": ", 1)[1].splitlines()[0].strip()
    entry = json.loads(printed.strip().splitlines()[-1])
    assert key not in json.dumps(entry)
    keyring = load_keyring(None, {KEYS_ENV: json.dumps({"keys": [entry]})})
    holder = keyring.holder(key)
    assert holder is not None
    assert holder.name == "billing"
    assert [role.value for role in holder.roles] == ["finance"]


def test_keys_new_adds_to_a_keys_file_and_refuses_a_name_twice(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = succeeded("keys", "new", "--name", "desk", "--role", "disputes", "--add-to", str(path))
    second = succeeded(
        "keys", "new", "--name", "audit", "--role", "compliance", "--add-to", str(path)
    )
    keys = [printed.split(": ", 1)[1].splitlines()[0].strip() for printed in (first, second)]
    assert path.stat().st_mode & 0o777 == 0o600
    assert all(key not in path.read_text() for key in keys)
    keyring = load_keyring(path, {})
    assert [keyring.holder(key).name for key in keys] == ["desk", "audit"]  # type: ignore[union-attr]
    before = path.read_bytes()
    again = run_cli("keys", "new", "--name", "desk", "--role", "finance", "--add-to", str(path))
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"sla-ledger: error: --add-to {path}: keys[2].name: 'desk' is used twice; give each "
        "key its own"
    ]
    assert path.read_bytes() == before


def test_metrics_count_events_in_and_requests_by_route(store_url: str, tmp_path: Path) -> None:
    served = start(two_closed_months(store_url, tmp_path), tmp_path)
    try:
        with served.client("ingest") as writer:
            lines = b"\n".join(
                json.dumps(d).encode() for d in outage("M-9", "2026-05-02T10:00:00Z", None)
            )
            writer.post(
                "/v1/events",
                content=lines + b"\n{bad",
                headers={"Content-Type": "application/x-ndjson"},
            )
        served.get("/v1/credits/no-such-entry")
        metrics = served.get("/metrics", role=None)
    finally:
        stop(served)
    assert metrics.status_code == 200
    text = metrics.text
    assert 'sla_ledger_intake_events_total{outcome="accepted",source="http"} 1.0' in text
    assert 'sla_ledger_intake_events_total{outcome="rejected",source="http"} 1.0' in text
    # Latency by route template, never by the raw path (bounded label values).
    assert 'route="/v1/credits/{entry_id}",status="404"' in text
    assert "no-such-entry" not in text
