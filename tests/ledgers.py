"""Small stores that several integration tests share, built through the file intake and
`close` as a user builds them. (Imported lazily by conftest: a unit test session need not
load the store.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consumers.intake.file_ingest import ingest_file
from ledger.periods import Period
from projections.credit_entries import close_period
from projections.store import LedgerStore
from tests.builders import contract, ev, outage, service


def ingest_docs(store: LedgerStore, path: Path, docs: list[dict[str, Any]]) -> None:
    """Write `docs` as JSON Lines to `path` and ingest that file."""
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest_file(store, path)


def two_closed_months(store_url: str, tmp_path: Path) -> str:
    """Some sixty positions: a contract, outages through March, March closed (its entry
    and close), outages through April and an amendment of a March outage (a reversal
    and a re-issue), April closed."""
    with LedgerStore(store_url, access="create") as store:
        march = [
            doc
            for day in range(2, 14)
            for doc in outage(
                f"M-{day}", f"2026-03-{day:02}T10:00:00Z", f"2026-03-{day:02}T10:20:00Z"
            )
        ]
        ingest_docs(store, tmp_path / "a.jsonl", [contract(), *march])
        close_period(store, Period(2026, 3), datetime.now(UTC))
        april = [
            doc
            for day in range(2, 14)
            for doc in outage(
                f"A-{day}", f"2026-04-{day:02}T10:00:00Z", f"2026-04-{day:02}T10:20:00Z"
            )
        ]
        amended = ev(
            "outage.amended",
            "2026-04-20T09:00:00Z",
            {"outage_id": "M-2", "ended_at": "2026-03-03T10:00:00Z", "reason": "review"},
        )
        ingest_docs(store, tmp_path / "b.jsonl", [*april, amended])
        close_period(store, Period(2026, 4), datetime.now(UTC))
    return store_url


DEMO = Path(__file__).resolve().parent.parent / "consumers" / "demo"


def demo_ledger(store_url: str, tmp_path: Path) -> datetime:
    """The demo's month as its files hold it: October 2026 of three contracts (one in
    Sydney across its DST change, one of incident response in Berlin), closed, then the
    post-incident review's late correction, which reverses and re-issues C-2002/crm's
    credit. The moment of the close."""
    with LedgerStore(store_url, access="create") as store:
        ingest_file(store, DEMO / "month.jsonl")
        closed = datetime.now(UTC)
        close_period(store, Period(2026, 10), closed)
        ingest_file(store, DEMO / "late-correction.jsonl")
    return closed


LOOSER_TIERS = [
    {"below_percent": "99.5", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
]


def amended_mid_year(store_url: str, tmp_path: Path) -> None:
    """A New York contract (its clocks go forward on 8 March 2026) signed for 2026 at
    1,000.00 USD a month and a 99.9% target, amended from 1 July to 2,000.00 USD and
    99.5% with tiers from 99.5%; one outage in March across the DST change, one in June,
    one in July (a 50% degradation: July's credit is none under the new terms)."""
    amendment = ev(
        "contract.amended",
        "2026-06-15T12:00:00Z",
        {
            "contract_id": "C-NY",
            "effective_from": "2026-07-01",
            "services": [service(fee="2000.00", target="99.5", tiers=LOOSER_TIERS)],
        },
    )
    docs = [
        contract("C-NY", "K-NY", tz="America/New_York"),
        # 01:30 EST to 03:30 EDT is one hour of real time.
        *outage("NY-3", "2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"),
        *outage("NY-6", "2026-06-10T14:00:00Z", "2026-06-10T16:00:00Z"),
        amendment,
        *outage("NY-7", "2026-07-10T14:00:00Z", "2026-07-10T16:00:00Z", impact="50"),
    ]
    with LedgerStore(store_url, access="create") as store:
        ingest_docs(store, tmp_path / "amended.jsonl", docs)
        for month in (3, 6, 7):
            close_period(store, Period(2026, month), datetime.now(UTC))
