"""`sla-ledger demo`: a realistic month, end to end through Kafka, in a directory of
its own."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from consumers.cli.options import STORE_FORMS


def add_parser(sub: Any) -> None:
    demo = sub.add_parser(
        "demo",
        help="a realistic month, end to end through Kafka, in a directory of its own",
        description="Run a realistic month end to end through Kafka, changing only its "
        "directory D: its events, its store D/ledger.db (unless --store), audit-bundle/ and "
        ".sla-ledger-demo.json, the list of what it wrote there. It runs again over its own "
        "output, but refuses a directory that holds anything else unless --force.",
    )
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("sla-ledger-demo"),
        metavar="D",
        help="where the demo writes its events, its store (D/ledger.db) and the audit "
        "bundle (default ./%(default)s)",
    )
    demo.add_argument(
        "--store",
        metavar="URL",
        help="put the demo's store here instead of D/ledger.db: a new or empty store only, "
        f"since the demo's entries are permanent; {STORE_FORMS}",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="run even if D holds files the demo did not write: the demo's own paths there "
        "(ledger.db, the event files, audit-bundle/) are replaced, the rest left alone",
    )
    demo.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT",
        help="use this Kafka broker (default: start an embedded one for the run); on any "
        "broker the demo publishes and consumes only topics of its own run, "
        "sla-demo-<run id>.contracts/.outages/.incidents/.credits/.rejected with consumer "
        "group sla-demo-<run id>, never the production topics sla.* nor group sla-ledger",
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from consumers.demo.run import run_demo

    return run_demo(args.dir, args.store, args.bootstrap_servers, force=args.force)
