"""The domain's error hierarchy: one root, each subclass says what was expected and found."""


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class InvalidInputError(LedgerError):
    """A value does not follow the inbound contract (spec: events.md)."""


class NotFoundError(LedgerError):
    """What was asked about does not exist (as of the moment asked about): a row, an
    entry, a contract."""


class PeriodNotEndedError(LedgerError):
    """`close` was asked for a period whose window has not ended for every contract."""


class NothingToCloseError(LedgerError):
    """`close` was asked for a period in which no contract is in force: no row to close."""


class StoreError(LedgerError):
    """The event store cannot do what was asked (unreachable, bad URL, integrity)."""


class StoreRefusedError(StoreError):
    """The store is reachable but cannot be used as asked (no store there, a foreign file,
    a read-only copy, a role that may not write, a store of an earlier version): waiting
    and trying again cannot help, so a worker that retries an unreachable store gives up
    on this one at once."""


class ChainMovedError(LedgerError):
    """Records were added to the chain since the figures being written were computed:
    the caller computes them again (a close, a reconciliation)."""
