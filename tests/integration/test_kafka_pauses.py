"""Incident pauses and resumes through the broker (sla-math §11): `incident.paused` and
`incident.resumed` on the incidents topic, keyed by the incident id, arrive like any
incident event, on both stores, and give the rows a file of the same events gives."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli_process import succeeded
from tests.infrastructure import sqlite_url
from tests.integration.test_kafka_intake import (
    AVAILABILITY,
    PERIOD,
    PERIOD_START,
    STREAM_SEED,
    Spawn,
    _envelope,
    _stamp,
    new_group,
    new_topics,
    produce,
    routed,
    snapshot,
    spawn,
)

pytestmark = pytest.mark.integration
# The Kafka tests' fixture that starts ingest processes (and kills any left running).
spawn_ingest = pytest.fixture(spawn.__wrapped__, name="spawn_ingest")  # type: ignore[attr-defined]

TERMS = {
    "targets": {"P1": "PT30M", "P2": "PT2H"},
    "business_hours": "24x7",
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    "resolution_targets": {"P1": "PT4H", "P2": "PT8H"},
    "resolution_credit_tiers": [{"below_percent": "100", "credit_percent": "10"}],
}


def documents(rnd: random.Random) -> list[dict[str, Any]]:
    """A contract and two P2 incidents (8 h to resolve) on its service: one met only
    thanks to its pause (10 h elapsed, 3 h paused), one missed (9 h, never paused)."""
    start = PERIOD_START + timedelta(days=3, hours=9)
    events = [
        _envelope(
            rnd,
            "contract.signed",
            PERIOD_START - timedelta(days=30),
            {
                "contract_id": "C-P",
                "customer_id": "K-P",
                "customer_name": "Paused Ltd",
                "currency": "EUR",
                "timezone": "UTC",
                "remedy": "credit",
                "effective_from": _stamp(PERIOD_START - timedelta(days=30))[:10],
                "effective_to": None,
                "services": [
                    {
                        "service_id": "crm",
                        "monthly_fee": "1000.00",
                        "availability": AVAILABILITY,
                        "incident_response": TERMS,
                    }
                ],
            },
        )
    ]
    for number, (elapsed, paused) in enumerate(((10, 3), (9, 0)), start=1):
        iid = f"I-P{number}"
        opened = start + timedelta(days=number)
        resolved = opened + timedelta(hours=elapsed)
        events += [
            _envelope(
                rnd,
                "incident.opened",
                opened,
                {
                    "incident_id": iid,
                    "contract_id": "C-P",
                    "service_id": "crm",
                    "priority": "P2",
                    "opened_at": _stamp(opened),
                },
            ),
            _envelope(
                rnd,
                "incident.responded",
                opened + timedelta(minutes=10),
                {"incident_id": iid, "responded_at": _stamp(opened + timedelta(minutes=10))},
            ),
        ]
        if paused:
            pause_at = opened + timedelta(hours=2)
            resume_at = pause_at + timedelta(hours=paused)
            events += [
                _envelope(
                    rnd,
                    "incident.paused",
                    pause_at,
                    {"incident_id": iid, "at": _stamp(pause_at), "reason": "awaiting logs"},
                ),
                _envelope(
                    rnd,
                    "incident.resumed",
                    resume_at,
                    {"incident_id": iid, "at": _stamp(resume_at)},
                ),
            ]
        events.append(
            _envelope(
                rnd,
                "incident.resolved",
                resolved,
                {"incident_id": iid, "resolved_at": _stamp(resolved)},
            )
        )
    return events


def test_paused_and_resumed_events_through_the_broker_count_like_any_incident_event(
    kafka_bootstrap: str,
    spawn_ingest: Spawn,
    store_url: str,
    tmp_path: Path,
) -> None:
    rnd = random.Random(STREAM_SEED + 16)
    docs = documents(rnd)
    topics = new_topics(kafka_bootstrap, "pauses")
    messages = [routed(topics, d) for d in docs]
    pauses = [m for m, d in zip(messages, docs, strict=True) if "paused" in d["type"]]
    assert [(m.topic, m.key) for m in pauses] == [(topics.incidents, b"I-P1")]
    produce(kafka_bootstrap, messages)

    counts = spawn_ingest(store_url, topics, new_group(), idle=2.0).result()
    assert (counts["consumed"], counts["accepted"], counts["rejected"]) == (len(docs), len(docs), 0)

    [row] = snapshot(store_url).report["rows"]
    assert (row["resolution_met"], row["resolution_missed"], row["resolution_pending"]) == (1, 1, 0)
    assert row["resolution_attainment_percent"] == "50.0000"
    assert row["resolution_credit_percent"] == "10"
    assert row["credit_percent"] == "10"

    explained = json.loads(
        succeeded(
            "explain",
            "--store",
            store_url,
            "--contract",
            "C-P",
            "--service",
            "crm",
            "--period",
            PERIOD,
            "--format",
            "json",
        )
    )
    first = explained["incident_resolution"]["incidents"][0]
    assert first["incident_id"] == "I-P1"
    assert [p["removed_seconds"] for p in first["paused_intervals"]] == ["10800"]
    assert first["resolution_seconds"] == "25200"  # 10 h - 3 h

    # The same events from a file give the same rows.
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    (tmp_path / "file").mkdir()
    reference = sqlite_url(tmp_path / "file")
    succeeded("ingest", "--store", reference, "--from-file", str(path))
    assert snapshot(reference).report == snapshot(store_url).report
