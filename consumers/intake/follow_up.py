"""What follows every committed intake, and every periodic check: closed periods
reconciled with what was recorded (sla-math §6), then the alerts provisional rows now
meet raised once each (§8). One function, so a file, a Kafka batch and an HTTP request
are followed up alike, and never between the events of one intake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.credits import CreditEntry
from projections.alerting import AlertCheck, raise_alerts
from projections.credit_entries import reconcile_closed_periods
from projections.store import LedgerStore


@dataclass(frozen=True)
class FollowUp:
    entries: list[CreditEntry]
    check: AlertCheck


def follow_up(store: LedgerStore, now: datetime) -> FollowUp:
    """Reconcile closed periods, then raise alerts, as of `now`."""
    entries = reconcile_closed_periods(store, now)
    return FollowUp(entries, raise_alerts(store, now))
