"""The timeline as drawn: its marks, lanes, days, background spans and incident waits,
the whole `Timeline` the template `timeline.html` renders, and the drawing's constants
(SVG user units). Values only: where things go is decided by the other modules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from consumers.http.web.timeline.words import SHORT_WORDS, without_status, words_for_status
from ledger.money import round_half_even
from ledger.timeformat import decimal_text

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

KINDS = (
    "outage",
    "maintenance",
    "coverage",
    "terms",
    "incident-opened",
    "incident-response",
    "incident-target",
    "incident-paused",
    "incident-resolved",
    "incident-resolution-target",
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
        return words_for_status(self.kind, self.status)

    @property
    def why_shown(self) -> str:
        """The document's reason, without the status it may begin with (a verdict says
        "missed: ..." and the status is already written before it)."""
        return without_status(self.why, self.status_words)


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
        return round_half_even(Fraction(self.x + self.x_end) / 2, 2)

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
class MonthBand:
    """A month of a year's timeline (an annual row, sla-math §9): a band from its local
    midnight on the 1st to the next, shaded on alternate months, named on the axis."""

    first_day: date
    x: Decimal
    x_end: Decimal
    shaded: bool

    @property
    def label(self) -> str:
        return f"{self.first_day:%b}"

    @property
    def middle(self) -> Decimal:
        return round_half_even(Fraction(self.x + self.x_end) / 2, 2)

    @property
    def title(self) -> str:
        return f"{self.first_day:%B %Y}"


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
    # A year's chart (an annual row) is banded by month instead of ticked by day.
    months: tuple[MonthBand, ...] = ()

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
