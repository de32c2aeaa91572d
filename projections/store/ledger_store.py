"""The ledger's store: the eventsourcing event log plus the ledger's own tables.

SQLite is the embedded default (one file); PostgreSQL is production. Both go through
the same eventsourcing recorder API; the only dialect differences are placeholders and
a few functions, handled in `schema` and `recorders`.

`LedgerStore` is the front door: it opens the store (`opening`), runs each read on its
own (`reads`, `audit_reads`), opens read snapshots (`reader`, `snapshot`) and appends
(`appends`, `positions`, `leases`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError, Tracking

from ledger.chain import ChainHead
from ledger.errors import StoreError
from ledger.events import InboundEvent, Origin
from ledger.rejections import Rejection
from projections.store import appends, leases, positions
from projections.store.appends import AppendOutcome
from projections.store.audit_reads import AuditReads
from projections.store.chain_append import ReplayedEvent
from projections.store.failures import failed
from projections.store.opening import (
    Access,
    missing_later_columns,
    missing_later_tables,
    open_recorder,
)
from projections.store.snapshot import StoreSnapshot
from projections.store.urls import parse_store_url
from projections.subject_rules import SpanRow

if TYPE_CHECKING:
    from ledger.alerts import Alert
    from ledger.credits import CreditEntry
    from projections.store.opening import Recorder


class LedgerStore(AuditReads):
    """A store, opened. Its reads (`StoreReads`, `AuditReads`) each run in a transaction
    of their own; a command or request that reads several times opens a snapshot
    (`reader`) and reads through it."""

    def __init__(
        self,
        url: str,
        *,
        access: Access,
        throwaway: bool = False,
        contents_of: LedgerStore | None = None,
    ) -> None:
        """`access`: how it is opened (`opening.Access`), always said: a store is created
        only where the caller means to (the open-store rule, `queries.store_access`).

        `throwaway`: a store its caller deletes after use, which nothing else reads (a
        rebuild's temporary scratch file): SQLite then writes it without waiting for the
        disk (`synchronous = OFF`), since a crash would lose nothing worth keeping.

        `contents_of`: for a throwaway SQLite store into which that SQLite store's log is
        replayed (a rebuild's scratch store). The replayed events' contents are not
        copied: their records are read from that store's file, at the same chain
        positions (a faithful replay keeps them), and `contents_elsewhere` is True.
        Ignored unless both are SQLite files."""
        self.url = url
        self.access = access
        self.throwaway = throwaway
        self.dialect = parse_store_url(url)[0]
        contents_uri = None if contents_of is None else contents_of.reader_uri()
        if not throwaway or self.dialect != "sqlite":
            contents_uri = None
        self.contents_elsewhere = contents_uri is not None
        self.recorder: Recorder = open_recorder(
            url, access, throwaway=throwaway, contents_uri=contents_uri
        )
        self.events_table = self.recorder.events_table_name
        try:
            self.missing_columns = (
                missing_later_columns(self.recorder, url) if access == "read" else {}
            )
            self.missing_tables = (
                missing_later_tables(self.recorder, url) if access == "read" else frozenset()
            )
        except StoreError:
            self.close()
            raise

    def close(self) -> None:
        with suppress(Exception):
            self.recorder.datastore.close()

    def __enter__(self) -> LedgerStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[Any]:
        """A transaction of its own (its cursor), its failure said in one line."""
        try:
            with self.recorder.datastore.transaction(commit=commit) as cursor:
                yield cursor
        except PersistenceError as exc:
            raise failed(self.url, exc) from None

    @contextmanager
    def reader(self) -> Iterator[StoreSnapshot]:
        """A snapshot of the store as it is now (`StoreSnapshot`), open until the block
        ends; any number may be open at once."""
        with self.transaction() as cursor:
            if self.dialect == "postgresql":
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            snapshot = StoreSnapshot(self, cursor)
            snapshot.begin()
            yield snapshot

    # -- one-shot reads: each query in a transaction of its own -----------------------

    def _reading(self) -> AbstractContextManager[Any]:
        return self.transaction()

    # -- writing (`appends`, `positions`, `leases`) -----------------------------------

    def append(
        self,
        events: Sequence[tuple[InboundEvent, Origin, bytes]],
        rejections: Sequence[Rejection],
        tracking: Tracking | None = None,
        *,
        recorded_us: int | None = None,
    ) -> AppendOutcome:
        return appends.append(self, events, rejections, tracking, recorded_us=recorded_us)

    def append_replayed(
        self,
        events: Sequence[ReplayedEvent],
        spans: list[SpanRow],
        scopes: set[tuple[str, str, str]],
    ) -> None:
        appends.append_replayed(self, events, spans, scopes)

    def record_close(
        self,
        period: str,
        closed_at: datetime,
        entries: Sequence[CreditEntry],
        head: ChainHead,
        due: dict[str, int | None] | None = None,
    ) -> bool:
        return appends.record_close(self, period, closed_at, entries, head, due)

    def append_entries(self, entries: Sequence[CreditEntry], head: ChainHead) -> None:
        appends.append_entries(self, entries, head)

    def record_due(self, period: str, computed_pos: int, due: dict[str, int | None]) -> None:
        appends.record_due(self, period, computed_pos, due)

    def append_alerts(self, alerts: Sequence[Alert], head: ChainHead) -> list[Alert]:
        return appends.append_alerts(self, alerts, head)

    def record_alert_due(self, period: str, computed_pos: int, due: dict[str, int | None]) -> None:
        appends.record_due(self, period, computed_pos, due, "sla_alert_due")

    def tracked_position(self, name: str) -> int | None:
        return positions.tracked_position(self, name)

    def record_position(self, name: str, position: int) -> None:
        positions.record_position(self, name, position)

    def hold_lease(self, name: str, holder: str, seconds: float) -> bool:
        return leases.hold_lease(self, name, holder, seconds)

    def release_lease(self, name: str, holder: str) -> None:
        leases.release_lease(self, name, holder)

    def open_leases(self, prefix: str) -> list[str]:
        return leases.open_leases(self, prefix)
