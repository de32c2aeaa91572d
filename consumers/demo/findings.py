"""What the demo shows once the month is in: the report, the credit entries, the
rejected inputs, a verified hash chain with an audit bundle, what changed since the
close, and the commands a user runs next."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from consumers import render
from consumers.demo.month import DEMO_PERIOD
from consumers.shell_commands import shown_path
from ledger.chain import parse_checkpoint
from ledger.events import Origin
from ledger.periods import Period
from ledger.timeformat import format_utc
from projections.audit.bundle import UnverifiedChainError, VerifiedExport, export_verified
from projections.credit_entries import close_checkpoint
from projections.queries.alerts import AlertFilter, alerts
from projections.queries.claims import ClaimFilter, claims
from projections.queries.credits import credits
from projections.queries.diff import Moment, diff
from projections.queries.exposure import exposure
from projections.queries.incidents import incidents
from projections.queries.rejections import rejections
from projections.queries.report import Document, report
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
        ["alerts", *store, *period],
        ["claims", *store, *period],
        ["report", *store, "--period", DEMO_PERIOD[:4]],
        ["explain", *store, "--contract", "C-2002", "--service", "crm", *period],
        ["explain", *store, "--contract", "C-3003", "--service", "managed-ops", *period],
        ["diff", *store, *period, "--from", format_utc(closed_at)],
        ["audit", "verify", *store, *anchor],
        ["audit", "check", shown_path(bundle), *anchor],
    ]


DESK_ADDRESS = "127.0.0.1:8080"
DESK_KEYS = "sla-ledger-keys.json"


def desk_commands(store_url: str) -> list[list[str]]:
    """How to open the demo's store in the web view: a key for a dispute handler (who
    also audits, in the demo), kept in a keys file outside the demo's directory, then
    `serve` (it runs until Ctrl-C)."""
    roles = ["--role", "disputes", "--role", "compliance"]
    return [
        ["keys", "new", "--name", "desk", *roles, "--add-to", DESK_KEYS],
        ["serve", "--store", store_url, "--keys", DESK_KEYS, "--listen", DESK_ADDRESS],
    ]


def print_audit(
    store: LedgerStore, period: Period, closed_at: datetime, bundle: Path
) -> str | None:
    """What a dispute handler and an auditor would ask next; returns the close's checkpoint."""
    checkpoint = close_checkpoint(store, period.label)
    anchors = dict([parse_checkpoint(checkpoint)]) if checkpoint else {}
    print("\n== 6. Dispute and audit")
    exported: VerifiedExport | None
    with store.reader() as view:
        try:
            exported = export_verified(view, period, bundle, anchors)
            verified = exported.verified
        except UnverifiedChainError as refused:
            exported, verified = None, refused.verified
    print(
        f"   hash chain: {verified.records} records verified"
        + (f", the close's checkpoint {checkpoint} among them" if checkpoint else "")
        + ("" if exported is not None else f"; BROKEN: {verified.finding or verified.damage}")
    )
    if exported is not None:
        counts = exported.manifest["counts"]
        print(
            f"   audit bundle of {period.label} written to {shown_path(bundle)}: "
            f"{counts['events']} events, {counts['entries']} "
            "entries; an auditor checks it offline with `audit check`"
        )
    changes = diff(store, period, Moment(closed_at, "the close"), Moment(None, "now"), None)
    for row in changes.changes.rows:
        # What finance books is the payable amount (sla-math §10): a claim changes it
        # with no change to the credit the figures earn.
        amount = row.fields.get("payable_amount") or row.fields.get("credit_amount")
        causes = ", ".join(sorted({r.event.type for r in row.events})) or "time passing"
        if amount is not None:
            print(
                f"   {row.key.contract_id}/{row.key.service_id}: payable {amount[0]} at the "
                f"close, {amount[1]} now, because of: {causes}"
            )
    return checkpoint


def print_early_warning(store: LedgerStore, period: Period) -> None:
    """Part-way through the month, before it closes: where each row is heading and
    the alerts raised so far (sla-math §8)."""
    answer = exposure(store, period, None, None)
    print(f"\n== Early warning, before {period.label} closes: exposure and alerts so far")
    print(
        "   The demo replays a past month, so the clock is already past its end: each\n"
        "   projection is the month as recorded so far, and an incident not yet answered\n"
        "   is already late. In a running month the same figures say what can still be\n"
        "   saved: the downtime left before the next tier, and the money at risk."
    )
    print(render.exposure_tables(answer.rows))
    raised = alerts(store, AlertFilter(period=period), None)
    print("\n== Alerts raised so far, each once, in the order recorded")
    print(render.alerts_table(raised.documents()))


def print_claims(store: LedgerStore, period: Period) -> None:
    """The claims of the month, after the close (sla-math §10): C-1001 pays only if
    claimed within 20 days, C-3003 within 14."""
    print(
        "   C-1001/api and C-3003/managed-ops pay a credit only when claimed in time (20\n"
        "   and 14 days after the month). Their close issued nothing; Northwind's claim,\n"
        "   in time, issues its credit now; Globex's came after its deadline: expired, and\n"
        "   nothing is paid."
    )
    listed = claims(store, ClaimFilter(period=period.label), None)
    print("   " + render.claims_table(listed.claims).replace("\n", "\n   "))


def print_results(store: LedgerStore, period: Period) -> None:
    """The report, the credit entries and the rejections now, as the commands answer."""
    with store.reader() as view:  # one moment for the three answers
        answer = report(view, period, None, None, render_part=_documents)
        entries = credits(view, period, None, None).documents()
        rejected = rejections(view, with_resubmitted=False).stored
    rows = [row for part in answer.parts for row in part]
    print(f"\n== Report {period.label}")
    print(render.to_table(rows, render.REPORT_COLUMNS, render.REPORT_NUMERIC))
    print(f"\n== Credit entries {period.label} (issue, reversal, re-issue)")
    print(render.to_table(entries, render.ENTRY_COLUMNS, render.ENTRY_NUMERIC))
    print(f"\n== Rejected inputs ({len(rejected)}), kept for an operator to fix and resubmit")
    for r in rejected:
        print(f"   {Origin.from_dict(r.origin).describe()}: {r.reason}")


def print_beyond_the_month(store: LedgerStore, period: Period) -> None:
    """The terms the month alone does not show: a service measured over the year
    (sla-math §9) and incidents with resolution targets and pauses (§11)."""
    year = period.year_period()
    heading = exposure(store, year, None, None)
    with store.reader() as view:
        listed = incidents(view, period, unplaced_only=False)
    print(f"\n== {year.label}, measured over the year (not closed: provisional)")
    print(
        "   C-4004/hosting promises 99.9% a year, about 8 h 46 min of downtime: its 6-hour\n"
        "   outage in October uses two thirds of that budget but earns no credit. Measured\n"
        "   monthly, October alone would be under 99.9%. Its monthly rows show no\n"
        "   availability figures: they count here, never twice."
    )
    print(render.exposure_tables(heading.rows))
    print(f"\n== Incidents of {period.label}: first response and resolution")
    print(
        "   INC-78 (P2) must be resolved within 8 business hours. It took 13, but for 6 of\n"
        "   them the provider waited on the customer's logs (paused): 7 count, so it is met."
    )
    print(render.to_table([p.as_dict() for p in listed.placements], render.INCIDENT_COLUMNS))


def _documents(documents: list[Document]) -> list[Document]:
    """A report part's rows as they are, for a table of the whole report."""
    return documents
