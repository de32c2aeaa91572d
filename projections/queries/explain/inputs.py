"""The derivation of one row as the ledger knew it at a moment, with its credit entries.

The inputs are loaded exactly as `period_report` loads them (`load_period_inputs`),
restricted to what was recorded by the moment, so `explain` and `report` can never
disagree. Each credit entry of the row is shown with the basis recomputed from the
events recorded at or before its own `recorded_at` (horizon `recorded_at`): that is
what the entry was computed from, and `basis_reproduced` says whether its digest
matches the `basis_sha256` the entry carries. The row explained and the row behind each
entry are computed alike: `inputs_as_of`, then `compute_rows`, then `basis_facts`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.attainment import Row
from ledger.credits import CreditEntry
from ledger.events import RecordedEvent
from ledger.outages import OutageState, fold_outage
from ledger.period_rows import PeriodInputs
from ledger.periods import Period, to_us
from ledger.timeformat import format_utc
from projections.attainment import load_period_inputs
from projections.queries.explain.document import RowNotFoundError, basis_facts, explain_row, locate
from projections.store import StoreReads

# How far around the period's UTC month `explain` looks for the service's outages.
NEAR_US = 24 * 3600 * 1_000_000


def explain(
    store: StoreReads, contract_id: str, service_id: str, period: Period, as_of: datetime
) -> dict[str, Any]:
    """The derivation document of (contract, service, period) as of `as_of`.

    Raises `projections.queries.explain.document.RowNotFoundError` when the row does not exist then.
    """
    inputs = inputs_as_of(store, period, as_of, contract_id)
    contract = next((c for c in inputs.contracts if c.contract_id == contract_id), None)
    try:
        location = locate(contract, contract_id, service_id, period)
    except RowNotFoundError as exc:
        # Say when: a contract unknown as of a past moment may well be known now.
        raise RowNotFoundError(f"as of {format_utc(as_of)}: {exc}") from None
    assert contract is not None
    outages, maintenances, incidents = inputs.subjects_for(contract)
    # The service's other outages near the period (those naming other customers only,
    # or lying outside the coverage): they never reach the row (compute_row skips them),
    # but a dispute handler must see them and why.
    known = {o.outage_id for o in outages}
    nearby, nearby_events = outages_near(store, period, service_id, to_us(as_of), known)
    document = explain_row(
        contract,
        location,
        period,
        [*outages, *nearby],
        maintenances,
        incidents,
        inputs.horizon_us,
        histories={**inputs.events, **nearby_events},
        closed_at=inputs.closed_at,
        claims=inputs.claims_for(contract),
    )
    entries = [
        e
        for e in store.entries(
            period=period.label, contract_id=contract_id, recorded_by_us=to_us(as_of)
        )
        if e.service_id == service_id
    ]
    document["entries"] = entry_facts(store, period, entries)
    return document


def inputs_as_of(
    store: StoreReads, period: Period, moment: datetime, contract_id: str
) -> PeriodInputs:
    """What the ledger knew at `moment` of one contract's rows in `period`: its events
    and closes recorded by then, horizon `moment`. The same rows as the whole period's
    report of that moment (a row only ever reads its own contract's subjects)."""
    return load_period_inputs(
        store, period, moment, recorded_filter=True, contract_ids={contract_id}
    )


def outages_near(
    store: StoreReads, period: Period, service_id: str, recorded_by_us: int, known: set[str]
) -> tuple[list[OutageState], dict[tuple[str, str], list[RecordedEvent]]]:
    """The service's outages near the period that the report's inputs do not hold, with
    their events: those whose span reaches the period's UTC month widened by a day on each
    side (`NEAR_US`), recorded by `recorded_by_us`.

    The report reads only the outages that reach some contract's coverage; one that lies
    wholly before or after this row's coverage (a month that starts at local midnight
    hours away from UTC's) counts for nothing, but `explain` lists it as `outside`, so a
    dispute handler sees every outage of the service around the period and why it does
    not count. Any local month lies within its UTC month and 14 hours either side.
    """
    lo, hi = period.window("UTC")
    events = store.events_near("outage", lo - NEAR_US, hi + NEAR_US, recorded_by_us)
    found: list[OutageState] = []
    histories: dict[tuple[str, str], list[RecordedEvent]] = {}
    recorded_by: dict[str, list[RecordedEvent]] = {}
    for recorded in events:
        recorded_by.setdefault(recorded.event.subject_id, []).append(recorded)
    for subject_id, recorded_events in recorded_by.items():
        if subject_id in known:
            continue
        outage = fold_outage([recorded.event for recorded in recorded_events])
        if outage.service_id == service_id:
            found.append(outage)
            histories[("outage", subject_id)] = recorded_events
    return found, histories


def entry_facts(
    store: StoreReads, period: Period, entries: list[CreditEntry]
) -> list[dict[str, Any]]:
    """Each entry of one row, in record order, with the basis recomputed as of its
    `recorded_at`."""
    rows_then: dict[datetime, dict[tuple[str, str], Row]] = {}
    facts = []
    for entry in entries:
        if entry.recorded_at not in rows_then:
            inputs = inputs_as_of(store, period, entry.recorded_at, entry.contract_id)
            rows_then[entry.recorded_at] = {
                (r.contract.contract_id, r.service.service_id): r for r in inputs.rows()
            }
        row = rows_then[entry.recorded_at].get((entry.contract_id, entry.service_id))
        then = basis_facts(entry.key, row, entry.basis_version)
        facts.append(
            {
                **entry.as_dict(),
                "basis_at_recording": then["basis"],
                "basis_sha256_recomputed": then["basis_sha256"],
                "basis_reproduced": then["basis_sha256"] == entry.basis_sha256,
            }
        )
    return facts
