"""One accepted event read back by its id (`StoreReads.accepted_event` and the
`event_record` query): its envelope as accepted, record time, origin and place in the
chain, and not found before it was recorded. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from ledger.chain import record_sha256
from ledger.periods import to_us
from projections.queries.chain_log import chain_page
from projections.queries.event_record import (
    EventNotFoundError,
    event_record,
    event_record_document,
)
from projections.store import LedgerStore
from tests.builders import contract, outage
from tests.ledgers import ingest_docs

pytestmark = pytest.mark.integration


def test_an_event_is_read_back_as_accepted(store: LedgerStore, tmp_path: Path) -> None:
    first = outage("O-1", "2026-03-02T10:00:00+01:00", "2026-03-02T11:20:00+01:00")
    ingest_docs(store, tmp_path / "first.jsonl", [contract("C-1"), *first])
    later = outage("O-2", "2026-03-05T10:00:00Z", None)
    ingest_docs(store, tmp_path / "later.jsonl", later)
    log = {
        r["record"]["event_id"]: r
        for r in chain_page(store, 0, 1000, None).records
        if r["kind"] == "event"
    }

    started = first[0]
    accepted = store.accepted_event(started["event_id"])
    assert accepted is not None
    # The line it came from, and the chain's own record of it.
    assert accepted.recorded.origin.as_dict() == {
        "file": str(tmp_path / "first.jsonl"),
        "line": 2,
    }
    line = log[started["event_id"]]
    assert accepted.chain_position == line["position"]
    assert accepted.fields == line["record"]
    # The envelope as accepted: the ingested one, its times normalised to UTC.
    envelope = json.loads(accepted.fields["envelope"])
    assert envelope["occurred_at"] == "2026-03-02T09:00:00Z"
    assert envelope["payload"]["started_at"] == "2026-03-02T09:00:00Z"
    assert {k: v for k, v in envelope.items() if k not in {"occurred_at", "payload"}} == {
        k: v for k, v in started.items() if k not in {"occurred_at", "payload"}
    }
    assert accepted.recorded.event.envelope() == envelope

    # As of a moment: the later event was not known before it was recorded.
    second = store.accepted_event(later[0]["event_id"])
    assert second is not None
    before = to_us(second.recorded.recorded_at) - 1
    assert store.accepted_event(later[0]["event_id"], before) is None
    assert store.accepted_event(later[0]["event_id"], before + 1) == second
    assert store.accepted_event(started["event_id"], before) == accepted
    assert store.accepted_event("00000000-0000-5000-8000-000000000000") is None


def test_the_query_answers_the_chain_line_or_not_found(store: LedgerStore, tmp_path: Path) -> None:
    docs = [contract("C-1"), *outage("O-1", "2026-03-02T10:00:00Z", "2026-03-02T10:20:00Z")]
    ingest_docs(store, tmp_path / "in.jsonl", docs)
    recorded = store.accepted_event(docs[2]["event_id"])
    assert recorded is not None
    moment = recorded.recorded.recorded_at

    document = event_record_document(event_record(store, docs[2]["event_id"], moment))
    chain = document["chain"]
    assert chain["position"] == recorded.chain_position == 3
    assert chain["record_sha256"] == record_sha256("event", 3, recorded.fields)
    assert chain["chain_sha256"] == recorded.fields["chain_sha256"]
    canonical = document["canonical_envelope"]
    assert hashlib.sha256(canonical.encode()).hexdigest() == document["content_sha256"]
    assert json.loads(canonical) == document["envelope"]
    assert (document["type"], document["subject_kind"], document["subject_id"]) == (
        "outage.resolved",
        "outage",
        "O-1",
    )
    assert document["origin"] == {"file": str(tmp_path / "in.jsonl"), "line": 3}

    with pytest.raises(EventNotFoundError, match="was accepted by"):
        event_record(store, docs[2]["event_id"], moment - timedelta(microseconds=1))
    with pytest.raises(EventNotFoundError):
        event_record(store, "not-an-event", moment)
