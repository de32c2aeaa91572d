"""`sla-ledger explain`: the full derivation of one row (issue #5, point 3).

Skeleton: the parser is wired into `consumers/cli.py`; the derivation is to be built.
"""

from __future__ import annotations

import argparse


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    explain = sub.add_parser(
        "explain",
        parents=[common],
        help="the full derivation of one row, every fact with its event ids",
    )
    explain.add_argument("--contract", required=True, metavar="ID")
    explain.add_argument("--service", required=True, metavar="ID")
    explain.add_argument("--period", required=True, metavar="YYYY-MM")
    explain.add_argument("--as-of", metavar="T")
    explain.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("explain is not built yet")
