"""The row page's timeline (`consumers.http.web.timeline`): marks placed exactly on the
month's window, from explain documents the query layer builds, and the partial's DOM
contract (`templates/timeline.html`) that the row page and its browser tests rely on."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from consumers.http.web.templating import ENVIRONMENT
from consumers.http.web.timeline import WIDTH, Mark, Timeline, timeline
from consumers.http.web.timeline.scale import two_places
from ledger.contracts import fold_contract
from ledger.events import InboundEvent, RecordedEvent
from ledger.inbound import validate_envelope
from ledger.incidents import fold_incident
from ledger.outages import fold_maintenance, fold_outage
from ledger.periods import Period, to_us
from ledger.timeformat import parse_rfc3339
from projections.queries.encoding import to_json
from projections.queries.explain.document import explain_row, locate
from tests.builders import OFFICE_HOURS, contract, ev, incident, maintenance, outage, service

OCTOBER = Period(2026, 10)
NOVEMBER_2 = "2026-11-02T00:00:00Z"


def at(text: str) -> int:
    return to_us(parse_rfc3339(text))


def document(
    documents: list[dict[str, Any]],
    *,
    period: Period = OCTOBER,
    service_id: str = "crm",
    horizon: str = NOVEMBER_2,
) -> dict[str, Any]:
    """The explain document of C-1's row as the API answers it: folded as the store
    folds, laid out by `explain_row`, written by the API's JSON encoder and parsed."""
    events = [validate_envelope(d) for d in documents]
    by_subject: dict[tuple[str, str], list[InboundEvent]] = defaultdict(list)
    for event in events:
        by_subject[(event.subject_kind, event.subject_id)].append(event)
    [state] = [fold_contract(v) for (k, _), v in by_subject.items() if k == "contract"]
    assert state is not None
    outages = [fold_outage(v) for (k, _), v in by_subject.items() if k == "outage"]
    windows = [fold_maintenance(v) for (k, _), v in by_subject.items() if k == "maintenance"]
    incidents = [fold_incident(v) for (k, _), v in by_subject.items() if k == "incident"]
    recorded = parse_rfc3339(horizon)
    histories = {k: [RecordedEvent(e, recorded) for e in evs] for k, evs in by_subject.items()}
    explained = explain_row(
        state,
        locate(state, "C-1", service_id, period),
        period,
        outages,
        windows,
        incidents,
        at(horizon),
        histories=histories,
    )
    parsed: dict[str, Any] = json.loads(to_json(explained))
    return parsed


def marks(drawn: Timeline, kind: str) -> dict[str, Mark]:
    return {m.id: m for m in drawn.marks if m.kind == kind}


def exact_x(instant: str, window: tuple[str, str]) -> Fraction:
    start, end = at(window[0]), at(window[1])
    return Fraction(WIDTH * (at(instant) - start), end - start)


# -- placing ---------------------------------------------------------------------------


def test_rounding_is_once_and_half_even_to_two_places() -> None:
    assert two_places(Fraction(1, 200)) == Decimal("0.00")  # 0.005: to the even 0.00
    assert two_places(Fraction(3, 200)) == Decimal("0.02")  # 0.015: to the even 0.02
    assert two_places(Fraction(1000 * 3600, 2_678_400)) == Decimal("1.34")  # 1.3440…
    assert two_places(Fraction(1000 * 3_599_999_999, 2_678_400_000_000)) == Decimal("1.34")
    assert two_places(Fraction(2001, 2000)) == Decimal("1.00")  # 1.0005
    assert two_places(Fraction(1000)) == Decimal("1000.00")


def test_an_outage_over_the_second_quarter_of_a_utc_month_is_drawn_from_x_250_to_500() -> None:
    # October 2026 in UTC: 2,678,400 s; 25% is 7 days 18 h in, 50% is 15 days 12 h in.
    doc = document(
        [contract(), *outage("O-1", "2026-10-08T18:00:00Z", "2026-10-16T12:00:00Z", "50")]
    )
    drawn = timeline(doc)
    assert (drawn.window_start, drawn.window_end) == (
        "2026-10-01T00:00:00Z",
        "2026-11-01T00:00:00Z",
    )
    o = marks(drawn, "outage")["O-1"]
    assert (o.x, o.x_end, o.width) == (Decimal("250.00"), Decimal("500.00"), Decimal("250.00"))
    assert (o.start, o.end) == ("2026-10-08T18:00:00Z", "2026-10-16T12:00:00Z")
    assert o.status == "counted"
    assert o.local_start == "Thu 2026-10-08 18:00 UTC (2026-10-08T18:00:00Z)"
    assert o.duration == "186 h (669,600 s)"
    assert o.event_ids == tuple(sorted(doc["availability"]["outages"][0]["event_ids"]))


def test_positions_are_the_exact_share_of_the_window_rounded_once() -> None:
    # 13.392 s is exactly 0.005 of a unit of 1000 over 2,678,400 s; 40.176 s is 0.015.
    docs = [
        contract(),
        *outage("O-1", "2026-10-01T00:00:13.392Z", "2026-10-01T00:00:40.176Z"),
        *outage("O-2", "2026-10-01T01:00:00Z", "2026-10-31T23:00:00Z"),
        *outage("O-3", "2026-10-03T01:00:00Z", "2026-10-03T02:00:00Z", "50"),
    ]
    drawn = timeline(document(docs))
    one, two = marks(drawn, "outage")["O-1"], marks(drawn, "outage")["O-2"]
    assert (one.x, one.x_end) == (Decimal("0.00"), Decimal("0.02"))
    window = (drawn.window_start, drawn.window_end)
    assert exact_x(two.start, window) == Fraction(1000 * 3600, 2_678_400)
    assert (two.x, two.x_end) == (Decimal("1.34"), Decimal("998.66"))
    # The width is the difference of the two rounded ends: no second rounding.
    assert two.width == two.x_end - two.x == Decimal("997.32")
    # Overlapping outages are drawn in separate sub-lanes of the outage lanes; one that
    # overlaps none shares the first.
    three = marks(drawn, "outage")["O-3"]
    assert one.lane == two.lane != three.lane
    assert [lane.name for lane in drawn.lanes] == ["Outages", ""]


def test_a_50_percent_outage_is_half_as_tall_and_lighter_than_a_full_one() -> None:
    docs = [
        contract(),
        *outage("O-1", "2026-10-05T10:00:00Z", "2026-10-05T12:00:00Z", "50"),
        *outage("O-2", "2026-10-09T10:00:00Z", "2026-10-09T12:00:00Z", "100"),
    ]
    drawn = timeline(document(docs))
    half, full = marks(drawn, "outage")["O-1"], marks(drawn, "outage")["O-2"]
    assert half.lane == full.lane
    assert half.height * 2 == full.height
    assert half.opacity < full.opacity == Decimal("1.00")
    lane = drawn.lanes[half.lane]
    # Both bars stand on the lane's baseline.
    assert half.y + half.height == full.y + full.height == lane.y + lane.height
    assert "50% impact" in half.label


# -- days ------------------------------------------------------------------------------


def test_sydney_october_has_a_23_hour_day_and_every_tick_at_a_true_local_midnight() -> None:
    doc = document([contract(tz="Australia/Sydney")])
    assert doc["coverage"]["window"]["seconds"] == "2674800"
    drawn = timeline(doc)
    assert (drawn.zones, drawn.timezone) == ("AEST/AEDT", "Australia/Sydney")
    assert [d.day.day for d in drawn.days] == list(range(1, 32))
    sydney = ZoneInfo("Australia/Sydney")
    window = (drawn.window_start, drawn.window_end)
    for d in drawn.days:
        # Independently: the UTC instant of 00:00 local, by zoneinfo itself.
        midnight = datetime(2026, 10, d.day.day, tzinfo=sydney).astimezone(UTC)
        assert midnight.astimezone(sydney).hour == 0
        assert d.x == two_places(exact_x(f"{midnight:%Y-%m-%dT%H:%M:%SZ}", window))
    fourth = drawn.days[3]
    assert (fourth.day, fourth.hours) == (date(2026, 10, 4), Fraction(23))
    assert [d.day for d in drawn.clock_changes] == [date(2026, 10, 4)]
    # Midnight of the 5th is 2026-10-04T13:00Z (AEDT, +11): 95 hours into the window.
    assert drawn.days[4].x == Decimal("127.86")  # 1000 × 342,000 / 2,674,800 = 127.860…
    assert fourth.x_end == drawn.days[4].x
    assert drawn.days[-1].x_end == Decimal(WIDTH)
    # A 23-hour day is narrower than its neighbours, by a 24th.
    assert fourth.x_end - fourth.x < drawn.days[4].x_end - drawn.days[4].x


def test_berlin_october_has_a_25_hour_day() -> None:
    drawn = timeline(document([contract(tz="Europe/Berlin")]))
    assert [(d.day, d.hours) for d in drawn.clock_changes] == [(date(2026, 10, 25), Fraction(25))]
    assert drawn.zones == "CEST/CET"


def test_lord_howe_october_has_a_day_of_23_and_a_half_hours() -> None:
    """Clocks there move by half an hour: the day is said exactly, never rounded."""
    drawn = timeline(document([contract(tz="Australia/Lord_Howe")]))
    [changed] = drawn.clock_changes
    assert (changed.day, changed.hours, changed.hours_text) == (
        date(2026, 10, 4),
        Fraction(47, 2),
        "23.5",
    )
    assert changed.title == "Sun 2026-10-04, 23.5 hours"


# -- statuses --------------------------------------------------------------------------


def test_excluded_below_floor_retracted_and_other_customers_outages_keep_their_status() -> None:
    docs = [
        contract(services=[service(min_downtime=600)]),
        *outage("O-COUNTED", "2026-10-02T10:00:00Z", "2026-10-02T11:00:00Z"),
        *outage("O-SHORT", "2026-10-06T10:00:00Z", "2026-10-06T10:05:00Z"),
        *outage("O-CAUSE", "2026-10-10T10:00:00Z", "2026-10-10T12:00:00Z"),
        ev(
            "outage.classified",
            "2026-10-10T13:00:00Z",
            {"outage_id": "O-CAUSE", "cause": "customer_caused", "reason": "their firewall"},
        ),
        *outage("O-FALSE", "2026-10-14T10:00:00Z", "2026-10-14T11:00:00Z"),
        ev(
            "outage.retracted",
            "2026-10-14T12:00:00Z",
            {"outage_id": "O-FALSE", "reason": "probe fault"},
        ),
        *outage("O-OTHER", "2026-10-18T10:00:00Z", "2026-10-18T11:00:00Z", customers=["K-9"]),
    ]
    doc = document(docs)
    drawn = timeline(doc)
    shown = marks(drawn, "outage")
    assert {k: m.status for k, m in shown.items()} == {
        "O-COUNTED": "counted",
        "O-SHORT": "below_floor",
        "O-CAUSE": "excluded",
        "O-FALSE": "retracted",
        "O-OTHER": "other_customers",
    }
    # The document's own reasons, with the status in words before them.
    by_id = {o["outage_id"]: o for o in doc["availability"]["outages"]}
    for ident, mark in shown.items():
        assert by_id[ident]["reason"].removeprefix(f"{mark.status_words}: ") in mark.label
    assert "Below the downtime floor" in shown["O-SHORT"].label
    assert shown["O-CAUSE"].label.startswith("Outage O-CAUSE, 100% impact, cause customer_caused")
    assert "Excluded" in shown["O-CAUSE"].label
    # Names on the chart carry a word when the outage does not simply count.
    # (where the lane has room for them: O-SHORT's would run into O-CAUSE, 4 days on).
    assert shown["O-OTHER"].name == "O-OTHER (other customers)"
    assert shown["O-COUNTED"].name == "O-COUNTED"
    assert shown["O-SHORT"].name is None


def test_maintenance_windows_are_excluded_not_excluded_or_cancelled_with_the_notice() -> None:
    docs = [
        contract(),
        maintenance(
            "M-NOTICED", "2026-10-01T00:00:00Z", "2026-10-05T10:00:00Z", "2026-10-05T11:00:00Z"
        ),
        maintenance(
            "M-LATE", "2026-10-09T22:00:00Z", "2026-10-10T10:00:00Z", "2026-10-10T11:00:00Z"
        ),
        maintenance(
            "M-OFF", "2026-10-01T00:00:00Z", "2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z"
        ),
        ev("maintenance.cancelled", "2026-10-02T00:00:00Z", {"maintenance_id": "M-OFF"}),
    ]
    shown = marks(timeline(document(docs)), "maintenance")
    assert {k: m.status for k, m in shown.items()} == {
        "M-NOTICED": "excluded",
        "M-LATE": "not_excluded",
        "M-OFF": "cancelled",
    }
    assert "announced only 12 h before it started; the terms require 48 h" in shown["M-LATE"].label
    assert "Not excluded (too little notice)" in shown["M-LATE"].label


# -- coverage, terms, horizon ----------------------------------------------------------


def test_a_pro_rated_row_marks_its_coverage_start_and_its_terms_version() -> None:
    drawn = timeline(document([contract(effective_from="2026-10-15", tz="Europe/Berlin")]))
    start = marks(drawn, "coverage")["start"]
    assert (start.start, start.end) == ("2026-10-14T22:00:00Z",) * 2  # 00:00 CEST
    assert start.status == "pro_rated"
    assert start.local_start == "Thu 2026-10-15 00:00 CEST (2026-10-14T22:00:00Z)"
    assert "end" not in marks(drawn, "coverage")
    terms = marks(drawn, "terms")["version-1"]
    assert terms.label.startswith("Terms version 1 from 2026-10-15")
    assert (
        terms.x
        == start.x
        == two_places(exact_x("2026-10-14T22:00:00Z", (drawn.window_start, drawn.window_end)))
    )
    [uncovered] = drawn.uncovered
    assert (uncovered.x, uncovered.x_end) == (Decimal("0.00"), start.x)


def test_an_amendment_in_force_from_the_first_of_the_month_is_a_terms_boundary() -> None:
    amended = ev(
        "contract.amended",
        "2026-09-20T00:00:00Z",
        {
            "contract_id": "C-1",
            "effective_from": "2026-10-01",
            "services": [service(target="99.5")],
        },
    )
    drawn = timeline(document([contract(), amended]))
    [terms] = marks(drawn, "terms").values()
    assert terms.id == "version-2"
    assert (terms.start, terms.x) == ("2026-10-01T00:00:00Z", Decimal("0.00"))
    assert terms.event_ids == (amended["event_id"],)
    assert marks(drawn, "coverage") == {}
    # A whole month under terms from before it has neither mark.
    assert timeline(document([contract()])).marks == ()


def test_an_ongoing_outage_ends_at_the_horizon_and_the_rest_is_not_measured() -> None:
    horizon = "2026-10-20T06:00:00Z"
    doc = document([contract(), *outage("O-1", "2026-10-19T18:00:00Z", None)], horizon=horizon)
    drawn = timeline(doc)
    o = marks(drawn, "outage")["O-1"]
    assert (o.end, o.ongoing, o.status) == (horizon, True, "counted")
    assert "12 h (43,200 s) so far, ongoing at the horizon" in o.label
    window = (drawn.window_start, drawn.window_end)
    assert o.x_end == drawn.horizon_x == two_places(exact_x(horizon, window))
    assert drawn.unmeasured is not None
    assert (drawn.unmeasured.x, drawn.unmeasured.x_end) == (o.x_end, Decimal(WIDTH))


# -- incidents -------------------------------------------------------------------------


def test_incidents_are_opened_responded_and_target_marks_in_business_time() -> None:
    office = {
        "targets": {"P1": "PT15M", "P2": "PT1H"},
        "business_hours": {"weekly": OFFICE_HOURS},
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    docs = [
        contract(tz="Europe/Berlin", services=[service(incident_response=office)]),
        # Fri 17:50 CEST: 10 min on Friday, the other 5 on Monday from 08:00.
        *incident("INC-1", "P1", "2026-10-16T15:50:00Z", "2026-10-19T06:20:00Z"),
        *incident("INC-2", "P2", "2026-10-21T09:00:00Z", "2026-10-21T09:25:00Z"),
        # Fri 31st 17:30 CET: its hour runs out on Monday 2 November, after the window.
        *incident("INC-3", "P2", "2026-10-30T16:30:00Z", None),
    ]
    doc = document(docs, horizon="2026-10-31T12:00:00Z")
    drawn = timeline(doc)
    opened = marks(drawn, "incident-opened")
    response = marks(drawn, "incident-response")
    target = marks(drawn, "incident-target")
    assert {k: m.status for k, m in opened.items()} == {
        "INC-1": "missed",
        "INC-2": "met",
        "INC-3": "pending",
    }
    assert set(response) == {"INC-1", "INC-2"}  # none yet for INC-3
    assert target["INC-1"].start == target["INC-1"].end == "2026-10-19T06:05:00Z"
    assert target["INC-1"].local_start == "Mon 2026-10-19 08:05 CEST (2026-10-19T06:05:00Z)"
    assert target["INC-2"].start == "2026-10-21T10:00:00Z"
    assert response["INC-1"].start == "2026-10-19T06:20:00Z"
    assert all(m.instant and m.width == 0 for m in [*opened.values(), *target.values()])
    # INC-3's target (Mon 2 Nov 08:30 CET) lies past the window: drawn at its end.
    assert target["INC-3"].start == "2026-11-02T07:30:00Z"
    assert (target["INC-3"].x, target["INC-3"].after) == (Decimal(WIDTH), True)
    # The target's events: the priority setting and the terms.
    [incident_1] = [i for i in doc["incident_response"]["incidents"] if i["incident_id"] == "INC-1"]
    assert target["INC-1"].event_ids == tuple(
        sorted({incident_1["priority_set_by"], *doc["terms"]["event_ids"]})
    )
    assert response["INC-1"].event_ids == (incident_1["first_response_event_id"],)
    assert "Missed: the first response came after" in opened["INC-1"].label
    # On the chart, the verdict is a word beside the incident, not only a colour.
    assert (opened["INC-1"].name, opened["INC-1"].name_left) == ("INC-1 (missed)", True)
    # Incidents take sub-lanes with room for their names, so every one is named.
    assert {m.name for m in opened.values()} == {"INC-1 (missed)", "INC-2 (met)", "INC-3 (pending)"}


# -- the partial's DOM contract --------------------------------------------------------


class _Dom(HTMLParser):
    """The elements of a page: (tag, attributes, the text inside the first <title>)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.stack: list[int] = []
        self.in_title: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), []))
        if tag == "title":
            self.in_title = len(self.elements) - 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = None

    def handle_data(self, data: str) -> None:
        if self.in_title is not None:
            self.elements[self.in_title][2].append(data)


def _rendered(drawn: Timeline) -> str:
    return ENVIRONMENT.get_template("timeline.html").render(timeline=drawn, as_of=None)


def test_the_partial_keeps_the_dom_contract_the_row_page_relies_on() -> None:
    office = {
        "targets": {"P1": "PT15M"},
        "business_hours": "24x7",
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    docs = [
        contract(
            tz="Australia/Sydney",
            effective_from="2026-10-10",
            services=[service(min_downtime=600, incident_response=office)],
        ),
        *outage("O-1", "2026-10-12T01:00:00Z", "2026-10-12T04:00:00Z", "50"),
        *outage("O-2", "2026-10-13T01:00:00Z", "2026-10-13T01:05:00Z"),
        maintenance("M-1", "2026-10-01T00:00:00Z", "2026-10-20T00:00:00Z", "2026-10-20T02:00:00Z"),
        *incident("INC-1", "P1", "2026-10-22T00:00:00Z", "2026-10-22T00:10:00Z"),
    ]
    drawn = timeline(document(docs))
    html = _rendered(drawn)
    # The CSP allows neither inline styles nor inline scripts.
    assert "style=" not in html
    assert "<script" not in html
    dom = _Dom()
    dom.feed(html)
    elements = dom.elements
    [figure] = [a for t, a, _ in elements if t == "figure"]
    assert figure["class"] == "timeline"
    [svg] = [a for t, a, _ in elements if t == "svg" and a.get("class") == "timeline-chart"]
    # The whole month's window, though the row is covered from the 10th only.
    assert (svg["data-window-start"], svg["data-window-end"]) == (
        "2026-09-30T14:00:00Z",
        "2026-10-31T13:00:00Z",
    )
    assert svg["viewbox"] == f"0 0 {WIDTH} {drawn.height}"
    assert svg["role"] == "list"
    assert svg["aria-label"] == drawn.summary
    groups = [
        (i, a)
        for i, (t, a, _) in enumerate(elements)
        if t == "g" and "mark" in (a.get("class") or "").split()
    ]
    assert len(groups) == len(drawn.marks) >= 8
    for (index, attributes), mark in zip(groups, drawn.marks, strict=True):
        assert attributes["class"] == f"mark mark-{mark.kind}"
        assert attributes["data-kind"] == mark.kind
        assert attributes["data-id"] == mark.id
        assert (attributes["data-start"], attributes["data-end"]) == (mark.start, mark.end)
        assert attributes["data-status"] == mark.status
        assert attributes["tabindex"] == "0"
        following = elements[index + 1 :]
        title = next(e for e in following if e[0] == "title")
        assert "".join(title[2]) == mark.label
        if mark.instant:
            assert any(t in ("line", "path", "circle", "rect") for t, _, _ in following[:4])
        else:
            bar = next(a for t, a, _ in following if t == "rect" and a.get("class") == "bar")
            assert (bar["x"], bar["width"]) == (str(mark.x), str(mark.width))
    kinds = {a["data-kind"] for _, a in groups}
    assert kinds == {
        "outage",
        "maintenance",
        "coverage",
        "terms",
        "incident-opened",
        "incident-response",
        "incident-target",
    }
    rows = [a for t, a, _ in elements if t == "tr" and "data-kind" in a]
    assert [(r["data-kind"], r["data-id"]) for r in rows] == [(m.kind, m.id) for m in drawn.marks]
    # The row says the mark's one-line label too, word for word.
    assert [r["title"] for r in rows] == [m.label for m in drawn.marks]
    [table] = [a for t, a, _ in elements if t == "table"]
    assert table["class"] == "data timeline-facts"
    links = [a["href"] for t, a, _ in elements if t == "a"]
    # A keyboard user may skip the chart's marks (one tab stop each) to the table.
    assert links[0] == f"#{table['id']}"
    assert {f"/web/events/{e}" for m in drawn.marks for e in m.event_ids} == set(links[1:])
    caption = html[html.index("<figcaption") : html.index("</figcaption>")]
    for words in ("October 2026", "Australia/Sydney", "AEST/AEDT", "that day has 23 hours"):
        assert words in caption


def test_names_beside_marks_never_cover_another_mark_or_name() -> None:
    # A crowded month: an outage every 20 hours, some short, some long.
    docs: list[dict[str, Any]] = [contract()]
    start = datetime(2026, 10, 1, 6, tzinfo=UTC)
    for n in range(36):
        begins = start + timedelta(hours=20 * n)
        ends = begins + timedelta(minutes=30 if n % 3 else 600)
        docs += outage(f"O-{n}", f"{begins:%Y-%m-%dT%H:%M:%SZ}", f"{ends:%Y-%m-%dT%H:%M:%SZ}")
    drawn = timeline(document(docs))
    named = [m for m in drawn.marks if m.name is not None]
    assert 0 < len(named) < len(drawn.marks)
    for mark in named:
        low, high = mark.name_span
        assert 0 <= low < high <= WIDTH
        for other in drawn.marks:
            if other is not mark and other.lane == mark.lane:
                assert other.x_end + 6 < low or other.x - 6 > high
                if other.name is not None and other.name_row == mark.name_row:
                    a, b = other.name_span
                    assert b < low or a > high


def test_an_outage_across_the_month_boundary_is_cut_at_the_window_edge() -> None:
    doc = document(
        [
            contract(),
            *outage("O-1", "2026-09-30T20:00:00Z", "2026-10-01T04:00:00Z"),
            *outage("O-2", "2026-10-31T22:00:00Z", "2026-11-01T02:00:00Z"),
        ]
    )
    shown = marks(timeline(doc), "outage")
    first, last = shown["O-1"], shown["O-2"]
    # The mark keeps the outage's own instants; only its drawing is cut at the edge.
    assert (first.start, first.before, first.after) == ("2026-09-30T20:00:00Z", True, False)
    assert (first.x, first.x_end) == (Decimal("0.00"), two_places(Fraction(1000 * 4, 744)))
    assert (last.end, last.before, last.after) == ("2026-11-01T02:00:00Z", False, True)
    assert last.x_end == Decimal(WIDTH)
    assert first.duration == "8 h (28,800 s)"
