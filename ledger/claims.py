"""Claims and thresholds: whether a row's credit is payable (spec: sla-math §10).

A claim's state is the fold of its events in `occurred_at` order (ties: `event_id`): a
repeated `claim.submitted` replaces the fields it names, the latest `claim.decided`
applies, and a `claim.withdrawn` is final (nothing after it changes the claim). A row
needs a claim when its service's terms set `claim_deadline_days`; its deadline is local
midnight that many days after the local end of its period's window (whatever the
window: a month or a year), and its `claim_status` and `payable_amount` follow from the
claims naming it. Pure: the horizon is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal

from ledger.events import InboundEvent
from ledger.periods import local_date_of, local_midnight_us, to_us
from ledger.row_key import RowKey
from ledger.timeformat import format_utc, parse_utc

if TYPE_CHECKING:
    from ledger.attainment import Row

ClaimStatus = Literal["claimed", "denied", "expired", "unclaimed"]

CLAIM_EVENT_TYPES: Final = frozenset({"claim.submitted", "claim.withdrawn", "claim.decided"})
# The last local day a deadline can fall on: a deadline of more days than the calendar
# holds is the start of this day, after every instant the ledger accepts (inbound
# instants end at 9999-01-01), so such a claim behaves as one with no deadline at all.
_LAST_DAY: Final = date(9999, 12, 31)


@dataclass(frozen=True, slots=True)
class ClaimState:
    """The fold of one claim's events (None fields: no `claim.submitted` named them)."""

    claim_id: str
    contract_id: str | None
    service_id: str | None
    period: str | None
    submitted_at: datetime | None
    withdrawn: bool
    decision: str | None  # the latest decision: "approved" or "denied"
    decision_reason: str | None
    event_ids: tuple[str, ...]  # every event of the claim, in application order

    @property
    def key(self) -> RowKey | None:
        """The row the claim names; None before any submission is known."""
        if self.contract_id is None or self.service_id is None or self.period is None:
            return None
        return RowKey(self.contract_id, self.service_id, self.period)

    def counts(self, deadline_us: int) -> bool:
        """Not withdrawn, its latest decision not `denied`, submitted before the deadline."""
        return (
            not self.withdrawn
            and self.decision != "denied"
            and self.submitted_at is not None
            and to_us(self.submitted_at) < deadline_us
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "submitted_at": None if self.submitted_at is None else format_utc(self.submitted_at),
            "withdrawn": self.withdrawn,
            "decision": self.decision,
            "decision_reason": self.decision_reason,
        }


def fold_claim(events: Iterable[InboundEvent]) -> ClaimState:
    """Fold one claim's events, in (occurred_at, event_id) order whatever the input
    order; raises `ValueError` for no events or a non-claim event."""
    ordered = sorted({e.event_id: e for e in events}.values(), key=_application_order)
    if not ordered:
        raise ValueError("fold_claim needs at least one event")
    fields: dict[str, Any] = {}
    withdrawn = False
    decision: str | None = None
    reason: str | None = None
    for event in ordered:
        if event.type not in CLAIM_EVENT_TYPES:
            raise ValueError(f"not a claim event: {event.type} ({event.event_id})")
        if withdrawn:
            continue  # a withdrawal is final
        payload = event.payload
        if event.type == "claim.submitted":
            fields = {
                name: payload[name]
                for name in ("contract_id", "service_id", "period", "submitted_at")
            }
        elif event.type == "claim.withdrawn":
            withdrawn = True
        else:
            decision, reason = str(payload["decision"]), str(payload["reason"])
    submitted = fields.get("submitted_at")
    return ClaimState(
        claim_id=str(ordered[0].payload["claim_id"]),
        contract_id=fields.get("contract_id"),
        service_id=fields.get("service_id"),
        period=fields.get("period"),
        submitted_at=None if submitted is None else parse_utc(submitted),
        withdrawn=withdrawn,
        decision=decision,
        decision_reason=reason,
        event_ids=tuple(e.event_id for e in ordered),
    )


def _application_order(event: InboundEvent) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_id)


def claim_deadline_us(window_end_us: int, timezone: str, days: int) -> int:
    """Local midnight `days` days after the local end of a window ending at
    `window_end_us` (a local midnight itself), in UTC microseconds (zoneinfo, fold=0,
    as every local midnight of the ledger: sla-math §1)."""
    end_day = local_date_of(window_end_us, timezone)
    try:
        day = min(end_day + timedelta(days=days), _LAST_DAY)
    except OverflowError:
        day = _LAST_DAY
    return local_midnight_us(day, timezone)


def claim_status(claims: Sequence[ClaimState], deadline_us: int, horizon_us: int) -> ClaimStatus:
    """The status of a row that needs a claim, from the claims naming it (sla-math §10):
    `claimed` if one counts; else `denied` if at least one is not withdrawn and all of
    those are denied; else `expired` once the horizon reaches the deadline; else
    `unclaimed`."""
    if any(claim.counts(deadline_us) for claim in claims):
        return "claimed"
    live = [claim for claim in claims if not claim.withdrawn]
    if live and all(claim.decision == "denied" for claim in live):
        return "denied"
    return "expired" if horizon_us >= deadline_us else "unclaimed"


def above_threshold(amount: Decimal, threshold: Decimal | None) -> bool:
    """Whether a rounded credit amount passes the service's threshold (strictly above)."""
    return threshold is None or amount > threshold


def payable(amount: Decimal, status: ClaimStatus | None, threshold: Decimal | None) -> bool:
    """§10: the credit is payable when no claim is needed or one counts, and it is above
    the threshold (if any)."""
    return status in (None, "claimed") and above_threshold(amount, threshold)


def apply_claims(
    row: Row, window_end_us: int, claims: Iterable[ClaimState], horizon_us: int
) -> None:
    """Set `row`'s claim fields (sla-math §10) from the claims of its contract: its
    deadline and status when its terms need a claim, its payable amount, and the
    events of the claims naming it among the events its figures came from."""
    mine = tuple(c for c in claims if c.key == row.key)
    row.claims = mine
    for claim in mine:
        row.event_ids.update(claim.event_ids)
    service = row.service
    status: ClaimStatus | None = None
    if service.claim_deadline_days is not None:
        row.claim_deadline_us = claim_deadline_us(
            window_end_us, row.contract.timezone, service.claim_deadline_days
        )
        status = claim_status(mine, row.claim_deadline_us, horizon_us)
    row.claim_status = status
    amount = row.credit_amount_major
    row.payable_amount_major = (
        amount if payable(amount, status, service.credit_threshold_amount) else amount * 0
    )
