"""The moment a question is about: the as-of rule.

"Now" is the later of the wall clock and the ledger's last record time: a writer whose
clock ran ahead of this one recorded at a time the clock has not reached yet, and a
question about now must not hide what it recorded. A moment after now is refused:
about the future the ledger would answer again, differently, as records arrive, so an
answer "as of" it would not be one the ledger can give again.

Every answer as of a moment names the chain position it was computed at
(`position_at`): what the ledger knew then is exactly the chain up to that position, so
a reader can tell two answers of one moment apart from two of different knowledge, and
check the answer against the chain.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ledger.errors import LedgerError
from ledger.periods import from_us, to_us
from ledger.timeformat import format_utc, parse_date, parse_rfc3339
from projections.store import StoreReads

# What `parse_moment` accepts, for help texts and messages.
INSTANT_FORMS = (
    "a date YYYY-MM-DD (meaning its 00:00 UTC) or an RFC 3339 instant such as 2026-11-05T09:30:00Z"
)
DATE_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class MomentRefusedError(LedgerError):
    """The moment asked about cannot be answered: the asker's to change, not the store's
    (the command line exits as for bad usage)."""


class FutureMomentError(MomentRefusedError):
    """A moment after now was asked about."""


class MomentsReversedError(MomentRefusedError):
    """Two moments to compare were given the later first."""


def parse_moment(text: str) -> datetime:
    """An RFC 3339 instant, or a date meaning its midnight UTC (`InvalidInputError` if
    neither; for a date its message echoes the date as typed)."""
    if DATE_FORM.fullmatch(text):
        return datetime.combine(parse_date(text), datetime.min.time(), UTC)
    return parse_rfc3339(text)


def now(store: StoreReads) -> datetime:
    """The later of the wall clock and the store's last record time."""
    return max(datetime.now(UTC), from_us(store.chain_head().recorded_us))


def moment(
    store: StoreReads, asked: datetime | None, *, name: str = "--as-of", typed: str | None = None
) -> datetime:
    """The moment a question is about: `asked`, or now if none was given.

    `name` is what the asker called the moment (an option, a parameter) and `typed` how
    they wrote it, for the refusal of a moment after now.
    """
    current = now(store)
    if asked is None:
        return current
    if asked > current:
        raise FutureMomentError(
            f"{name} {typed or format_utc(asked)} is in the future (now is "
            f"{format_utc(current)}): ask about a moment that has passed"
        )
    return asked


def ordered(earlier: datetime, later: datetime, *, names: tuple[str, str]) -> None:
    """Refuse two moments to compare whose `names` say `earlier` comes first, when it
    does not."""
    if later < earlier:
        raise MomentsReversedError(f"{names[1]} must not be before {names[0]}")


def position_at(store: StoreReads, moment: datetime) -> int:
    """The chain position an answer as of `moment` is computed at: the highest position
    of any chained record (event, entry, close) recorded by then (0: none).

    Record times never go back along the chain, so that is the head itself whenever the
    moment is not before the head's record time (a question about now), and otherwise
    the last record not after the moment."""
    head = store.chain_head()
    moment_us = to_us(moment)
    if moment_us >= head.recorded_us:
        return head.position
    return store.position_recorded_by(moment_us)
