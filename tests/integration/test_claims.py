"""Claims and thresholds on both stores (spec: sla-math §10, the generalised §6 rules).

Worked example 11: March 2026 (UTC) owes 100.00 (a 50 min outage, 10% tier), the claim
deadline is 60 days, so the deadline is 2026-05-31T00:00Z. Entries follow the payable
amount: nothing is issued at close without a claim, a claim recorded after the close
issues, a denial reverses, a withdrawal reverses, a re-submission after the withdrawal
does nothing; after every step the sum of the row's entries equals its payable amount,
and `--as-of` reproduces the claim status known then.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.intake.file_ingest import ingest_file
from ledger.attainment import Row
from ledger.periods import Period
from projections.attainment import period_report
from projections.credit_entries import close_period
from projections.queries.claims import claims_listing
from projections.store import LedgerStore
from tests.builders import claim_submitted, claim_terms, contract, ev, outage
from tests.cli_process import run_cli
from tests.infrastructure import fresh_postgres_database, sqlite_url
from tests.integration.test_hostile_input import line
from tests.integration.test_kafka_intake import Topics, new_group, new_topics

MARCH = Period(2026, 3)
CLOSED_AT = datetime(2026, 6, 15, tzinfo=UTC)


def ingest(store: LedgerStore, path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ingest_file(store, path)


def row_now(store: LedgerStore, as_of: datetime | None = None) -> Row:
    moment = as_of or datetime.now(UTC)
    report = period_report(store, MARCH, moment, recorded_filter=as_of is not None)
    (row,) = report.rows
    return row


def booked(store: LedgerStore) -> Decimal:
    return sum((e.amount_major for e in store.entries(period="2026-03")), Decimal(0))


def closed_march(store: LedgerStore, tmp_path: Path, terms: dict[str, Any]) -> None:
    fifty = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")
    ingest(store, tmp_path / "a.jsonl", [contract(services=[terms]), *fifty])
    close_period(store, MARCH, CLOSED_AT)


def test_worked_example_11_claim_after_close_issues_and_denial_reverses(
    store: LedgerStore, tmp_path: Path
) -> None:
    closed_march(store, tmp_path, claim_terms())
    row = row_now(store)
    assert row.as_dict()["credit_amount"] == "100.00"
    # Closed with no claim, after the deadline: expired, nothing payable, no entry.
    assert (row.claim_status, row.as_dict()["payable_amount"]) == ("expired", "0.00")
    assert store.entries(period="2026-03") == []
    after_close = datetime.now(UTC)

    ingest(store, tmp_path / "b.jsonl", [claim_submitted("CL-1", "2026-05-30T23:00:00Z")])
    row = row_now(store)
    assert (row.claim_status, row.as_dict()["payable_amount"]) == ("claimed", "100.00")
    entries = store.entries(period="2026-03")
    assert [(e.kind, str(e.amount_major)) for e in entries] == [("issue", "100.00")]
    assert booked(store) == row.payable_major
    after_claim = datetime.now(UTC)

    denial = ev(
        "claim.decided",
        "2026-06-20T00:00:00Z",
        {"claim_id": "CL-1", "decision": "denied", "reason": "outage not in scope"},
    )
    ingest(store, tmp_path / "c.jsonl", [denial])
    row = row_now(store)
    assert (row.claim_status, row.as_dict()["payable_amount"]) == ("denied", "0.00")
    kinds = [(e.kind, str(e.amount_major)) for e in store.entries(period="2026-03")]
    assert kinds == [("issue", "100.00"), ("reversal", "-100.00")]
    assert booked(store) == 0

    # As of each moment, the status then.
    assert row_now(store, after_close).claim_status == "expired"
    assert row_now(store, after_claim).claim_status == "claimed"
    listed = claims_listing(store, MARCH, None, after_claim)
    assert [(c["claim_id"], c["claim_status"], c["decision"]) for c in listed] == [
        ("CL-1", "claimed", None)
    ]


def test_a_claim_at_exactly_the_deadline_is_expired(store: LedgerStore, tmp_path: Path) -> None:
    closed_march(store, tmp_path, claim_terms())
    ingest(store, tmp_path / "b.jsonl", [claim_submitted("CL-1", "2026-05-31T00:00:00Z")])
    row = row_now(store)
    assert row.as_dict()["claim_status"] == "expired"
    assert row.as_dict()["payable_amount"] == "0.00"
    assert store.entries(period="2026-03") == []
    (listed,) = claims_listing(store, MARCH, None, datetime.now(UTC))
    assert listed["deadline"] == "2026-05-31T00:00:00Z"
    assert listed["counts"] is False


def test_withdrawal_reverses_and_a_resubmission_after_it_does_nothing(
    store: LedgerStore, tmp_path: Path
) -> None:
    closed_march(store, tmp_path, claim_terms())
    ingest(store, tmp_path / "b.jsonl", [claim_submitted("CL-1", "2026-04-02T09:00:00Z")])
    assert booked(store) == Decimal("100.00") == row_now(store).payable_major
    withdrawn = ev("claim.withdrawn", "2026-06-20T00:00:00Z", {"claim_id": "CL-1"})
    ingest(store, tmp_path / "c.jsonl", [withdrawn])
    row = row_now(store)
    assert row.claim_status == "expired"
    assert booked(store) == row.payable_major == 0
    again = claim_submitted("CL-1", "2026-04-03T09:00:00Z", occurred="2026-06-21T00:00:00Z")
    ingest(store, tmp_path / "d.jsonl", [again])
    assert row_now(store).claim_status == "expired"
    assert [e.kind for e in store.entries(period="2026-03")] == ["issue", "reversal"]
    # A second claim, in time, counts again: a re-issue at the next revision.
    ingest(store, tmp_path / "e.jsonl", [claim_submitted("CL-2", "2026-04-04T09:00:00Z")])
    entries = store.entries(period="2026-03")
    assert [(e.kind, e.revision) for e in entries] == [
        ("issue", 1),
        ("reversal", 1),
        ("issue", 2),
    ]
    assert booked(store) == row_now(store).payable_major == Decimal("100.00")


def test_threshold_not_exceeded_pays_nothing(store: LedgerStore, tmp_path: Path) -> None:
    closed_march(store, tmp_path, claim_terms(threshold="100.00"))
    ingest(store, tmp_path / "b.jsonl", [claim_submitted("CL-1", "2026-05-30T23:00:00Z")])
    row = row_now(store)
    assert row.as_dict()["claim_status"] == "claimed"
    assert row.as_dict()["credit_amount"] == "100.00"
    assert row.as_dict()["payable_amount"] == "0.00"
    assert store.entries(period="2026-03") == []


def test_without_claim_terms_the_close_issues_as_before(store: LedgerStore, tmp_path: Path) -> None:
    closed_march(store, tmp_path, claim_terms(days=None, threshold="99.99"))
    row = row_now(store)
    assert row.as_dict()["claim_status"] is None
    assert row.as_dict()["payable_amount"] == "100.00"
    assert booked(store) == Decimal("100.00")
    # A claim for a row that does not exist is accepted and has no effect.
    stray = claim_submitted("CL-9", "2026-04-01T00:00:00Z")
    stray["payload"]["service_id"] = "no-such-service"
    ingest(store, tmp_path / "b.jsonl", [stray])
    assert row_now(store).claims == ()
    assert booked(store) == Decimal("100.00")
    (listed,) = claims_listing(store, None, None, datetime.now(UTC))
    assert listed["claim_id"] == "CL-9"
    assert listed["row_exists"] is False
    assert listed["claim_status"] is None


def _through_broker(
    kafka_bootstrap: str, topics: Topics, store_url: str, path: Path, docs: list[dict[str, Any]]
) -> None:
    """Publish `docs` to the test's inbound topics and ingest them from the broker."""
    path.write_bytes(b"".join(line(d) + b"\n" for d in docs))
    published = run_cli(
        "publish", "--from-file", str(path), "--bootstrap-servers", kafka_bootstrap,
        "--contracts-topic", topics.contracts, "--outages-topic", topics.outages,
        "--incidents-topic", topics.incidents, "--claims-topic", topics.claims,
        "--no-progress",
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    ingested = run_cli(
        "ingest", "--bootstrap-servers", kafka_bootstrap, "--topics", ",".join(topics.inbound),
        "--group-id", GROUP, "--dead-letter-topic", topics.rejected,
        "--credits-topic", topics.credits, "--alerts-topic", topics.alerts,
        "--idle-timeout-seconds", "3", "--format", "json", "--no-progress",
        store=store_url,
    )  # fmt: skip
    assert ingested.returncode == 0, ingested.stderr


GROUP = new_group()


@pytest.mark.integration
def test_claims_through_the_broker_issue_after_close_and_denial_reverses(
    kafka_bootstrap: str, store_url: str, tmp_path: Path
) -> None:
    topics = new_topics(kafka_bootstrap, "claims")
    fifty = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")
    docs = [contract(services=[claim_terms()]), *fifty]
    _through_broker(kafka_bootstrap, topics, store_url, tmp_path / "a.jsonl", docs)
    closed = run_cli("close", "--period", "2026-03", store=store_url)
    assert closed.returncode == 0, closed.stderr
    claim = claim_submitted("CL-1", "2026-05-30T23:00:00Z")
    _through_broker(kafka_bootstrap, topics, store_url, tmp_path / "b.jsonl", [claim])
    with LedgerStore(store_url, access="read") as store:
        accepted = store.accepted_event(claim["event_id"])
        assert accepted is not None
        origin = accepted.recorded.origin
        assert (origin.topic, origin.key) == (topics.claims, "CL-1")
        assert [(e.kind, str(e.amount_major)) for e in store.entries(period="2026-03")] == [
            ("issue", "100.00")
        ]
    denial = ev(
        "claim.decided",
        "2026-06-20T00:00:00Z",
        {"claim_id": "CL-1", "decision": "denied", "reason": "not covered"},
    )
    _through_broker(kafka_bootstrap, topics, store_url, tmp_path / "c.jsonl", [denial])
    with LedgerStore(store_url, access="read") as store:
        assert booked(store) == 0 == row_now(store).payable_major
        assert row_now(store).claim_status == "denied"
    listed = run_cli("claims", "--format", "json", store=store_url)
    assert listed.returncode == 0, listed.stderr
    (only,) = json.loads(listed.stdout)["claims"]
    assert (only["claim_id"], only["claim_status"], only["decision"]) == (
        "CL-1",
        "denied",
        "denied",
    )


def test_the_worker_consumes_the_claims_topic_by_default() -> None:
    from consumers.intake.kafka_config import INBOUND_TOPICS, KafkaSettings

    assert "sla.claims" in INBOUND_TOPICS
    assert "sla.claims" in KafkaSettings("localhost:9092").topics


def test_the_api_pages_claims_as_the_command_line_lists_them(
    store_url: str, tmp_path: Path
) -> None:
    from tests.cli_process import succeeded
    from tests.http_server import serving

    with LedgerStore(store_url, access="create") as store:
        closed_march(store, tmp_path, claim_terms())
        ingest(
            store,
            tmp_path / "b.jsonl",
            [claim_submitted(f"CL-{n}", f"2026-04-0{n}T09:00:00Z") for n in range(1, 4)],
        )
    moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cli = succeeded("claims", "--as-of", moment, "--format", "json", store=store_url)
    (tmp_path / "keys").mkdir()
    with serving(store_url, tmp_path / "keys") as served:
        whole = served.get("/v1/claims", as_of=moment)
        assert whole.status_code == 200, whole.text
        assert whole.content == cli.encode("utf-8")
        walked: list[str] = []
        answer = served.get("/v1/claims", as_of=moment, limit=1)
        while True:
            assert answer.status_code == 200, answer.text
            walked += [c["claim_id"] for c in answer.json()["claims"]]
            following = answer.links.get("next")
            if following is None:
                break
            with served.client() as client:
                answer = client.get(following["url"])
        assert walked == ["CL-1", "CL-2", "CL-3"]
        assert served.get("/v1/claims", role="compliance").status_code == 403
        refused = served.get("/v1/claims", role="finance", period="2026-13")
        assert refused.status_code == 400
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert [c["claim_status"] for c in json.loads(cli)["claims"]] == ["claimed"] * 3


CLAIM_IDS = st.sampled_from(["CL-1", "CL-2"])
SUBMITTED_AT = st.sampled_from(
    ["2026-04-02T09:00:00Z", "2026-05-30T23:59:59.999999Z", "2026-05-31T00:00:00Z"]
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("submitted"), CLAIM_IDS, SUBMITTED_AT),
        st.tuples(st.just("withdrawn"), CLAIM_IDS, st.just("")),
        st.tuples(st.just("approved"), CLAIM_IDS, st.just("")),
        st.tuples(st.just("denied"), CLAIM_IDS, st.just("")),
    ),
    min_size=1,
    max_size=6,
)


def step_event(number: int, kind: str, claim_id: str, at: str) -> dict[str, Any]:
    occurred = f"2026-07-{number + 1:02}T00:00:00Z"
    if kind == "submitted":
        return claim_submitted(claim_id, at, occurred=occurred)
    if kind == "withdrawn":
        return ev("claim.withdrawn", occurred, {"claim_id": claim_id})
    return ev("claim.decided", occurred, {"claim_id": claim_id, "decision": kind, "reason": "r"})


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=STEPS)
def test_entries_sum_to_the_payable_amount_after_every_step(
    kind: str,
    postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[str, str, str]],
) -> None:
    """Random claim histories after the close, one intake per event, on a fresh ledger
    each: after each, the row's entries sum to its payable amount, the entries only
    ever grow, and the payable amount is the credit exactly when a claim counts."""
    directory = tmp_path_factory.mktemp("steps")
    with ExitStack() as stack:
        url = (
            sqlite_url(directory)
            if kind == "sqlite"
            else stack.enter_context(fresh_postgres_database(postgres_url))
        )
        store = stack.enter_context(LedgerStore(url, access="create"))
        closed_march(store, directory, claim_terms())
        seen: list[Any] = []
        for number, (event, claim_id, at) in enumerate(steps):
            ingest(store, directory / f"{number}.jsonl", [step_event(number, event, claim_id, at)])
            row = row_now(store)
            entries = store.entries(period="2026-03")
            assert entries[: len(seen)] == seen
            seen = entries
            assert booked(store) == row.payable_major
            claimed = row.claim_status == "claimed"
            assert row.payable_major == (Decimal("100.00") if claimed else 0)


def test_an_audit_bundle_carries_the_claims_and_checks_offline(
    store_url: str, tmp_path: Path
) -> None:
    """The bundle holds the claim events its rows' entries were computed from, and the
    offline check recomputes every entry's basis and the payable amount from them."""
    with LedgerStore(store_url, access="create") as store:
        closed_march(store, tmp_path, claim_terms())
        ingest(store, tmp_path / "b.jsonl", [claim_submitted("CL-1", "2026-04-02T09:00:00Z")])
        denial = ev(
            "claim.decided",
            "2026-06-20T00:00:00Z",
            {"claim_id": "CL-1", "decision": "denied", "reason": "no"},
        )
        ingest(store, tmp_path / "c.jsonl", [denial])
    bundle = tmp_path / "bundle"
    exported = run_cli(
        "audit", "export", "--period", "2026-03", "--out", str(bundle), store=store_url
    )
    assert exported.returncode == 0, exported.stderr
    held = [json.loads(line)["type"] for line in (bundle / "events.jsonl").read_text().splitlines()]
    assert held.count("claim.submitted") == 1
    assert held.count("claim.decided") == 1
    checked = run_cli("audit", "check", str(bundle))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "not reconciled" not in checked.stdout
    explained = run_cli(
        "explain", "--contract", "C-1", "--service", "crm", "--period", "2026-03",
        store=store_url,
    )  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    assert "Claim CL-1, submitted 2026-04-02T09:00:00Z: denied (no); it does not count." in (
        explained.stdout
    )
    assert "Claim status: denied.\nPayable amount: 0.00 USD." in explained.stdout
    # Replayed from the log, the claims' spans and scopes and the entries are the same.
    rebuilt = run_cli("audit", "rebuild", store=store_url)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
