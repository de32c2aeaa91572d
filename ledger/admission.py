"""Whether an offered event joins the log: the rule that makes intake idempotent.

An event is known by its `event_id`. Offered again with the same content (the digest of
its canonical envelope), it is a duplicate: accepted once, and every later copy is a
no-op, however often a file is re-read or a Kafka batch redelivered. Offered with other
content under an id already accepted, it is a conflict: rejected, naming the id, and the
first content stays. Within one batch the same holds: the batch's first copy of an id is
what a later copy is compared with.

Pure: the store reads the digests already accepted and applies the verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

Admission = Literal["accept", "duplicate", "conflict"]


def admit(offered: Sequence[tuple[str, str]], accepted: Mapping[str, str]) -> list[Admission]:
    """The verdict on each offered `(event_id, content_sha256)`, in order, given the
    digests of the events `accepted` before the batch (event_id -> content_sha256)."""
    known = dict(accepted)
    verdicts: list[Admission] = []
    for event_id, digest in offered:
        seen = known.get(event_id)
        if seen is None:
            known[event_id] = digest
            verdicts.append("accept")
        else:
            verdicts.append("duplicate" if seen == digest else "conflict")
    return verdicts


def conflict_reason(event_id: str) -> str:
    """What a conflicting re-use of `event_id` is rejected with (field `event_id`)."""
    return (
        f"event_id: {event_id} was already accepted with different content "
        "(a conflicting re-use of the id)"
    )
