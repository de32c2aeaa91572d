"""The usage error every consumer raises for bad options: the CLI, and the demo it runs.

Here, beside the shared plumbing, so that the demo can raise it without importing the
CLI (which runs the demo). A `LedgerError`, so that anything reporting those in one line
reports this one too; the command line catches it first and exits as for bad usage.
"""

from __future__ import annotations

from ledger.errors import LedgerError


class UsageError(LedgerError):
    """Bad options: reported in one line with a pointer to --help."""
