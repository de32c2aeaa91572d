"""`sla-ledger audit ...`: what a compliance auditor runs.

- `audit verify [--checkpoint POS:SHA ...]` recomputes the hash chain and names the
  first position that does not match (exit 1), or prints the head (exit 0).
- `audit rebuild [--scratch URL]` replays the event log into an empty store and
  compares chain, event index, spans and entries with the live store (exit 1 on any difference).
- `audit export --period P --out DIR` writes a period's audit bundle (refused when the
  chain does not verify); `audit check DIR` verifies one offline (exit 1 on a failure).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from consumers import render
from consumers.cli.common import open_store, parse_period
from consumers.cli.options import format_option, period_option
from consumers.errors import UsageError
from ledger.chain import parse_checkpoint
from ledger.wording import counted


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    audit = sub.add_parser(
        "audit",
        help="verify, rebuild, export and check the ledger's history",
        description="Verify, rebuild, export and check the ledger's history, for an "
        "auditor; none of them changes the store. `sla-ledger audit ACTION --help` tells "
        "more about each.",
    )
    actions = audit.add_subparsers(
        dest="action",
        required=True,
        parser_class=type(audit),
        title="actions",
        metavar="ACTION",
    )

    verify = actions.add_parser(
        "verify",
        parents=[common],
        help="recompute the hash chain; name the first tampered position",
        description="Recompute the hash chain and name the first position that does not "
        "match (exit 1); changes nothing (it only reads the store).",
    )
    _checkpoint_option(verify, "the database")
    format_option(verify, ["text", "json"], "text")

    rebuild = actions.add_parser(
        "rebuild",
        parents=[common],
        help="rebuild every projection from the event log into a scratch store and compare",
        description="Replay the event log into an empty scratch store and compare chain, "
        "event index, spans and entries with the live store (exit 1 on any difference); "
        "changes only the scratch store, never the live one.",
    )
    rebuild.add_argument(
        "--scratch",
        metavar="URL",
        help="an empty store to rebuild into, in the forms of --store (default: a "
        "temporary SQLite file, removed after)",
    )
    format_option(rebuild, ["text", "json"], "text")

    export = actions.add_parser(
        "export",
        parents=[common],
        help="write a self-contained audit bundle of one period into a directory",
        description="Verify the chain, then write a self-contained audit bundle of one "
        "period into a new or empty directory; changes nothing in the store (it writes "
        "only DIR).",
    )
    period_option(export, required=True, meaning="the period to bundle")
    export.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="a new or empty directory to write the bundle into (created if missing)",
    )

    check = actions.add_parser(
        "check",
        help="verify an audit bundle offline, without the store",
        description="Verify an audit bundle offline, without the store (exit 1 on a "
        "failure); changes nothing.",
    )
    check.add_argument(
        "directory",
        type=Path,
        metavar="DIR",
        help="the bundle's directory, as `audit export` wrote it",
    )
    _checkpoint_option(check, "the bundle")
    format_option(check, ["text", "json"], "text")


def _checkpoint_option(parser: argparse.ArgumentParser, outside: str) -> None:
    parser.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="POS:SHA256",
        help=f"a chain checkpoint kept outside {outside} (e.g. the one `close` printed); "
        "the chain must pass through it. May be repeated.",
    )


def run(args: argparse.Namespace) -> int:
    try:
        anchors = dict(parse_checkpoint(text) for text in getattr(args, "checkpoint", []))
    except ValueError as exc:
        raise UsageError(f"--checkpoint: {exc}") from None
    if args.action == "verify":
        return _verify(open_store(args), anchors, args.format)
    if args.action == "rebuild":
        return _rebuild(args)
    if args.action == "export":
        return _export(args)
    if args.action == "check":
        return _check(args, anchors)
    raise UsageError(f"audit: unknown action {args.action}")


def _verify(store: Any, anchors: dict[int, str], output: str) -> int:
    from projections.audit.verify import damaged, verify, verify_json

    with store, store.reader() as view:
        result = verify(view, anchors)
    if output == "json":
        print(verify_json(result))
    elif result.finding is None and result.damage is not None:
        print(render.for_humans(damaged(result.damage)))
    elif result.finding is None:
        print(
            render.for_humans(
                f"chain verified: {counted(result.records, 'record')}, "
                f"{counted(result.closes, 'close checkpoint')} matched"
                + (
                    f"; {counted(len(anchors), 'checkpoint')} given "
                    f"{'matches' if len(anchors) == 1 else 'match'}"
                    if anchors
                    else ""
                )
                + f"; head {result.head.checkpoint}"
            )
        )
    elif result.finding_in_basis:
        print(
            render.for_humans(
                f"entry basis mismatch at position {result.finding.position}: "
                f"{result.finding.problem} (the chain of {counted(result.records, 'record')} "
                "verified)"
            )
        )
    else:
        print(
            render.for_humans(
                f"chain broken at position {result.finding.position}: {result.finding.problem} "
                f"({counted(result.records, 'record')} before it verified)"
            )
        )
    if result.finding is None and result.damage is not None:
        return _outcome("audit verify failed: the SQLite database is damaged")
    return _outcome(
        None
        if result.finding is None
        else f"audit verify failed at position {result.finding.position}"
    )


def _rebuild(args: argparse.Namespace) -> int:
    from ledger.errors import StoreError
    from projections.audit.rebuild import rebuild, rebuild_json
    from projections.store import LedgerStore, sqlite_url

    with tempfile.TemporaryDirectory(prefix="sla-ledger-rebuild-") as scratch_dir:
        scratch_url = args.scratch or sqlite_url(str(Path(scratch_dir) / "rebuild.db"))
        # The default scratch is this command's own temporary file, deleted at its end;
        # it reads the replayed events' contents from the live file, not a copy of them.
        throwaway = args.scratch is None
        with (
            open_store(args) as live,
            LedgerStore(
                scratch_url,
                access="create",
                throwaway=throwaway,
                contents_of=live if throwaway else None,
            ) as scratch,
        ):
            if not scratch.is_empty():
                raise StoreError(f"--scratch {scratch_url} is not empty: give an empty store")
            result = rebuild(live, scratch)
    if args.format == "json":
        print(rebuild_json(result))
    else:
        assert result.live_head is not None
        assert result.rebuilt_head is not None
        compared = [
            counted(result.events_compared, "event index row"),
            counted(result.spans_compared, "span"),
            counted(result.entries_compared, "entry", "entries"),
        ]
        if result.alerts_compared:  # a ledger without alerts reads as it always did
            compared.append(counted(result.alerts_compared, "alert"))
        print(
            render.for_humans(
                f"rebuilt {counted(result.records, 'record')} from the event log: chain head "
                f"{'reproduced' if result.live_head == result.rebuilt_head else 'DIFFERENT'} "
                f"({result.rebuilt_head.checkpoint}); "
                f"{_listed(compared)} compared; "
                f"{counted(len(result.differences) + result.more_differences, 'difference')}"
            )
        )
        for line in result.differences:
            print(render.for_humans(f"  {line}"))
        if result.more_differences:
            print(render.for_humans(f"  ... and {result.more_differences} more"))
    return _outcome(
        None
        if result.ok
        else "audit rebuild found "
        f"{counted(len(result.differences) + result.more_differences, 'difference')}"
    )


def _export(args: argparse.Namespace) -> int:
    from projections.audit.bundle import export_verified

    period = parse_period(args.period)
    with open_store(args) as store, store.reader() as view:
        manifest = export_verified(view, period, args.out).manifest
    counts = manifest["counts"]
    head = manifest["head"]
    print(
        render.for_humans(
            f"wrote the audit bundle of {manifest['period']} as of {manifest['as_of']} to "
            f"{args.out}: {counted(counts['events'], 'event')}, "
            f"{counted(counts['entries'], 'entry', 'entries')}, {counted(counts['rows'], 'row')}, "
            f"chain 1-{counts['chain']} "
            f"(head {head['position']}:{head['chain_sha256']}); "
            f"check it with `sla-ledger audit check {args.out}`"
        )
    )
    return 0


def _check(args: argparse.Namespace, anchors: dict[int, str]) -> int:
    from projections.audit.bundle import check, check_json

    result = check(args.directory, anchors)
    if args.format == "json":
        print(check_json(result))
    else:
        for name, passed, detail in result.checks:
            print(render.for_humans(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}"))
        for note in result.notes:
            print(render.for_humans(f"note {note}"))
        print("bundle verified" if result.ok else "bundle FAILED verification")
    failed = [name for name, passed, _ in result.checks if not passed]
    return _outcome(f"audit check failed: {', '.join(failed)}" if failed else None)


def _outcome(failure: str | None) -> int:
    """An audit that found a difference says so in one line on stderr and exits 1."""
    if failure is None:
        return 0
    print(f"sla-ledger: {render.for_humans(failure)}", file=sys.stderr)
    return 1


def _listed(parts: list[str]) -> str:
    """`a, b and c`."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
