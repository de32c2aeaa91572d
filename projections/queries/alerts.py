"""`alerts`: the early warnings raised (sla-math §8), in the order they were recorded,
as the ledger listed them at a moment (now by default); and the same list in pages
(`alerts_page`), for an asker that reads it a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.alerts import FIELDS, Alert
from ledger.periods import Period, to_us
from projections.queries import as_of
from projections.queries.encoding import to_csv, to_json
from projections.store import StoreReads


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts to list: each filter given narrows the list (None: any)."""

    period: Period | None = None
    contract_id: str | None = None
    since: datetime | None = None  # recorded at or after it


@dataclass(frozen=True)
class Alerts:
    alerts: list[Alert]  # in record order
    chain_position: int  # the chain position of the moment they were listed at

    def documents(self) -> list[dict[str, Any]]:
        return [alert.as_dict() for alert in self.alerts]


@dataclass(frozen=True)
class AlertsPage:
    alerts: list[Alert]  # in record order
    last_position: int | None  # the chain position of the page's last alert
    more: bool  # whether an alert matching the filters follows, up to the walk's position


def alerts(
    store: StoreReads,
    filters: AlertFilter,
    asked: datetime | None,
    *,
    typed: str | None = None,
) -> Alerts:
    """The alerts recorded by `asked` (None: now; `typed`: how the asker wrote it) that
    match `filters`, in record order."""
    moment = as_of.moment(store, asked, typed=typed)
    return Alerts(
        store.alerts(
            to_us(moment),
            period=None if filters.period is None else filters.period.label,
            contract_id=filters.contract_id,
            since_us=None if filters.since is None else to_us(filters.since),
        ),
        as_of.position_at(store, moment),
    )


def alerts_json(result: Alerts) -> str:
    """Like `credits --format json`: the chain position, then the alerts. No moment:
    alerts are chained records, so the same question under the same chain head has the
    same answer."""
    return to_json({"chain_position": result.chain_position, "alerts": result.documents()})


def alerts_csv(result: Alerts) -> str:
    # Every field, always, in the order listed.
    return to_csv(result.documents(), list(FIELDS))


def alerts_page(
    store: StoreReads,
    filters: AlertFilter,
    moment: datetime,
    through_position: int,
    after_position: int,
    limit: int,
) -> AlertsPage:
    """The first `limit` alerts chained after `after_position` and up to
    `through_position` that match `filters` and were recorded by `moment`, in record
    order. An asker walking the pages keeps `moment` and `through_position` of its first
    page and passes each page's `last_position` on: alerts raised meanwhile lie beyond
    that position, so the walk neither skips nor repeats one."""
    if limit < 1:
        raise ValueError(f"a page holds at least one alert, not {limit}")
    found = store.alerts_page(
        after_position,
        through_position,
        limit + 1,
        recorded_by_us=to_us(moment),
        period=None if filters.period is None else filters.period.label,
        contract_id=filters.contract_id,
        since_us=None if filters.since is None else to_us(filters.since),
    )
    page = found[:limit]
    return AlertsPage(
        alerts=[alert for _, alert in page],
        last_position=page[-1][0] if page else None,
        more=len(found) > limit,
    )
