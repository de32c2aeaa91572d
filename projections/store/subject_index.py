"""Where each outage, maintenance window and incident can matter: its buckets and scopes.

A report of one period, and a reconciliation of a few contracts' rows, must read only
the subjects near that period (and of those contracts), however many years of history
lie before and after it. Two insert-only tables answer that, written with the events:

- `sla_subject_buckets`: the fixed-width buckets of time (`BUCKET_US`) that a subject's
  span reaches. The span (`sla_subject_spans`) is the widened union of every instant
  its events name, so the buckets are computed from the stored span under the write
  lock, after the batch widened it: an outage started in January and resolved in March
  reaches February too. A subject still open (no end known) or wider than
  `BUCKETS_MAX` buckets is "wide": it is found through the spans table's partial index
  instead.
- `sla_subject_scopes`: whose rows a subject can reach, from every event that names it
  (an outage's service and customers, an incident's contract). A union over all of the
  subject's events, so it covers every version of the subject, before and after an
  amendment.

A subject a period needs is always among those found here (a superset: the exact span
test and the row computation decide what counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ledger.contracts import ContractState
from ledger.events import InboundEvent
from projections.store.recorders import BulkInsert, to_dialect
from projections.store.schema import (
    BUCKET_COLUMNS,
    BUCKET_US,
    BUCKETS_MAX,
    CONTRACT_CUSTOMER,
    CONTRACT_SERVICE,
    KEEP_FIRST,
    SCOPE_CONTRACT,
    SCOPE_SEP,
    SCOPE_SERVICE,
    Dialect,
)
from projections.subject_rules import SCOPED_KINDS as SCOPED_KINDS
from projections.subject_rules import payload_scopes as payload_scopes
from projections.subject_rules import service_scope as service_scope

CHUNK = 500  # ids per `IN (...)`


def scopes_of(event: InboundEvent) -> set[str]:
    """The scopes an event gives its subject (empty: it names none); for a contract,
    the services and the customer its terms name."""
    return payload_scopes(event.subject_kind, event.payload)


def contract_scopes(contract: ContractState) -> set[str]:
    """Every scope whose subjects can reach one of `contract`'s rows."""
    services = {s.service_id for v in contract.versions for s in v.services}
    found = {SCOPE_CONTRACT + contract.contract_id}
    for service in services:
        found |= {service_scope(service, None), service_scope(service, contract.customer_id)}
    return found


def contract_terms_wanted(scopes: Iterable[str]) -> set[str]:
    """The contract scopes (`sla_contract_scopes`) that `contracts_reached` needs."""
    wanted: set[str] = set()
    for scope in scopes:
        if scope.startswith(SCOPE_SERVICE):
            service, _, customer = scope[len(SCOPE_SERVICE) :].partition(SCOPE_SEP)
            wanted.add(CONTRACT_SERVICE + service)
            if customer:
                wanted.add(CONTRACT_CUSTOMER + customer)
    return wanted


def contracts_reached(scopes: Iterable[str], terms: dict[str, set[str]]) -> set[str]:
    """The contracts whose rows subjects of these scopes reach, given `terms` (contract
    scope -> the contracts whose terms name it, for `contract_terms_wanted(scopes)`)."""
    found: set[str] = set()
    for scope in scopes:
        if scope.startswith(SCOPE_CONTRACT):
            found.add(scope[len(SCOPE_CONTRACT) :])
        elif scope.startswith(SCOPE_SERVICE):
            service, _, customer = scope[len(SCOPE_SERVICE) :].partition(SCOPE_SEP)
            with_service = terms.get(CONTRACT_SERVICE + service, set())
            found |= (
                with_service & terms.get(CONTRACT_CUSTOMER + customer, set())
                if customer
                else with_service
            )
    return found


def bucket_range(lo_us: int, hi_us: int) -> range:
    """The buckets the instants `[lo, hi]` fall into."""
    return range(lo_us // BUCKET_US, hi_us // BUCKET_US + 1)


def is_wide(lo_us: int, hi_us: int, has_end: int) -> bool:
    """Mirrors `schema.WIDE_SPAN`: found through the spans table, not its buckets."""
    return not has_end or hi_us - lo_us > BUCKET_US * BUCKETS_MAX


def bucket_rows(
    cursor: Any, dialect: Dialect, subjects: Sequence[tuple[str, str]]
) -> list[BulkInsert]:
    """Under the write lock, after the batch widened the spans of `subjects`: the buckets
    their stored spans reach, to insert (rows already there stay: buckets only grow)."""
    rows: list[tuple[Any, ...]] = []
    by_kind: dict[str, list[str]] = {}
    for kind, subject in subjects:
        by_kind.setdefault(kind, []).append(subject)
    for kind, ids in sorted(by_kind.items()):
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            cursor.execute(
                to_dialect(
                    "SELECT subject_id, lo_us, hi_us, has_end FROM sla_subject_spans "
                    f"WHERE subject_kind = ? AND subject_id IN ({','.join('?' * len(chunk))})",
                    dialect,
                ),
                [kind, *chunk],
            )
            for r in cursor.fetchall():
                lo, hi, has_end = int(r["lo_us"]), int(r["hi_us"]), int(r["has_end"])
                if not is_wide(lo, hi, has_end):
                    rows += [(kind, b, r["subject_id"]) for b in bucket_range(lo, hi)]
    rows.sort()
    return [BulkInsert("sla_subject_buckets", BUCKET_COLUMNS, rows, KEEP_FIRST)] if rows else []
