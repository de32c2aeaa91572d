"""`sla-ledger demo`: one realistic month, end to end, on the embedded default.

Three contracts in three timezones and currencies for October 2026: a SaaS vendor that
pays cash back below 99.9%, a CRM provider with a tiered credit schedule, and a managed
service provider that refunds 5% of the fee when response times are missed. The month
brings a full outage, a 50% degradation, maintenance with enough notice (excluded) and
with too little (counted), a customer-caused outage (excluded), a false alarm
(retracted), a P1 raised on a Friday evening and answered on Monday, a duplicate and a
malformed line. The period is closed; then the post-incident review's correction
arrives and the ledger posts a reversal and a re-issue. The store and an audit bundle
stay behind for the user to query, with commands that run as printed.

The demo writes only into its directory, and only over what it wrote there itself
(`DemoDirectory`); a store given with --store must be new or empty.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Sequence
from contextlib import nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consumers import render
from consumers.cli import UsageError
from consumers.embedded_broker import embedded_broker
from consumers.kafka_config import (
    CREDITS_TOPIC,
    DEAD_LETTER_TOPIC,
    INBOUND_TOPICS,
    TOPIC_OF_FAMILY,
    KafkaSettings,
)
from consumers.kafka_intake import IngestCounts, KafkaIngest
from consumers.publish import publish_file, send_raw
from consumers.shell_commands import command_line, shown_path
from ledger.chain import parse_checkpoint
from ledger.errors import LedgerError
from ledger.inbound import RejectedInputError
from ledger.periods import Period
from ledger.strict_json import parse_strict_json
from ledger.timeformat import format_utc
from projections.attainment import period_report
from projections.audit.bundle import export
from projections.audit.verify import verify
from projections.credit_entries import close_checkpoint, close_period
from projections.history_diff import period_diff
from projections.store import LedgerStore, parse_store_url, redact

DEMO_PERIOD = "2026-10"
# What the demo writes into its directory, and nothing else.
MARKER = ".sla-ledger-demo.json"
LEDGER_FILE = "ledger.db"
# SQLite's companions of the store file: there while it is open, or after a crash.
LEDGER_COMPANIONS = ("ledger.db-wal", "ledger.db-shm", "ledger.db-journal")
MONTH_FILE = "events-2026-10.jsonl"
CORRECTION_FILE = "late-correction.jsonl"
BUNDLE_DIR = "audit-bundle"
DEMO_PATHS = (LEDGER_FILE, *LEDGER_COMPANIONS, MONTH_FILE, CORRECTION_FILE, BUNDLE_DIR)
_NS = uuid.UUID("9a1c2f3e-4b5d-5c6e-8f70-1a2b3c4d5e6f")
TIERS = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
    {"below_percent": "95.0", "credit_percent": "100"},
]
OFFICE_HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def _event(
    name: str, kind: str, occurred_at: str, payload: dict[str, Any], source: str = "status-page"
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid5(_NS, name)),
        "type": kind,
        "schema_version": 1,
        "occurred_at": occurred_at,
        "source": source,
        "payload": payload,
    }


def _outage(
    oid: str,
    service: str,
    start: str,
    end: str,
    impact: str = "100",
    customers: list[str] | None = None,
) -> list[dict[str, Any]]:
    return [
        _event(
            f"{oid}/start",
            "outage.started",
            start,
            {
                "outage_id": oid,
                "service_id": service,
                "started_at": start,
                "impact_percent": impact,
                "customer_ids": customers,
            },
            "monitoring",
        ),
        _event(
            f"{oid}/end", "outage.resolved", end, {"outage_id": oid, "ended_at": end}, "monitoring"
        ),
    ]


def month_events() -> list[dict[str, Any]]:
    contracts = [
        _event(
            "C-1001/signed",
            "contract.signed",
            "2026-01-05T14:00:00-05:00",
            {
                "contract_id": "C-1001",
                "customer_id": "CUST-NW",
                "customer_name": "Northwind Inc",
                "currency": "USD",
                "timezone": "America/New_York",
                "remedy": "cash",
                "effective_from": "2026-02-01",
                "effective_to": None,
                "services": [
                    {
                        "service_id": "api",
                        "monthly_fee": "12000.00",
                        "availability": {
                            "target_percent": "99.9",
                            "credit_tiers": [{"below_percent": "99.9", "credit_percent": "10"}],
                            "excluded_causes": ["customer_caused", "force_majeure"],
                            "maintenance_notice": "PT48H",
                            "min_downtime_seconds": 60,
                        },
                    }
                ],
            },
            "crm-contracts",
        ),
        _event(
            "C-2002/signed",
            "contract.signed",
            "2026-03-01T09:00:00+11:00",
            {
                "contract_id": "C-2002",
                "customer_id": "CUST-ACME",
                "customer_name": "Acme Pty Ltd",
                "currency": "AUD",
                "timezone": "Australia/Sydney",
                "remedy": "credit",
                "effective_from": "2026-04-01",
                "effective_to": None,
                "services": [
                    {
                        "service_id": "crm",
                        "monthly_fee": "1200.00",
                        "availability": {
                            "target_percent": "99.9",
                            "credit_tiers": TIERS,
                            "excluded_causes": ["customer_caused", "force_majeure"],
                            "maintenance_notice": "PT48H",
                            "min_downtime_seconds": 0,
                        },
                    },
                    {
                        "service_id": "portal",
                        "monthly_fee": "400.00",
                        "availability": {
                            "target_percent": "99.5",
                            "credit_tiers": TIERS[1:],
                            "excluded_causes": [],
                            "maintenance_notice": None,
                            "min_downtime_seconds": 0,
                        },
                    },
                ],
            },
            "crm-contracts",
        ),
        _event(
            "C-3003/signed",
            "contract.signed",
            "2026-06-15T10:00:00+02:00",
            {
                "contract_id": "C-3003",
                "customer_id": "CUST-GLX",
                "customer_name": "Globex GmbH",
                "currency": "EUR",
                "timezone": "Europe/Berlin",
                "remedy": "credit",
                "effective_from": "2026-07-01",
                "effective_to": None,
                "services": [
                    {
                        "service_id": "managed-ops",
                        "monthly_fee": "8000.00",
                        "incident_response": {
                            "targets": {"P1": "PT15M", "P2": "PT1H", "P3": "PT4H", "P4": "PT8H"},
                            "business_hours": {"weekly": OFFICE_HOURS, "holidays": ["2026-10-03"]},
                            "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
                        },
                    }
                ],
            },
            "crm-contracts",
        ),
    ]
    outages = [
        # The API was down for 55 minutes: 99.87%, below 99.9%, cash back.
        *_outage("OUT-API-1007", "api", "2026-10-07T14:05:00Z", "2026-10-07T15:00:00Z"),
        # A 50% degradation of the CRM for three hours counts as 90 minutes.
        *_outage("OUT-CRM-1012", "crm", "2026-10-12T01:00:00Z", "2026-10-12T04:00:00Z", "50"),
        # The CRM database failed for two hours (the review will find it was longer).
        *_outage("OUT-CRM-1020", "crm", "2026-10-20T03:00:00Z", "2026-10-20T05:00:00Z"),
        # Down during announced maintenance (72 h notice): excluded from measurement.
        *_outage("OUT-CRM-1025", "crm", "2026-10-25T16:00:00Z", "2026-10-25T17:30:00Z"),
        # Down during maintenance announced only 12 h ahead: it counts.
        *_outage("OUT-API-1015", "api", "2026-10-15T06:00:00Z", "2026-10-15T06:20:00Z"),
        # Acme's portal (and only Acme's) was down for an hour: 99.87%, above 99.5%.
        *_outage(
            "OUT-PORTAL-1018",
            "portal",
            "2026-10-18T22:00:00Z",
            "2026-10-18T23:00:00Z",
            customers=["CUST-ACME"],
        ),
        # Northwind's bad deploy of their client: classified customer-caused, excluded.
        *_outage(
            "OUT-API-1022",
            "api",
            "2026-10-22T10:00:00Z",
            "2026-10-22T12:00:00Z",
            customers=["CUST-NW"],
        ),
        _event(
            "OUT-API-1022/classified",
            "outage.classified",
            "2026-10-23T09:00:00Z",
            {
                "outage_id": "OUT-API-1022",
                "cause": "customer_caused",
                "reason": "client SDK misconfigured by the customer (ticket 4411)",
            },
            "itsm",
        ),
        # A monitoring false alarm, retracted.
        *_outage("OUT-API-1028", "api", "2026-10-28T08:00:00Z", "2026-10-28T09:00:00Z"),
        _event(
            "OUT-API-1028/retracted",
            "outage.retracted",
            "2026-10-28T09:30:00Z",
            {"outage_id": "OUT-API-1028", "reason": "synthetic probe failure, service was up"},
            "itsm",
        ),
        _event(
            "MNT-CRM-1025",
            "maintenance.scheduled",
            "2026-10-22T16:00:00Z",
            {
                "maintenance_id": "MNT-CRM-1025",
                "service_id": "crm",
                "starts_at": "2026-10-25T15:00:00Z",
                "ends_at": "2026-10-25T18:00:00Z",
                "customer_ids": None,
            },
            "change-calendar",
        ),
        _event(
            "MNT-API-1015",
            "maintenance.scheduled",
            "2026-10-14T18:00:00Z",
            {
                "maintenance_id": "MNT-API-1015",
                "service_id": "api",
                "starts_at": "2026-10-15T06:00:00Z",
                "ends_at": "2026-10-15T07:00:00Z",
                "customer_ids": None,
            },
            "change-calendar",
        ),
    ]
    incidents = [
        # P1 raised Friday 17:50 Berlin, first answered Monday 08:20: 30 business minutes.
        _event(
            "INC-77/opened",
            "incident.opened",
            "2026-10-16T15:50:00Z",
            {
                "incident_id": "INC-77",
                "contract_id": "C-3003",
                "service_id": "managed-ops",
                "priority": "P1",
                "opened_at": "2026-10-16T15:50:00Z",
            },
            "itsm",
        ),
        _event(
            "INC-77/responded",
            "incident.responded",
            "2026-10-19T06:20:00Z",
            {"incident_id": "INC-77", "responded_at": "2026-10-19T06:20:00Z"},
            "itsm",
        ),
        # P2 answered within the hour.
        _event(
            "INC-78/opened",
            "incident.opened",
            "2026-10-21T09:00:00Z",
            {
                "incident_id": "INC-78",
                "contract_id": "C-3003",
                "service_id": "managed-ops",
                "priority": "P2",
                "opened_at": "2026-10-21T09:00:00Z",
            },
            "itsm",
        ),
        _event(
            "INC-78/responded",
            "incident.responded",
            "2026-10-21T09:25:00Z",
            {"incident_id": "INC-78", "responded_at": "2026-10-21T09:25:00Z"},
            "itsm",
        ),
        _event(
            "INC-79/opened",
            "incident.opened",
            "2026-10-27T12:00:00Z",
            {
                "incident_id": "INC-79",
                "contract_id": "C-3003",
                "service_id": "managed-ops",
                "priority": "P3",
                "opened_at": "2026-10-27T12:00:00Z",
            },
            "itsm",
        ),
        _event(
            "INC-79/responded",
            "incident.responded",
            "2026-10-27T13:10:00Z",
            {"incident_id": "INC-79", "responded_at": "2026-10-27T13:10:00Z"},
            "itsm",
        ),
    ]
    return contracts + outages + incidents


def late_correction() -> list[dict[str, Any]]:
    """The post-incident review: the CRM database outage lasted until 10:30, not 05:00."""
    return [
        _event(
            "OUT-CRM-1020/amended",
            "outage.amended",
            "2026-11-03T10:00:00Z",
            {
                "outage_id": "OUT-CRM-1020",
                "ended_at": "2026-10-20T10:30:00Z",
                "reason": "post-incident review PIR-212: replica lag hid the failure until 10:30",
            },
            "itsm",
        )
    ]


def write_jsonl(path: Path, events: list[dict[str, Any]], extra: Sequence[bytes] = ()) -> None:
    with path.open("wb") as handle:
        for event in events:
            handle.write(json.dumps(event).encode() + b"\n")
        for raw in extra:
            handle.write(raw + b"\n")


class DemoDirectory:
    """The demo's `--dir`: it writes there only over what it wrote there itself.

    A user's own files (a closed ledger named ledger.db, above all) must never be
    replaced by the demo's. Before writing anything else the demo writes `MARKER`,
    naming every path it is about to write; when it is done, the marker holds each
    file's SHA-256. A later run recognises its own output by that: a file the marker
    names with the same bytes (or, from a run that did not finish, with no digest yet)
    is the demo's; anything else is someone else's, and the demo refuses to run there
    unless told to (`--force`). Reading a SQLite store changes none of its bytes, so
    running the printed commands (all of them read) leaves the directory the demo's.
    Only the demo's fixed paths (`DEMO_PATHS`) are ever removed, never a path read from
    the marker, which anyone can edit.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, str | None] = {}

    def claim(self, *, force: bool) -> None:
        """Refuse a directory holding what the demo did not write, unless `force`."""
        if self.directory.exists() and not self.directory.is_dir():
            raise UsageError(
                f"demo: --dir {_printable(str(self.directory))} is not a directory: choose another"
            )
        foreign = self.foreign_entries()
        if foreign and not force:
            listed = ", ".join(_printable(name) for name in foreign[:3]) + (
                f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            )
            raise UsageError(
                f"demo: --dir {_printable(str(self.directory))} holds {listed}, which the demo "
                "did not write: "
                f"choose another --dir, or pass --force (it replaces {LEDGER_FILE}, "
                f"{MONTH_FILE}, {CORRECTION_FILE} and {BUNDLE_DIR}/ there, nothing else)"
            )

    def foreign_entries(self) -> list[str]:
        """The entries of the directory the demo did not write, as relative paths (a
        directory with a trailing slash, its contents not listed)."""
        if not self.directory.is_dir():
            return []
        written = self._written()
        foreign: list[str] = []
        if written is None:  # a marker the demo cannot read is not the demo's
            foreign.append(MARKER)
            written = {}

        def visit(folder: Path, prefix: str) -> None:
            for entry in sorted(folder.iterdir()):
                name = prefix + entry.name
                if not prefix and name in (MARKER, MARKER + ".tmp"):
                    continue
                if entry.is_symlink():
                    foreign.append(name)
                elif entry.is_dir():
                    if name + "/" in written:  # claimed whole by a run that did not finish
                        continue
                    if any(path.startswith(name + "/") for path in written):
                        visit(entry, name + "/")
                    else:
                        foreign.append(name + "/")
                elif not _is_demo_file(entry, written.get(name, _NOT_WRITTEN)):
                    foreign.append(name)

        visit(self.directory, "")
        return foreign

    def start(self, *, with_store: bool) -> None:
        """Name what this run writes (first), then remove the demo's earlier output.

        A directory that cannot be made or written (read-only, immutable, under /proc, a
        file in its path) is a `DemoDirectoryError` naming it and the system's reason;
        what this call created on the way (directories, the marker's temporary file) is
        removed again.
        """
        created = _missing_directories(self.directory)
        planned = [MONTH_FILE, CORRECTION_FILE, *LEDGER_COMPANIONS]
        if with_store:
            planned.append(LEDGER_FILE)
        # The bundle's files are not known before it is written: claim its directory.
        self.files = dict.fromkeys([*planned, f"{BUNDLE_DIR}/"])
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write_marker(self.files)
        except OSError as exc:
            with suppress(OSError):
                (self.directory / (MARKER + ".tmp")).unlink(missing_ok=True)
            for folder in reversed(created):  # the deepest first; only if still empty
                with suppress(OSError):
                    folder.rmdir()
            reason = exc.strerror or "it cannot be written"
            raise DemoDirectoryError(
                f"demo: cannot write into --dir {_printable(str(self.directory))}: "
                f"{reason[:1].lower() + reason[1:]}; choose a directory you can write to"
            ) from None
        for name in DEMO_PATHS:
            _remove(self.directory / name)

    def finish(self) -> None:
        """Record the digest of every file written, so later runs know them."""
        files: dict[str, str | None] = dict.fromkeys(LEDGER_COMPANIONS)
        for folder, _dirs, names in os.walk(self.directory):
            for name in names:
                path = Path(folder) / name
                relative = path.relative_to(self.directory).as_posix()
                ours = relative in self.files or relative.startswith(f"{BUNDLE_DIR}/")
                if ours and relative not in LEDGER_COMPANIONS:
                    files[relative] = _sha256(path)
        self._write_marker(files)

    def _written(self) -> dict[str, str | None] | None:
        """The marker's files: none when there is no marker, None when there is one the
        demo cannot read (too large, not strict JSON, not the demo's shape). Anyone may
        have written it, so it is parsed as untrusted bytes are (`parse_strict_json`)."""
        path = self.directory / MARKER
        try:
            with path.open("rb") as handle:
                raw = handle.read(_MARKER_MAX_BYTES + 1)
        except FileNotFoundError:
            return {}
        except OSError:
            return None
        if len(raw) > _MARKER_MAX_BYTES:
            return None
        try:
            document = parse_strict_json(raw)
        except RejectedInputError:
            return None
        files = document.get("files") if isinstance(document, dict) else None
        if not isinstance(files, dict):
            return None
        return {
            str(name): value if isinstance(value, str) else None for name, value in files.items()
        }

    def _write_marker(self, files: dict[str, str | None]) -> None:
        document = {
            "written_by": "sla-ledger demo",
            "about": "the files the demo wrote here, with their SHA-256 (null: being written); "
            "the demo replaces only these",
            "files": dict(sorted(files.items())),
        }
        temporary = self.directory / (MARKER + ".tmp")
        temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        temporary.replace(self.directory / MARKER)


_NOT_WRITTEN = "not written by the demo"
_MARKER_MAX_BYTES = 16 * 1024 * 1024  # far more than the demo writes (a few KiB)


class DemoDirectoryError(LedgerError):
    """The demo's --dir cannot be made or written."""


def _missing_directories(directory: Path) -> list[Path]:
    """The directories `mkdir(parents=True)` would create for `directory`, outermost first."""
    missing: list[Path] = []
    path = directory.absolute()
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing[::-1]


def _is_demo_file(path: Path, digest: str | None) -> bool:
    """Whether the marker's entry for `path` (a digest, None while being written, or
    `_NOT_WRITTEN`) makes it the demo's."""
    if digest is None:
        return True
    return digest != _NOT_WRITTEN and _sha256(path) == digest


def _printable(name: str) -> str:
    """A file name fit for a one-line message: control and bidirectional characters
    (a newline, U+202E) escaped, so that a name can neither break the line nor reverse it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def sqlite_url(path: str) -> str:
    """The store URL of a SQLite path, relative or absolute (`sqlite:///` then the path).
    `parse_store_url` percent-decodes the path, so a literal % is written as %25."""
    return "sqlite:///" + path.replace("%", "%25")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def refuse_a_store_in_use(store_url: str) -> None:
    """`demo --store` takes only a new or empty store: the demo's fictitious month and
    its credit entries are permanent, and would be mixed into a user's ledger."""
    dialect, params = parse_store_url(store_url)
    if dialect == "sqlite":
        path = Path(params["path"])
        if path.exists() and not (path.is_file() and path.stat().st_size == 0):
            raise UsageError(
                f"demo: --store: {_printable(str(path))} already exists; the demo writes only "
                "into a new or empty store (its entries are permanent): give a new file, or "
                "leave --store out to use the store in --dir"
            )
        return
    with LedgerStore(store_url) as store:
        in_use = store.chain_head().position > 0 or bool(store.rejections())
    if in_use:
        raise UsageError(
            "demo: --store already holds records; the demo writes only into a new or empty "
            "store (its entries are permanent): give an empty database, or leave --store out "
            "to use the store in --dir"
        )


def run_demo(
    directory: Path,
    store_url: str | None,
    bootstrap_servers: str | None = None,
    *,
    force: bool = False,
) -> int:
    """The month goes through Kafka: published, consumed exactly once, closed, corrected.

    Without `bootstrap_servers` an embedded broker is started for the run. The demo
    writes into `directory` only over what it wrote there itself (see `DemoDirectory`),
    and into `store_url` only if that store is new or empty.
    """
    demo_dir = DemoDirectory(directory)
    demo_dir.claim(force=force)
    if store_url is not None:
        refuse_a_store_in_use(store_url)
    demo_dir.start(with_store=store_url is None)
    if store_url is None:
        store_url = sqlite_url(str((directory / LEDGER_FILE).resolve()))
        shown_store = sqlite_url(shown_path(directory / LEDGER_FILE))
        password_hidden = False
    else:
        # The printed commands land in terminals, logs and scrollback: no password.
        shown_store = redact(store_url)
        password_hidden = shown_store != store_url
    events = month_events()
    noise = [
        json.dumps(events[3]).encode(),  # the monitoring feed re-sent an event
        b'{"event_id": "0b7e6f0e-9a53-4e2a-9c0d-2f3f1c1e8a10", "type": "outage.started",'
        b' "schema_version": 1, "occurred_at": "2026-10-30T10:15:00Z", "source": "probe",'
        b' "payload": {"outage_id": "OUT-X", "service_id": "api",'
        b' "started_at": "2026-10-30T10:15:00Z", "impact_percent": "120",'
        b' "customer_ids": null}}',
        b"\xff\xfe not even text",
    ]
    month_file = directory / MONTH_FILE
    write_jsonl(month_file, events)
    correction_file = directory / CORRECTION_FILE
    write_jsonl(correction_file, late_correction())
    bundle = directory / BUNDLE_DIR

    period = Period.parse(DEMO_PERIOD)
    broker = nullcontext(bootstrap_servers) if bootstrap_servers else embedded_broker()
    with broker as servers:
        where = servers if bootstrap_servers else f"{servers} (embedded broker)"
        settings, renamed = demo_settings(servers, uuid.uuid4().hex[:12])
        store = LedgerStore(store_url)
        try:
            print(f"== 1. Publish the month of {DEMO_PERIOD} to Kafka at {where}")
            print(
                f"   on topics of this run only: {', '.join(settings.topics)}; credit "
                f"entries to {settings.credits_topic}, rejected messages to "
                f"{settings.dead_letter_topic}; consumer group {settings.group_id}"
            )
            print("   " + publish_file(month_file, settings, topic_override=renamed).line())
            send_raw(settings, renamed[TOPIC_OF_FAMILY["outage"]], b"OUT-X", noise)
            print(
                f"   and {len(noise)} messages from a misbehaving producer "
                "(a re-sent event, an impossible impact, bytes that are not text)"
            )
            print("\n== 2. Ingest from Kafka (exactly once: positions stored with the events)")
            first = _consume(store, settings)
            print("   " + first.line())
            print(f"\n== 3. Close {DEMO_PERIOD}: credit entries are issued")
            outcome = close_period(store, period, datetime.now(UTC))
            print(
                f"   {len(outcome.entries)} entries issued"
                if outcome.newly_closed
                else "   (already closed)"
            )
            print("\n== 4. The post-incident review's correction arrives after the close")
            print("   " + publish_file(correction_file, settings, topic_override=renamed).line())
            counts = _consume(store, settings)
            print("   " + counts.line())
            print(
                f"   outboxes: {first.credits_published + counts.credits_published} credit "
                f"entries published to {settings.credits_topic}, "
                f"{first.dead_letters_published + counts.dead_letters_published} rejected "
                f"messages to {settings.dead_letter_topic}"
            )
            _print_results(store, period)
            closed_at = outcome.closed_at
            checkpoint = _print_audit(store, period, closed_at, bundle)
        finally:
            store.close()
    demo_dir.finish()
    if password_hidden:
        print("\nThe password of --store is not printed: put it in place of *** to run these.")
    print("\nThe store stays behind; ask it yourself from this directory, e.g.:")
    for command in follow_up_commands(shown_store, bundle, closed_at, checkpoint):
        print("   " + command_line(*command))
    return 0


def demo_settings(servers: str, run_id: str) -> tuple[KafkaSettings, dict[str, str]]:
    """The demo's Kafka settings, on topics and a group of this run only; and the
    production topic each event family goes to -> this run's topic for it.

    Never the production names (`sla.contracts`..., `sla.credits`, `sla.rejected`,
    group `sla-ledger`): on a shared broker a worker would ingest the demo's fictitious
    contracts and finance would book its credit entries; and the demo would read what
    earlier runs and others left there, and no longer tell its story.
    """
    prefix = f"sla-demo-{run_id}"
    renamed = {topic: f"{prefix}.{topic.removeprefix('sla.')}" for topic in INBOUND_TOPICS}
    settings = KafkaSettings(
        servers,
        topics=tuple(renamed[topic] for topic in INBOUND_TOPICS),
        group_id=prefix,
        dead_letter_topic=f"{prefix}.{DEAD_LETTER_TOPIC.removeprefix('sla.')}",
        credits_topic=f"{prefix}.{CREDITS_TOPIC.removeprefix('sla.')}",
    )
    return settings, renamed


def follow_up_commands(
    store_url: str, bundle: Path, closed_at: datetime, checkpoint: str | None
) -> list[list[str]]:
    """What a user asks next, as arguments after the program: read commands only, so
    that running them leaves the demo's directory as the demo wrote it."""
    store = ["--store", store_url]
    period = ["--period", DEMO_PERIOD]
    anchor = ["--checkpoint", checkpoint] if checkpoint else []
    return [
        ["report", *store, *period],
        ["credits", *store, *period, "--format", "json"],
        ["rejections", *store],
        ["incidents", *store, *period],
        ["explain", *store, "--contract", "C-2002", "--service", "crm", *period],
        ["diff", *store, *period, "--from", format_utc(closed_at)],
        ["audit", "verify", *store, *anchor],
        ["audit", "check", shown_path(bundle), *anchor],
    ]


def _consume(store: LedgerStore, settings: KafkaSettings) -> IngestCounts:
    return KafkaIngest(store, settings, idle_timeout_seconds=1.5, log=lambda _line: None).run()


def _print_audit(
    store: LedgerStore, period: Period, closed_at: datetime, bundle: Path
) -> str | None:
    """What a dispute handler and an auditor would ask next; returns the close's checkpoint."""
    checkpoint = close_checkpoint(store, period.label)
    anchors = dict([parse_checkpoint(checkpoint)]) if checkpoint else {}
    print("\n== 5. Dispute and audit")
    with store.reader() as view:
        # One snapshot: the bundle holds exactly the history that was verified.
        verified = verify(view, anchors)
        print(
            f"   hash chain: {verified.records} records verified"
            + (f", the close's checkpoint {checkpoint} among them" if checkpoint else "")
            + ("" if verified.ok else f"; BROKEN: {verified.finding}")
        )
        if verified.ok:
            manifest = export(view, period, bundle, verified.head)
            print(
                f"   audit bundle of {period.label} written to {shown_path(bundle)}: "
                f"{manifest['counts']['events']} events, {manifest['counts']['entries']} "
                "entries; an auditor checks it offline with `audit check`"
            )
    changes = period_diff(store, period, closed_at, datetime.now(UTC))
    for row in changes.rows:
        amount = row.fields.get("credit_amount")
        causes = ", ".join(sorted({r.event.type for r in row.events})) or "time passing"
        if amount is not None:
            print(
                f"   {row.key.contract_id}/{row.key.service_id}: credit {amount[0]} at the "
                f"close, {amount[1]} now, because of: {causes}"
            )
    return checkpoint


def _print_results(store: LedgerStore, period: Period) -> None:
    report = period_report(store, period, datetime.now(UTC), recorded_filter=True)
    rows = [r.as_dict() for r in report.rows]
    print(f"\n== Report {period.label}")
    print(render.to_table(rows, render.REPORT_COLUMNS, render.REPORT_NUMERIC))
    entries = [e.as_dict() for e in store.entries(period=period.label)]
    print(f"\n== Credit entries {period.label} (issue, reversal, re-issue)")
    print(render.to_table(entries, render.ENTRY_COLUMNS, render.ENTRY_NUMERIC))
    rejected = store.rejections()
    print(f"\n== Rejected inputs ({len(rejected)}), kept for an operator to fix and resubmit")
    for r in rejected:
        origin = r.origin
        place = (
            f"{origin.get('topic')}[{origin.get('partition')}]@{origin.get('offset')}"
            if "topic" in origin
            else f"{origin.get('file')}:{origin.get('line')}"
        )
        print(f"   {place}: {r.reason}")
