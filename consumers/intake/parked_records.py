"""Gives kafka-python's fetcher back the records it parked for a paused partition.

kafka-python 3.0.x (through 3.0.12, the newest release) sets aside the records of a
partition that is paused while they are being handed out ("parked", its port of
KAFKA-7548), and hands them back at a poll only when no other partition's records are in
line. But the records in line are never cleared once handed out: after the first batch,
the line is empty yet never `None`, so parked records are never handed back, and the
fetcher never fetches that partition again (it skips partitions with records set aside).
After a pause and a resume, the partition then yields nothing, for ever, while every
other partition is read. dpkp/kafka-python#3131 reports that symptom.

The worker pauses every partition during a reconciliation pass, so a batch handed out
in part (a poll's `max_records`) was parked at every pass. A test worker stopped at 236
of its 325 messages with one partition stuck so, its fetcher showing an emptied line
and that partition's records set aside. Before each poll, `release_parked_records`
clears an emptied line, so the fetcher hands back one parked partition per poll, as it
means to. The records handed back are checked against the partition's position as
usual (records from before a seek are dropped), so nothing is read twice or skipped.

It reads the fetcher's private state: on a kafka-python whose fetcher is laid out
otherwise it does nothing.
"""

from __future__ import annotations

from typing import Any


def release_parked_records(consumer: Any) -> bool:
    """Clear the fetcher's emptied line when records are parked behind it; True if it did."""
    fetcher = getattr(consumer, "_fetcher", None)
    parked = getattr(fetcher, "_paused_partition_records", None)
    if fetcher is None or not parked:
        return False
    line = getattr(fetcher, "_next_partition_records", None)
    if line is None or bool(line):  # nothing in line, or records still to hand out
        return False
    fetcher._next_partition_records = None
    return True
