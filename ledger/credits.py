"""Credit entries: immutable, corrected only by new entries (spec: sla-math §6).

A closed row's entries always sum to its current payable amount (`payable_amount`:
its `credit_amount` unless §10 withholds it: a credit not claimed in time, or not above
the threshold). When a newly recorded event changes that amount, the active issue is
reversed (negative amount, `supersedes` naming it) and, if the new amount is positive,
a new issue follows at the next revision.
Entry ids are uuid5 of the row and revision, so the same history yields the same ids
and downstream systems can de-duplicate a rebuild or a re-publication by `entry_id`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from ledger.booking import booking_fields
from ledger.canonical import canonical_json
from ledger.entry_bases import document_sha256
from ledger.row_key import RowKey
from ledger.timeformat import format_utc

if TYPE_CHECKING:  # the row computation is not loaded to read or print entries
    from ledger.attainment import Row

ENTRY_NAMESPACE = uuid.UUID("6f2b8e4c-3a1d-5e7f-9b0c-1d2e3f4a5b6c")

EntryKind = Literal["issue", "reversal"]


def entry_id(key: RowKey, kind: EntryKind, revision: int) -> str:
    return str(
        uuid.uuid5(
            ENTRY_NAMESPACE,
            f"{key.contract_id}\x1f{key.service_id}\x1f{key.period}\x1f{kind}\x1f{revision}",
        )
    )


# The figures of a row each basis version hashes. A version is frozen once entries
# carry it: an entry's basis_sha256 must recompute from its events for as long as the
# books are kept, so a new report field never joins an existing version (it would
# silently change every later digest of the same figures). A basis that must cover more
# becomes a new version with its own list here; each entry keeps the version it was
# computed with and is verified with that version's list.
#
# Version 1 is the report row as it stood when versions were introduced, less `status`
# (it depends on the moment the row is read, not on its figures): every entry recorded
# before then carries no version and was computed with exactly this list.
_VERSION_1 = (
    "contract_id",
    "customer_id",
    "service_id",
    "period",
    "terms_version",
    "currency",
    "remedy",
    "window_seconds",
    "covered_seconds",
    "excluded_seconds",
    "measured_seconds",
    "downtime_seconds",
    "availability_percent",
    "availability_target_percent",
    "availability_met",
    "availability_credit_percent",
    "incidents_met",
    "incidents_missed",
    "incidents_pending",
    "response_attainment_percent",
    "response_credit_percent",
    "credit_percent",
    "fee_basis",
    "credit_amount",
)
# Version 2 adds what the terms of sla-math §10 and §11 decide: an entry follows the
# payable amount, which the claim status and the threshold make of the credit amount,
# and the resolution credit is part of the credit percent. (§9's annual rows need no
# new field: `period`, `covered_seconds` and `fee_basis` say what a year covered.)
_VERSION_2 = (
    *_VERSION_1,
    "resolution_met",
    "resolution_missed",
    "resolution_pending",
    "resolution_attainment_percent",
    "resolution_credit_percent",
    "claim_status",
    "payable_amount",
)
BASIS_FIELDS: dict[int, tuple[str, ...]] = {1: _VERSION_1, 2: _VERSION_2}
# The version new entries are computed with.
BASIS_VERSION = 2


def basis(row: Row, version: int = BASIS_VERSION) -> dict[str, Any]:
    """The canonical derivation an entry is computed from: the row's figures that basis
    `version` lists and the ids of every event that fed them. The figures are keyed by
    name and canonical JSON sorts keys, so which names a version lists matters to the
    digest, not their order."""
    try:
        listed = BASIS_FIELDS[version]
    except KeyError:
        raise ValueError(f"no basis version {version} (known: {sorted(BASIS_FIELDS)})") from None
    figures = row.as_dict()
    return {"row": {name: figures[name] for name in listed}, "event_ids": sorted(row.event_ids)}


def basis_sha256(row: Row, version: int = BASIS_VERSION) -> str:
    return document_sha256(canonical_json(basis(row, version)))


def vanished_basis(key: RowKey) -> dict[str, Any]:
    """The basis of a reversal whose row no longer exists (its coverage was withdrawn)."""
    return {"row": None, "key": [key.contract_id, key.service_id, key.period]}


def vanished_basis_sha256(key: RowKey) -> str:
    return document_sha256(canonical_json(vanished_basis(key)))


def entry_basis_document(key: RowKey, row: Row | None, version: int = BASIS_VERSION) -> str:
    """The canonical text of the basis an entry of row `key` is computed from, with basis
    `version`: the row's basis, or the vanished basis when the row no longer exists. The
    ledger stores it beside the entry (`CreditEntry.basis_document`)."""
    document = basis(row, version) if row is not None else vanished_basis(key)
    return canonical_json(document)


def entry_basis_sha256(key: RowKey, row: Row | None, version: int = BASIS_VERSION) -> str:
    """The `basis_sha256` an entry of row `key` carries (see `entry_basis_document`).
    Recording an entry and every later check of it (explain, the audit bundle) compute
    it here."""
    return document_sha256(entry_basis_document(key, row, version))


@dataclass(frozen=True, slots=True)
class CreditEntry:
    entry_id: str
    kind: EntryKind
    revision: int
    supersedes: str | None
    contract_id: str
    customer_id: str
    service_id: str
    period: str
    amount_major: Decimal
    currency: str
    remedy: str
    credit_percent: Decimal  # as the row's; chained and printed as its exact text
    terms_version: int
    recorded_at: datetime
    basis_sha256: str
    # The `BASIS_FIELDS` version `basis_sha256` hashes (an entry recorded before versions
    # existed is of version 1). Not defaulted: every maker of an entry says which.
    basis_version: int
    # Neither is part of the entry (its equality, hash, id or chain record): what the
    # ledger knows beside it. `basis_document`: the canonical text `basis_sha256`
    # hashes, which a writer stores with the entry (`entry_basis_document`); None where
    # not at hand (an entry read back). `memo_figures`: the basis row figures the memo
    # describes (`ledger.booking.memo`): an issue's own, a reversal's those of the issue
    # it reverses; None where no stored basis proves them (`entry_bases.verified_figures`:
    # an entry recorded before bases were stored, a vanished row's, an edited one).
    basis_document: str | None = field(default=None, compare=False, repr=False)
    memo_figures: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> RowKey:
        return RowKey(self.contract_id, self.service_id, self.period)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "kind": self.kind,
            "revision": self.revision,
            "supersedes": self.supersedes,
            "contract_id": self.contract_id,
            "customer_id": self.customer_id,
            "service_id": self.service_id,
            "period": self.period,
            "amount": str(self.amount_major),
            "currency": self.currency,
            "remedy": self.remedy,
            "credit_percent": str(self.credit_percent),
            "terms_version": self.terms_version,
            "recorded_at": format_utc_micro(self.recorded_at),
            "basis_sha256": self.basis_sha256,
            "basis_version": self.basis_version,
            **booking_fields(self),
        }


def format_utc_micro(instant: datetime) -> str:
    """Record times always carry six fractional digits, as outputs.md shows them."""
    text = format_utc(instant)
    return text if "." in text else text[:-1] + ".000000Z"


def active_issue(entries: Sequence[CreditEntry]) -> CreditEntry | None:
    reversed_ids = {e.supersedes for e in entries if e.kind == "reversal"}
    issues = [e for e in entries if e.kind == "issue" and e.entry_id not in reversed_ids]
    return issues[-1] if issues else None


def reconcile(
    rows: Mapping[RowKey, Row],
    entries: Iterable[CreditEntry],
    recorded_at: datetime,
    basis_version: int | None = None,
) -> list[CreditEntry]:
    """The entries to append so that every row's entries sum to its payable amount,
    each computed with basis `basis_version` (None: `BASIS_VERSION`; a rebuild replays
    each with the version the ledger recorded it with).

    `rows` are the closed period's rows as they stand now; `entries` are all entries
    recorded so far for that period, in record order. A row that no longer exists (its
    coverage was withdrawn) owes nothing, so its active issue is reversed.
    """
    version = BASIS_VERSION if basis_version is None else basis_version
    by_row: dict[RowKey, list[CreditEntry]] = {}
    for entry in entries:
        by_row.setdefault(entry.key, []).append(entry)
    new: list[CreditEntry] = []
    for key in sorted(set(rows) | set(by_row), key=lambda k: (k.contract_id, k.service_id)):
        row = rows.get(key)
        history = by_row.get(key, [])
        owed = row.payable_major if row is not None else Decimal(0)
        active = active_issue(history)
        booked = active.amount_major if active is not None else Decimal(0)
        if owed == booked:
            continue
        document = entry_basis_document(key, row, version)
        digest = document_sha256(document)
        last_revision = max((e.revision for e in history), default=0)
        if active is not None:
            new.append(
                CreditEntry(
                    entry_id=entry_id(key, "reversal", active.revision),
                    kind="reversal",
                    revision=active.revision,
                    supersedes=active.entry_id,
                    contract_id=active.contract_id,
                    customer_id=active.customer_id,
                    service_id=active.service_id,
                    period=active.period,
                    amount_major=-active.amount_major,
                    currency=active.currency,
                    remedy=active.remedy,
                    credit_percent=active.credit_percent,
                    terms_version=active.terms_version,
                    recorded_at=recorded_at,
                    basis_sha256=digest,
                    basis_version=version,
                    basis_document=document,
                    memo_figures=active.memo_figures,
                )
            )
        if row is not None and owed > 0:
            revision = last_revision + 1
            new.append(
                CreditEntry(
                    entry_id=entry_id(key, "issue", revision),
                    kind="issue",
                    revision=revision,
                    supersedes=None,
                    contract_id=key.contract_id,
                    customer_id=row.contract.customer_id,
                    service_id=key.service_id,
                    period=key.period,
                    amount_major=owed,
                    currency=row.contract.currency,
                    remedy=row.contract.remedy,
                    credit_percent=row.credit_percent,
                    terms_version=row.terms.version,
                    recorded_at=recorded_at,
                    basis_sha256=digest,
                    basis_version=version,
                    basis_document=document,
                    memo_figures=basis(row, version)["row"],
                )
            )
    return new
