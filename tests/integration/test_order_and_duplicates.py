"""Properties through the real store: the figures depend only on the set of accepted
events, never on arrival order, batch boundaries or re-deliveries (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from projections.attainment import period_report
from projections.store import LedgerStore
from tests.builders import contract, ev, maintenance, outage
from tests.infrastructure import fresh_postgres_database

pytestmark = pytest.mark.integration
MARCH = Period(2026, 3)


def _history(rnd: random.Random) -> list[dict[str, Any]]:
    docs = [contract(tz=rnd.choice(["UTC", "Europe/Berlin", "America/New_York"]))]
    for n in range(rnd.randint(1, 6)):
        day = rnd.randint(1, 28)
        start = f"2026-03-{day:02d}T{rnd.randint(0, 20):02d}:00:00Z"
        end = f"2026-03-{day:02d}T{rnd.randint(21, 23):02d}:{rnd.randint(0, 59):02d}:00Z"
        docs += outage(f"O-{n}", start, end, rnd.choice(["100", "50", "12.5"]))
        if rnd.random() < 0.3:
            docs.append(
                ev(
                    "outage.amended",
                    "2026-03-29T00:00:00Z",
                    {"outage_id": f"O-{n}", "impact_percent": "75", "reason": "review"},
                )
            )
        if rnd.random() < 0.2:
            docs.append(
                ev(
                    "outage.classified",
                    "2026-03-29T01:00:00Z",
                    {"outage_id": f"O-{n}", "cause": "customer_caused", "reason": "theirs"},
                )
            )
    docs.append(
        maintenance("M-1", "2026-03-01T00:00:00Z", "2026-03-05T01:00:00Z", "2026-03-05T03:00:00Z")
    )
    return docs


@contextmanager
def _store(kind: str, postgres_url: str | None) -> Iterator[LedgerStore]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            store = LedgerStore(f"sqlite:///{directory}/ledger.db", access="create")
            try:
                yield store
            finally:
                store.close()
    else:
        assert postgres_url is not None
        with fresh_postgres_database(postgres_url) as url:
            store = LedgerStore(url, access="create")
            try:
                yield store
            finally:
                store.close()


def _ingest(store: LedgerStore, documents: list[dict[str, Any]], batch_size: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "feed.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in documents))
        ingest_file(store, path, batch_size=batch_size)


def _report(store: LedgerStore) -> list[dict[str, Any]]:
    return [r.as_dict() for r in period_report(store, MARCH, datetime(2026, 4, 2, tzinfo=UTC)).rows]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_shuffled_batched_and_redelivered_input_gives_the_same_report(
    kind: str, request: pytest.FixtureRequest
) -> None:
    postgres_url = request.getfixturevalue("postgres_url") if kind == "postgresql" else None

    @settings(
        max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.randoms(use_true_random=False), st.integers(1, 7))
    def check(rnd: random.Random, batch_size: int) -> None:
        docs = _history(rnd)
        with _store(kind, postgres_url) as in_order:
            _ingest(in_order, docs, batch_size=2000)
            expected = _report(in_order)
        shuffled = docs + rnd.sample(docs, k=len(docs) // 2)  # re-deliveries
        rnd.shuffle(shuffled)
        with _store(kind, postgres_url) as scrambled:
            _ingest(scrambled, shuffled, batch_size=batch_size)
            _ingest(scrambled, shuffled[: len(shuffled) // 3], batch_size=batch_size)
            assert scrambled.event_count() == len(docs)
            assert _report(scrambled) == expected

    check()
