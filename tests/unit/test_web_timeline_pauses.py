"""The row page's timeline draws each incident's pauses, its resolution and its
resolution target (sla-math §11) on the incident's own lane, with the same words in the
table under the chart."""

from __future__ import annotations

from typing import Any

from consumers.http.web.timeline import timeline
from tests.builders import OFFICE_HOURS, contract, ev, incident, service
from tests.unit.test_web_timeline import _Dom, _rendered, document, marks

TERMS = {
    "targets": {"P1": "PT15M", "P2": "PT1H"},
    "business_hours": {"weekly": OFFICE_HOURS},
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    "resolution_targets": {"P2": "PT8H"},
    "resolution_credit_tiers": [{"below_percent": "100", "credit_percent": "10"}],
}


def pause(iid: str, at: str, reason: str = "waiting on the customer") -> dict[str, Any]:
    return ev("incident.paused", at, {"incident_id": iid, "at": at, "reason": reason})


def resume(iid: str, at: str) -> dict[str, Any]:
    return ev("incident.resumed", at, {"incident_id": iid, "at": at})


def resolve(iid: str, at: str) -> dict[str, Any]:
    return ev("incident.resolved", at, {"incident_id": iid, "resolved_at": at})


def example_12_in_october(terms: dict[str, Any] = TERMS) -> list[dict[str, Any]]:
    """Worked example 12 moved to Mon 5 / Tue 6 October 2026 (UTC, Mon-Fri 08-18)."""
    return [
        contract(services=[service(incident_response=terms)]),
        *incident("INC-1", "P2", "2026-10-05T09:00:00Z", "2026-10-05T09:30:00Z"),
        pause("INC-1", "2026-10-05T11:00:00Z"),
        resume("INC-1", "2026-10-06T10:00:00Z"),
        resolve("INC-1", "2026-10-06T16:00:00Z"),
        # Paused on Thursday and never resumed: the pause runs to the horizon.
        *incident("INC-2", "P2", "2026-10-08T09:00:00Z", None),
        pause("INC-2", "2026-10-08T10:00:00Z", "customer away"),
    ]


def test_pauses_resolution_and_its_target_are_drawn_on_the_incident_s_lane() -> None:
    drawn = timeline(document(example_12_in_october(), horizon="2026-10-20T00:00:00Z"))
    opened = marks(drawn, "incident-opened")
    paused = marks(drawn, "incident-paused")
    resolved = marks(drawn, "incident-resolved")
    target = marks(drawn, "incident-resolution-target")
    first = paused["INC-1 pause 1"]
    assert (first.start, first.end) == ("2026-10-05T11:00:00Z", "2026-10-06T10:00:00Z")
    assert first.lane == opened["INC-1"].lane
    assert first.status == "met"
    assert "removed 9 h (32,400 s) of business time" in first.label
    assert '"waiting on the customer"' in first.label
    assert not first.ongoing
    # The band lies across the middle of the lane, not at its foot.
    lane = drawn.lanes[first.lane]
    assert first.y > lane.y
    assert first.y + first.height < lane.y + lane.height
    # Resolved at the very instant its 8 business hours less the pause ran out: met.
    assert resolved["INC-1"].start == "2026-10-06T16:00:00Z"
    assert target["INC-1"].start == "2026-10-06T16:00:00Z"
    assert resolved["INC-1"].status == target["INC-1"].status == "met"
    # INC-2 is still paused at the horizon: its pause is ongoing, no target, pending.
    second = paused["INC-2 pause 1"]
    assert second.ongoing
    assert second.end == "2026-10-20T00:00:00Z"
    assert second.status == "pending"
    assert "still paused" in second.label
    assert "INC-2" not in resolved
    assert "INC-2" not in target
    assert "1 incident pause" not in drawn.summary
    assert "2 incident pauses" in drawn.summary


def test_the_table_under_the_chart_says_every_pause_in_words() -> None:
    drawn = timeline(document(example_12_in_october(), horizon="2026-10-20T00:00:00Z"))
    html = _rendered(drawn)
    dom = _Dom()
    dom.feed(html)
    rows = [a for t, a, _ in dom.elements if t == "tr" and "data-kind" in a]
    paused_rows = [r for r in rows if r["data-kind"] == "incident-paused"]
    assert [r["data-id"] for r in paused_rows] == ["INC-1 pause 1", "INC-2 pause 1"]
    assert "Paused (resolution clock stopped)" in html
    assert "Resolution target" in html
    assert "band of upright strokes" in html  # the legend
    assert "style=" not in html
    groups = [a for t, a, _ in dom.elements if t == "g" and a.get("data-kind") == "incident-paused"]
    assert len(groups) == 2


def test_without_resolution_targets_nothing_of_section_11_is_drawn() -> None:
    plain = {k: v for k, v in TERMS.items() if not k.startswith("resolution")}
    drawn = timeline(document(example_12_in_october(plain), horizon="2026-10-20T00:00:00Z"))
    kinds = drawn.kinds()
    assert "incident-opened" in kinds
    assert not kinds & {"incident-paused", "incident-resolved", "incident-resolution-target"}
