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
  each with the incident's status (met, missed, pending or not_counted).

Pure: no I/O, no clock, no floats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from ledger.periods import Period, from_us, local_date_of, local_midnight_us, to_us
from ledger.timeformat import decimal_text, format_utc, parse_utc
from projections.queries.explain.wording import (
    duration_exact,
    local_range_text,
    local_text,
)

# The drawing's coordinates (SVG user units): the window spans x in [0, WIDTH].
WIDTH = 1000
AXIS_TOP = 4  # the day labels' band
AXIS_HEIGHT = 30
LANE_GAP = 20  # room above each lane for its name
LANE_HEIGHT = 26
BOTTOM = 8
# A mark's name is drawn beside it when this much room is free: its characters at the
# name's font size (10 units, about 6.2 wide each), after a gap past the shape.
NAME_GAP = 8
NAME_CHARACTER = Decimal("6.2")
TWO_PLACES = Decimal("0.01")

KINDS = (
    "outage",
    "maintenance",
    "coverage",
    "terms",
    "incident-opened",
    "incident-response",
    "incident-target",
)


@dataclass(frozen=True, slots=True)
class Mark:
    """One fact on the timeline, as the SVG draws it and the table lists it.

    `start`/`end` are RFC 3339 UTC as the document has them (equal for an instant);
    `x`/`x_end`/`width` are drawing coordinates, exact to two decimals; `before`/`after`
    say the fact reaches outside the window (drawn cut at its edge). `height`/`y` place
    the shape inside its lane (an outage's height grows with its impact).
    """

    kind: str
    id: str
    start: str
    end: str
    local_start: str
    local_end: str
    duration: str
    x: Decimal
    x_end: Decimal
    lane: int
    y: Decimal
    height: Decimal
    status: str
    why: str
    label: str
    event_ids: tuple[str, ...]
    before: bool = False
    after: bool = False
    impact_percent: str | None = None
    opacity: Decimal = Decimal("1.00")
    ongoing: bool = False
    # The short name drawn beside the mark (its id), where the lane has room for it.
    name: str | None = None
    # The name is drawn before the mark rather than after it: an incident's always (its
    # wait line runs after it), another's when there is no room after it.
    name_left: bool = False
    name_row: int = 0  # 0: the lane's upper half, 1: its lower half (when the upper is full)

    @property
    def width(self) -> Decimal:
        return self.x_end - self.x

    @property
    def name_x(self) -> Decimal:
        return self.x - NAME_GAP if self.name_left else self.x_end + NAME_GAP

    @property
    def name_text(self) -> str:
        """The id, and a short word when the mark does not simply count (an incident's
        verdict always)."""
        word = SHORT_WORDS.get((self.kind, self.status))
        return self.id if word is None else f"{self.id} ({word})"

    @property
    def name_span(self) -> tuple[Decimal, Decimal]:
        width = NAME_CHARACTER * len(self.name_text)
        if self.name_left:
            return self.name_x - width, self.name_x
        return self.name_x, self.name_x + width

    @property
    def instant(self) -> bool:
        return self.start == self.end

    @property
    def status_words(self) -> str:
        return _status_words(self.kind, self.status)

    @property
    def why_shown(self) -> str:
        """The document's reason, without the status it may begin with (a verdict says
        "missed: ..." and the status is already written before it)."""
        return _without_status(self.why, self.status_words)


@dataclass(frozen=True, slots=True)
class Lane:
    """A horizontal band of the chart: its name, and where it lies."""

    name: str
    y: Decimal
    height: Decimal

    @property
    def label_y(self) -> Decimal:
        return self.y - 6

    @property
    def middle(self) -> Decimal:
        return self.y + self.height / 2


@dataclass(frozen=True, slots=True)
class Day:
    """A local day of the month: its midnight tick, its band and its label."""

    day: date
    x: Decimal
    x_end: Decimal
    # 23, 24 or 25 (a DST change; 23.5 or 24.5 where clocks move half an hour, as on
    # Lord Howe Island), or fewer at a window edge: exact, never rounded.
    hours: Fraction
    weekend: bool

    @property
    def hours_text(self) -> str:
        return decimal_text(self.hours)

    @property
    def label(self) -> str:
        return str(self.day.day)

    @property
    def middle(self) -> Decimal:
        return ((self.x + self.x_end) / 2).quantize(TWO_PLACES, ROUND_HALF_EVEN)

    @property
    def title(self) -> str:
        return f"{self.day:%a} {self.day.isoformat()}, {self.hours_text} hours"


@dataclass(frozen=True, slots=True)
class Span:
    """A background band (not a fact of its own): time not covered, or after the horizon."""

    x: Decimal
    x_end: Decimal
    title: str

    @property
    def width(self) -> Decimal:
        return self.x_end - self.x


@dataclass(frozen=True, slots=True)
class Wait:
    """An incident's wait for its first response (to the horizon when there is none
    yet): the line its opened, response and target marks sit on."""

    x: Decimal
    x_end: Decimal
    y: Decimal
    status: str
    answered: bool


@dataclass(frozen=True, slots=True)
class Timeline:
    period: str
    month: str  # e.g. "October 2026"
    timezone: str
    zones: str  # the zone abbreviations met in the month, e.g. "AEST/AEDT"
    window_start: str
    window_end: str
    width: int
    height: Decimal
    lanes: tuple[Lane, ...]
    days: tuple[Day, ...]
    marks: tuple[Mark, ...]
    uncovered: tuple[Span, ...]
    waits: tuple[Wait, ...]
    unmeasured: Span | None  # after the horizon, when it falls inside the window
    horizon: str
    horizon_x: Decimal | None
    summary: str

    @property
    def chart_top(self) -> Decimal:
        return Decimal(AXIS_TOP + AXIS_HEIGHT)

    @property
    def axis_label_y(self) -> int:
        return AXIS_TOP + 14

    @property
    def axis_weekday_y(self) -> int:
        return AXIS_TOP + 26

    @property
    def clock_changes(self) -> tuple[Day, ...]:
        """The days that are not 24 hours long (a DST change)."""
        return tuple(d for d in self.days if d.hours != 24)

    def kinds(self) -> set[str]:
        return {m.kind for m in self.marks}

    def statuses(self) -> set[tuple[str, str]]:
        return {(m.kind, m.status) for m in self.marks}


STATUS_WORDS: Mapping[tuple[str, str], str] = {
    ("outage", "counted"): "counted as downtime",
    ("outage", "excluded"): "excluded",
    ("outage", "below_floor"): "below the downtime floor",
    ("outage", "other_customers"): "other customers only",
    ("outage", "retracted"): "retracted",
    ("outage", "outside"): "outside the measured range",
    ("outage", "empty"): "no measured time",
    ("maintenance", "excluded"): "excluded (enough notice)",
    ("maintenance", "not_excluded"): "not excluded (too little notice)",
    ("maintenance", "cancelled"): "cancelled",
    ("coverage", "pro_rated"): "pro-rated",
    ("terms", "in_force"): "in force",
}


def _status_words(kind: str, status: str) -> str:
    return STATUS_WORDS.get((kind, status), status.replace("_", " "))


def _without_status(why: str, words: str) -> str:
    prefix = f"{words}: "
    if why == words:
        return ""
    return why[len(prefix) :] if why.startswith(prefix) else why


# The word beside a mark's name on the chart: an outage's or a window's when it does not
# simply count, an incident's verdict always (its shapes' fill is only colour).
SHORT_WORDS: Mapping[tuple[str, str], str] = {
    ("outage", "excluded"): "excluded",
    ("outage", "below_floor"): "below floor",
    ("outage", "other_customers"): "other customers",
    ("outage", "retracted"): "retracted",
    ("outage", "outside"): "outside",
    ("outage", "empty"): "empty",
    ("maintenance", "excluded"): "excluded",
    ("maintenance", "not_excluded"): "not excluded",
    ("maintenance", "cancelled"): "cancelled",
    ("incident-opened", "met"): "met",
    ("incident-opened", "missed"): "missed",
    ("incident-opened", "pending"): "pending",
    ("incident-opened", "not_counted"): "not counted",
}


# -- placing ---------------------------------------------------------------------------


class _Scale:
    """Window instants to x: exact, rounded once."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end

    def clamp(self, at: int) -> int:
        return min(max(at, self.start), self.end)

    def x(self, at: int) -> Decimal:
        exact = Fraction(WIDTH * (self.clamp(at) - self.start), self.end - self.start)
        return _two_places(exact)


def _two_places(value: Fraction) -> Decimal:
    """A non-negative exact value rounded half-even to two decimals, once."""
    hundredths, rest = divmod(value.numerator * 100, value.denominator)
    twice = 2 * rest
    if twice > value.denominator or (twice == value.denominator and hundredths % 2):
        hundredths += 1
    return Decimal(hundredths).scaleb(-2)


def _us(text: str) -> int:
    return to_us(parse_utc(text))


def _pack(spans: Sequence[tuple[int, int]]) -> list[int]:
    """A sub-lane for each span (in order) so that overlapping spans never share one:
    each takes the first sub-lane free at its start (`spans` must be sorted by start)."""
    ends: list[int] = []
    lanes: list[int] = []
    for start, end in spans:
        for index, last in enumerate(ends):
            if last <= start:
                ends[index] = max(end, start + 1)
                lanes.append(index)
                break
        else:
            ends.append(max(end, start + 1))
            lanes.append(len(ends) - 1)
    return lanes


def _ids(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


class _Builder:
    def __init__(self, document: Mapping[str, Any]) -> None:
        coverage = document["coverage"]
        self.document = document
        self.timezone: str = coverage["timezone"]
        window = coverage["window"]
        self.window = (_us(window["start"]), _us(window["end"]))
        self.scale = _Scale(*self.window)
        self.lanes: list[Lane] = []
        self.marks: list[Mark] = []
        self.waits: list[Wait] = []
        self.y = Decimal(AXIS_TOP + AXIS_HEIGHT)

    def lane(self, name: str) -> int:
        self.y += LANE_GAP
        self.lanes.append(Lane(name, self.y, Decimal(LANE_HEIGHT)))
        self.y += LANE_HEIGHT
        return len(self.lanes) - 1

    def local(self, at: int) -> str:
        return local_text(at, self.timezone)

    def mark(
        self,
        kind: str,
        ident: str,
        start: int,
        end: int,
        lane: int,
        status: str,
        why: str,
        headline: str,
        event_ids: Iterable[str | None],
        *,
        impact: str | None = None,
        ongoing: bool = False,
    ) -> None:
        row = self.lanes[lane]
        height, opacity = row.height, Decimal("1.00")
        if impact is not None:
            # A bar's height and shade both grow with the impact (a 50% degradation is
            # half as tall and lighter), so the two do not rest on colour alone.
            share = Fraction(Decimal(impact)) / 100
            height = _two_places(Fraction(row.height) * max(share, Fraction(1, 5)))
            opacity = _two_places(Fraction(3, 10) + Fraction(7, 10) * share)
        instant = start == end
        when = (
            self.local(start)
            if instant
            else local_range_text(start, end, self.timezone)
            + f", {duration_exact(end - start)}"
            + (" so far, ongoing at the horizon" if ongoing else "")
        )
        words = _status_words(kind, status)
        reason = _without_status(why, words)
        label = f"{headline}: {when}. {words[0].upper()}{words[1:]}" + (
            f": {reason}" if reason else ""
        )
        self.marks.append(
            Mark(
                kind=kind,
                id=ident,
                start=_text(start),
                end=_text(end),
                local_start=self.local(start),
                local_end=self.local(end),
                duration="" if instant else duration_exact(end - start),
                x=self.scale.x(start),
                x_end=self.scale.x(end),
                lane=lane,
                y=row.y + row.height - height,
                height=height,
                status=status,
                why=why,
                label=label,
                event_ids=_ids(event_ids),
                before=start < self.window[0],
                after=end > self.window[1] or start > self.window[1],
                impact_percent=impact,
                opacity=opacity,
                ongoing=ongoing,
            )
        )

    # -- the facts -----------------------------------------------------------------

    def boundaries(self) -> None:
        coverage, terms = self.document["coverage"], self.document["terms"]
        covered = (_us(coverage["covered"]["start"]), _us(coverage["covered"]["end"]))
        starts = _us_of_day(terms["effective_from"], self.timezone)
        shows_terms = self.window[0] <= starts < self.window[1]
        pro_rated = covered != self.window
        if not (pro_rated or shows_terms):
            return
        lane = self.lane("Coverage and terms")
        why = coverage["reason"]
        if covered[0] != self.window[0]:
            self.mark(
                "coverage",
                "start",
                covered[0],
                covered[0],
                lane,
                "pro_rated",
                why,
                "Coverage starts",
                coverage["event_ids"],
            )
        if covered[1] != self.window[1]:
            self.mark(
                "coverage",
                "end",
                covered[1],
                covered[1],
                lane,
                "pro_rated",
                why,
                "Coverage ends",
                coverage["event_ids"],
            )
        if shows_terms:
            version = terms["version"]
            self.mark(
                "terms",
                f"version-{version}",
                starts,
                starts,
                lane,
                "in_force",
                terms["reason"],
                f"Terms version {version} from {terms['effective_from']}",
                terms["event_ids"],
            )

    def maintenance(self, windows: Sequence[Mapping[str, Any]]) -> None:
        if not windows:
            return
        spans = [(_us(w["scheduled"]["start"]), _us(w["scheduled"]["end"]), w) for w in windows]
        spans.sort(key=lambda s: (s[0], s[2]["maintenance_id"]))
        subs = _pack([(a, b) for a, b, _ in spans])
        lanes = [self.lane("Maintenance" if i == 0 else "") for i in range(max(subs) + 1)]
        for (start, end, window), sub in zip(spans, subs, strict=True):
            if window["cancelled"]:
                status = "cancelled"
            elif window["excluded"]:
                status = "excluded"
            else:
                status = "not_excluded"
            self.mark(
                "maintenance",
                window["maintenance_id"],
                start,
                end,
                lanes[sub],
                status,
                window["reason"],
                f"Maintenance {window['maintenance_id']}",
                window["event_ids"],
            )

    def outages(self, outages: Sequence[Mapping[str, Any]]) -> None:
        spans = [
            (_us(o["corrected"]["start"]), _us(o["corrected"]["end"]), o)
            for o in outages
            if o.get("corrected") is not None
        ]
        if not spans:
            return
        spans.sort(key=lambda s: (s[0], s[2]["outage_id"]))
        subs = _pack([(a, b) for a, b, _ in spans])
        lanes = [self.lane("Outages" if i == 0 else "") for i in range(max(subs) + 1)]
        for (start, end, outage), sub in zip(spans, subs, strict=True):
            corrected = outage["corrected"]
            status = outage["status"]
            cause = outage.get("cause")
            headline = f"Outage {outage['outage_id']}, {corrected['impact_percent']}% impact" + (
                f", cause {cause}" if cause else ""
            )
            self.mark(
                "outage",
                outage["outage_id"],
                start,
                end,
                lanes[sub],
                status,
                outage["reason"],
                headline,
                outage["event_ids"],
                impact=corrected["impact_percent"],
                ongoing=bool(corrected.get("ongoing")),
            )

    def incidents(self, incidents: Sequence[Mapping[str, Any]]) -> None:
        if not incidents:
            return
        spans = []
        for incident in incidents:
            opened = _us(incident["opened_at"])
            ends = [opened, _us(incident["measured_to_at"])]
            if incident.get("target_at"):
                ends.append(_us(incident["target_at"]))
            spans.append((opened, max(ends), incident))
        # Incidents are few: each gets room for its name (drawn before it, with its
        # verdict) when sub-lanes are shared, so no incident goes unnamed on the chart.
        window = self.window[1] - self.window[0]

        def room(incident: Mapping[str, Any]) -> int:
            word = SHORT_WORDS[("incident-opened", incident["status"] or "not_counted")]
            units = NAME_GAP + 12 + NAME_CHARACTER * len(f"{incident['incident_id']} ({word})")
            return int(units * window / WIDTH) + 1

        pad = int(12 * Fraction(window, WIDTH))
        spans.sort(key=lambda s: (s[0] - room(s[2]), s[2]["incident_id"]))
        subs = _pack([(a - room(i), b + pad) for a, b, i in spans])
        lanes = [self.lane("Incidents" if i == 0 else "") for i in range(max(subs) + 1)]
        for (opened, _, incident), sub in zip(spans, subs, strict=True):
            ident, lane = incident["incident_id"], lanes[sub]
            status = incident["status"] or "not_counted"
            until = _us(incident["measured_to_at"])
            self.waits.append(
                Wait(
                    self.scale.x(opened),
                    self.scale.x(until),
                    self.lanes[lane].middle,
                    status,
                    incident["first_response_at"] is not None,
                )
            )
            why = incident["verdict"]
            priority = incident["priority_used"] or "no priority"
            self.mark(
                "incident-opened",
                ident,
                opened,
                opened,
                lane,
                status,
                why,
                f"Incident {ident} ({priority}) opened",
                incident["event_ids"],
            )
            if incident["first_response_at"] is not None:
                responded = _us(incident["first_response_at"])
                self.mark(
                    "incident-response",
                    ident,
                    responded,
                    responded,
                    lane,
                    status,
                    why,
                    f"Incident {ident}: first response",
                    [incident["first_response_event_id"]],
                )
            if incident.get("target_at") is not None:
                target = _us(incident["target_at"])
                self.mark(
                    "incident-target",
                    ident,
                    target,
                    target,
                    lane,
                    status,
                    why,
                    f"Incident {ident}: target of {incident['target_text']} in business time "
                    "runs out",
                    [incident["priority_set_by"], *self.document["terms"]["event_ids"]],
                )


NAMED = ("outage", "maintenance", "incident-opened")


def _named(marks: Sequence[Mark]) -> list[Mark]:
    """The marks with the names that fit: in each lane, a subject's first mark gets its
    id beside it (after it, else before it; in the lane's upper half, else its lower)
    when no other shape of the lane, and no name already placed in that half, is where
    the name would be drawn."""
    by_lane: dict[int, list[Mark]] = {}
    for mark in marks:
        by_lane.setdefault(mark.lane, []).append(mark)
    named: dict[tuple[str, str], Mark] = {}
    for lane in by_lane.values():
        lane.sort(key=lambda m: (m.x, m.x_end))
        shapes = [(m.x - 6, m.x_end + 6) for m in lane]
        names: tuple[list[tuple[Decimal, Decimal]], ...] = ([], [])
        for index, mark in enumerate(lane):
            if mark.kind not in NAMED:
                continue
            sides = (True,) if mark.kind == "incident-opened" else (False, True)
            for row, left in ((row, left) for row in (0, 1) for left in sides):
                candidate = replace(mark, name=mark.name_text, name_left=left, name_row=row)
                low, high = candidate.name_span
                others = [span for at, span in enumerate(shapes) if at != index] + names[row]
                if low >= 0 and high <= WIDTH and all(b < low or a > high for a, b in others):
                    named[(mark.kind, mark.id)] = candidate
                    names[row].append((low, high))
                    break
    return [named.get((m.kind, m.id), m) for m in marks]


def _text(at: int) -> str:
    return format_utc(from_us(at))


def _us_of_day(text: str, timezone: str) -> int:
    return local_midnight_us(date.fromisoformat(text), timezone)


def _days(scale: _Scale, window: tuple[int, int], timezone: str) -> list[Day]:
    first, last = local_date_of(window[0], timezone), local_date_of(window[1] - 1, timezone)
    days: list[Day] = []
    day = first
    while day <= last:
        start = max(local_midnight_us(day, timezone), window[0])
        end = min(local_midnight_us(day + timedelta(days=1), timezone), window[1])
        hours = Fraction(end - start, 3_600_000_000)
        days.append(Day(day, scale.x(start), scale.x(end), hours, day.weekday() >= 5))
        day += timedelta(days=1)
    return days


def _zones(window: tuple[int, int], days: Sequence[Day], timezone: str) -> str:
    zone = ZoneInfo(timezone)
    names: list[str] = []
    for at in [window[0], *(local_midnight_us(d.day, timezone) for d in days), window[1] - 1]:
        name = from_us(at).astimezone(zone).tzname() or timezone
        if name not in names:
            names.append(name)
    return "/".join(names)


def _summary(builder: _Builder, month: str, zones: str) -> str:
    """The chart in one sentence, for a screen reader (the table below has it all)."""
    marks = builder.marks
    counts: dict[str, int] = {}
    for mark in marks:
        if mark.kind == "outage":
            counts[mark.status] = counts.get(mark.status, 0) + 1
    outages = sum(counts.values())
    windows = sum(1 for m in marks if m.kind == "maintenance")
    incidents = sum(1 for m in marks if m.kind == "incident-opened")
    by_status = ", ".join(
        f"{n} {STATUS_WORDS.get(('outage', s), s)}" for s, n in sorted(counts.items())
    )
    parts = [
        f"{outages} outage{'s' if outages != 1 else ''}" + (f" ({by_status})" if outages else "")
    ]
    parts.append(f"{windows} maintenance window{'s' if windows != 1 else ''}")
    if builder.document.get("incident_response") is not None:
        parts.append(f"{incidents} incident{'s' if incidents != 1 else ''}")
    return (
        f"Timeline of {month} in {builder.timezone} ({zones}): {', '.join(parts)}. "
        "The table below lists every mark."
    )


def timeline(document: Mapping[str, Any]) -> Timeline:
    """The timeline of the row `document` explains (an explain document, parsed JSON)."""
    builder = _Builder(document)
    builder.boundaries()
    availability = document.get("availability")
    if availability is not None:
        builder.maintenance(availability["maintenance"])
        builder.outages(availability["outages"])
    response = document.get("incident_response")
    if response is not None:
        builder.incidents(response["incidents"])
    if not builder.lanes:
        builder.lane("Nothing happened")
    scale, window, timezone = builder.scale, builder.window, builder.timezone
    coverage = document["coverage"]
    covered = (_us(coverage["covered"]["start"]), _us(coverage["covered"]["end"]))
    uncovered = []
    if covered[0] > window[0]:
        uncovered.append(
            Span(scale.x(window[0]), scale.x(covered[0]), "not covered by the contract")
        )
    if covered[1] < window[1]:
        uncovered.append(
            Span(scale.x(covered[1]), scale.x(window[1]), "not covered by the contract")
        )
    horizon = _us(coverage["horizon"])
    inside = window[0] < horizon < window[1]
    days = _days(scale, window, timezone)
    period = document["period"]
    month = f"{Period.from_label(period).first_day:%B %Y}"
    zones = _zones(window, days, timezone)
    order = {kind: index for index, kind in enumerate(KINDS)}
    marks = sorted(_named(builder.marks), key=lambda m: (_us(m.start), order[m.kind], m.id))
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
        summary=_summary(builder, month, zones),
    )
