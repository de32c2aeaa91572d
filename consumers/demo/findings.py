"""What the demo shows once the month is in: the report, the credit entries, the
rejected inputs, a verified hash chain with an audit bundle, what changed since the
close, and the commands a user runs next."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from consumers import render
from consumers.demo.month import DEMO_PERIOD
from consumers.shell_commands import shown_path
from ledger.chain import parse_checkpoint
from ledger.events import Origin
from ledger.periods import Period
from ledger.timeformat import format_utc
from projections.attainment import period_report
from projections.audit.bundle import export
from projections.audit.verify import verify
from projections.credit_entries import close_checkpoint
from projections.history_diff import period_diff
from projections.store import LedgerStore


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


def print_audit(
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


def print_results(store: LedgerStore, period: Period) -> None:
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
        print(f"   {Origin.from_dict(r.origin).describe()}: {r.reason}")
