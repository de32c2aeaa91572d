"""Waiting out an unavailable store or broker: retry with backoff, within a budget, and
stop at once when asked to."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from consumers.interrupts import Interrupted, StopRequest
from ledger.errors import StoreRefusedError
from projections.store.failures import first_line


def with_backoff(
    action: Callable[[], Any],
    what: str,
    budget_seconds: float,
    retry_on: tuple[type[BaseException], ...],
    say: Callable[[str], None],
    stop: StopRequest | None = None,
) -> Any:
    """Run `action`, retrying with exponential backoff while `retry_on` is raised.

    A store that answered but refuses (`StoreRefusedError`: no store, a foreign or
    read-only file, a role that may not write) is not retried: only time could help,
    and time does not make it a store.

    A stop requested meanwhile (SIGTERM/SIGINT) ends the waiting at once with
    `Interrupted`: what could not be written is not recorded, and is read again on restart.
    """
    deadline = time.monotonic() + budget_seconds
    delay = 0.25
    while True:
        try:
            return action()
        except retry_on as exc:
            if isinstance(exc, StoreRefusedError) or time.monotonic() + delay > deadline:
                raise
            # The whole first line: cut at a fixed width, the reason lost its advice.
            reason = first_line(exc)
            say(f"{what} unavailable ({reason}); retrying in {delay:.1f}s")
            waited_until = time.monotonic() + delay
            while time.monotonic() < waited_until:
                if stop is not None and stop.signum is not None:
                    raise Interrupted(
                        stop.signum,
                        f"stopped while the {what} was unavailable ({reason}); nothing after "
                        "the last recorded position was recorded: a restart reads it again",
                    ) from None
                time.sleep(min(0.1, max(waited_until - time.monotonic(), 0.0)))
            delay = min(delay * 2, 10.0)
