"""The demo's month, October 2026, as shipped data files beside this module.

The dates are fixed, not relative to today: the month is closed and corrected the same
way on every run, and its figures are the same everywhere (the golden store ingests it
too). The files hold the bytes the demo publishes, one message a line:

- `month.jsonl`: the month as its producers sent it. Four contracts in four timezones
  and currencies: C-1001 (Northwind, New York, USD) pays cash back below 99.9%, if
  claimed within 20 days; C-2002 (Acme, Sydney, AUD) has a tiered credit schedule on
  `crm` and a looser one on `portal`; C-3003 (Globex, Berlin, EUR) refunds 5% of the fee
  when response times are missed, in office hours with a holiday on 3 October, if
  claimed within 14 days, and promises P2 resolutions within 8 business hours; C-4004
  (Initech, London, GBP) promises 99.9% over the year, not the month. Then:
  OUT-API-1007, the API down 55 minutes: 99.87%, below 99.9%, cash back;
  OUT-CRM-1012, a 50% degradation of the CRM for three hours: it counts as 90 minutes;
  OUT-CRM-1020, the CRM database down two hours (the review will find it was longer);
  OUT-CRM-1025, down during maintenance announced 72 h ahead (MNT-CRM-1025): excluded;
  OUT-API-1015, down during maintenance announced only 12 h ahead (MNT-API-1015): counted;
  OUT-PORTAL-1018, Acme's portal (and only Acme's) down an hour: 99.87%, above 99.5%;
  OUT-API-1022, Northwind's own bad deploy, classified customer-caused: excluded;
  OUT-API-1028, a monitoring false alarm, retracted;
  INC-77, a P1 raised Friday 17:50 Berlin, answered Monday 08:20: 30 business minutes;
  INC-78, a P2 answered within the hour and resolved in 13 business hours, 6 of them
  paused while waiting on the customer's logs: 7 count, within its 8;
  INC-79, a P3 answered in 70 minutes;
  OUT-HOST-1009, Initech's hosting down 6 hours: two thirds of its year's budget.
- `late-correction.jsonl`: after the close, the post-incident review PIR-212 (the CRM
  database outage OUT-CRM-1020 lasted until 10:30, not 05:00) and the customers' claims:
  Northwind's CLM-501 in time, Globex's CLM-502 after its deadline.
- `misbehaving-producer.jsonl`: what a misbehaving producer sends besides, deliberately
  hostile and to be rejected or de-duplicated, never to be "fixed" by an editor: a
  re-sent event (OUT-API-1007's start, byte for byte), an impossible impact of 120%,
  and bytes that are not text (the line starts with 0xFF 0xFE).

Event ids are fixed UUIDs (the demo's own namespace), so every run records the same
events, entries and digests.
"""

from __future__ import annotations

import json
from importlib import resources

from ledger.timeformat import parse_rfc3339

DEMO_PERIOD = "2026-10"
# Part-way through the month: the demo publishes what producers sent before this, shows
# the exposure and the alerts raised so far, then publishes the rest.
PART_WAY = "2026-10-17T00:00:00Z"
MONTH_DATA = "month.jsonl"
CORRECTION_DATA = "late-correction.jsonl"
MISBEHAVING_DATA = "misbehaving-producer.jsonl"


def shipped(name: str) -> bytes:
    """The bytes of one of the demo's data files, as installed with the package."""
    return resources.files("consumers.demo").joinpath(name).read_bytes()


def data_lines(name: str) -> list[bytes]:
    """The lines of a data file, split at "\\n" only: a hostile line keeps any other byte."""
    return shipped(name).removesuffix(b"\n").split(b"\n")


def month_parts() -> tuple[bytes, bytes]:
    """`month.jsonl` in two: the events that occurred before `PART_WAY`, then the rest,
    each in the file's order (every line of the shipped month is a valid event)."""
    cut = parse_rfc3339(PART_WAY)
    before: list[bytes] = []
    after: list[bytes] = []
    for line in data_lines(MONTH_DATA):
        occurred = parse_rfc3339(json.loads(line)["occurred_at"])
        (before if occurred < cut else after).append(line + b"\n")
    return b"".join(before), b"".join(after)
