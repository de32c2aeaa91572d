"""The row page's timeline: one month of a row, drawn from its explain document.

`timeline(document)` takes the explain document as the API answers it (the JSON of
`projections.queries.explain`, parsed) and lays its facts out for the template
`timeline.html`: an SVG whose x axis is the month's window in the contract's timezone,
and a text table of the same marks. It decides nothing about the row: every status,
reason and interval is the document's; this module only places them.

Placing is exact: an instant's x is `WIDTH × (t − window start) / window length`, a
`Fraction` of microseconds, rounded once (half-even) to two decimals for drawing. A
mark's width is the difference of its two rounded ends, so adjacent marks meet. Days
are ticked at the true local midnights (`ledger.periods.local_midnight_us`, the rule the
window itself is cut by), so a DST day is visibly 23 or 25 hours wide.

Marks, each with the same one-line label in the SVG and in the table:

- `outage`: every outage with an interval, at its corrected interval, with the
  document's status (counted, excluded, below_floor, other_customers, retracted,
  outside, empty); its bar's height and shade grow with its impact;
- `maintenance`: every window, excluded (enough notice), not excluded, or cancelled;
- `coverage`: the start and end of the covered range, when the row is pro-rated;
- `terms`: the start of the terms version in force, when it began within the month;
- `incident-opened`, `incident-response`, `incident-target`: an incident's opening,
  its first response and the instant its business-time target ran out (`target_at`),
  each with the incident's status (met, missed, pending or not_counted);
- `incident-paused`, `incident-resolved`, `incident-resolution-target` (sla-math §11,
  where the terms set resolution targets): each paused interval of an incident on its
  lane, with the business time it removed, its resolution and the instant its
  resolution target ran out (paused time excluded), each with its resolution status.

The package's modules, one job each: `model` (the drawn values and the drawing's
constants), `words` (what statuses are called), `scale` (instants to x, rounded once;
local days and zones), `packing` (sub-lanes for overlapping facts), `marks` (the marks
built from the document), `names` (where names go) and `summary` (the sentence for a
screen reader); this module puts them together.

Pure: no I/O, no clock, no floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consumers.http.web.timeline.marks import Builder
from consumers.http.web.timeline.model import (
    AXIS_HEIGHT,
    AXIS_TOP,
    BOTTOM,
    KINDS,
    LANE_GAP,
    LANE_HEIGHT,
    NAME_CHARACTER,
    NAME_GAP,
    WIDTH,
    Day,
    Lane,
    Mark,
    Span,
    Timeline,
    Wait,
)
from consumers.http.web.timeline.names import NAMED, named
from consumers.http.web.timeline.scale import local_days, month_bands, us, zone_names
from consumers.http.web.timeline.summary import summary
from consumers.http.web.timeline.words import SHORT_WORDS, STATUS_WORDS
from ledger.periods import Period

__all__ = [
    "AXIS_HEIGHT",
    "AXIS_TOP",
    "BOTTOM",
    "KINDS",
    "LANE_GAP",
    "LANE_HEIGHT",
    "NAMED",
    "NAME_CHARACTER",
    "NAME_GAP",
    "SHORT_WORDS",
    "STATUS_WORDS",
    "WIDTH",
    "Day",
    "Lane",
    "Mark",
    "Span",
    "Timeline",
    "Wait",
    "timeline",
]


def timeline(document: Mapping[str, Any]) -> Timeline:
    """The timeline of the row `document` explains (an explain document, parsed JSON)."""
    builder = Builder(document)
    builder.boundaries()
    availability = document.get("availability")
    if availability is not None:
        builder.maintenance(availability["maintenance"])
        builder.outages(availability["outages"])
    response = document.get("incident_response")
    if response is not None:
        resolution = document.get("incident_resolution")
        builder.incidents(
            response["incidents"], [] if resolution is None else resolution["incidents"]
        )
    if not builder.lanes:
        builder.lane("Nothing happened")
    scale, window, timezone = builder.scale, builder.window, builder.timezone
    coverage = document["coverage"]
    # An annual row's coverage may have gaps (months measured monthly): its parts.
    parts = coverage.get("covered_parts") or [coverage["covered"]]
    uncovered = []
    cursor = window[0]
    for part in [*((us(p["start"]), us(p["end"])) for p in parts), (window[1], window[1])]:
        if part[0] > cursor:
            uncovered.append(Span(scale.x(cursor), scale.x(part[0]), _uncovered_words(coverage)))
        cursor = max(cursor, part[1])
    horizon = us(coverage["horizon"])
    inside = window[0] < horizon < window[1]
    days = local_days(scale, window, timezone)
    period = document["period"]
    asked = Period.from_label(period)
    month = f"the year {asked.year}" if asked.is_year else f"{asked.first_day:%B %Y}"
    zones = zone_names(window, days, timezone)
    order = {kind: index for index, kind in enumerate(KINDS)}
    marks = sorted(named(builder.marks), key=lambda m: (us(m.start), order[m.kind], m.id))
    return Timeline(
        period=period,
        month=month,
        timezone=timezone,
        zones=zones,
        window_start=coverage["window"]["start"],
        window_end=coverage["window"]["end"],
        width=WIDTH,
        height=builder.y + BOTTOM,
        lanes=tuple(builder.lanes),
        days=tuple(days),
        marks=tuple(marks),
        uncovered=tuple(uncovered),
        waits=tuple(builder.waits),
        unmeasured=Span(scale.x(horizon), scale.x(window[1]), "after the horizon: not measured yet")
        if inside
        else None,
        horizon=coverage["horizon"],
        horizon_x=scale.x(horizon) if inside else None,
        summary=summary(builder, month, zones),
        months=tuple(month_bands(scale, asked, timezone)) if asked.is_year else (),
    )


def _uncovered_words(coverage: Mapping[str, Any]) -> str:
    if coverage.get("months_measured_yearly"):
        return "not covered by the annual row: not in force, or measured monthly"
    return "not covered by the contract"
