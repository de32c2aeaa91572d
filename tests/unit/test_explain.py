"""The derivation `explain` shows, on the worked examples of sla-math.md (pure logic)."""

from __future__ import annotations

import json
from collections import defaultdict
from fractions import Fraction
from typing import Any

import pytest

from ledger.canonical import canonical_json
from ledger.contracts import ContractState, fold_contract
from ledger.events import InboundEvent, RecordedEvent
from ledger.inbound import validate_envelope
from ledger.incidents import fold_incident
from ledger.outages import fold_maintenance, fold_outage
from ledger.period_rows import contract_rows
from ledger.periods import Period, to_us
from ledger.timeformat import parse_rfc3339
from projections.queries.explain.document import RowNotFoundError, explain_row, locate
from tests.builders import contract, ev, maintenance, outage, service

MARCH = Period(2026, 3)
APRIL_2 = to_us(parse_rfc3339("2026-04-02T00:00:00Z"))
RECORDED = parse_rfc3339("2026-04-01T12:00:00Z")
P1_OFFICE = {
    "targets": {"P1": "PT15M"},
    "business_hours": {
        "weekly": {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    },
    "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
}


def explained(
    documents: list[dict[str, Any]], service_id: str = "crm", horizon: int = APRIL_2
) -> dict[str, Any]:
    """Fold the documents as the store would, explain the row, and check it is the report's."""
    events = [validate_envelope(d) for d in documents]
    by_subject: dict[tuple[str, str], list[InboundEvent]] = defaultdict(list)
    for event in events:
        by_subject[(event.subject_kind, event.subject_id)].append(event)
    folded = [fold_contract(v) for (k, _), v in by_subject.items() if k == "contract"]
    contracts = [c for c in folded if c is not None]
    outages = [fold_outage(v) for (k, _), v in by_subject.items() if k == "outage"]
    windows = [fold_maintenance(v) for (k, _), v in by_subject.items() if k == "maintenance"]
    incidents = [fold_incident(v) for (k, _), v in by_subject.items() if k == "incident"]
    state: ContractState | None = contracts[0] if contracts else None
    location = locate(state, "C-1", service_id, MARCH)
    assert state is not None
    histories = {key: [RecordedEvent(e, RECORDED) for e in evs] for key, evs in by_subject.items()}
    document = explain_row(
        state, location, MARCH, outages, windows, incidents, horizon, histories=histories
    )
    [row] = [
        r
        for r in contract_rows(state, MARCH, outages, windows, incidents, horizon, None)
        if r.service.service_id == service_id
    ]
    assert document["row"] == row.as_dict()
    return document


def test_worked_example_1_shows_the_arithmetic_and_the_tier_chosen() -> None:
    doc = explained([contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")])
    availability = doc["availability"]
    assert availability["downtime"]["arithmetic"] == "D = 3,000 s × 100% = 3,000 s"
    assert availability["availability_percent"] == {
        "fraction": "111475/1116",
        "digits": "99.8879928315…",
        "rounded_4dp": "99.8880",
    }
    assert availability["arithmetic"] == (
        "availability = 100 × (M − D) / M = 100 × (2,678,400 s − 3,000 s) / 2,678,400 s"
        " = 99.8879928315…% (shown as 99.8880%)"
    )
    tier = availability["tier"]
    assert tier["chosen"] == {
        "below_percent": "99.9",
        "credit_percent": "10",
        "value_is_below": True,
    }
    assert tier["reason"] == (
        'the tier "below 99.9% → 10% credit" applies: availability 99.8879928315…% is below '
        "99.9%, and no tier with a lower threshold matches"
    )
    assert tier["next_lower_tier"] == (
        'the tier "below 99.0% → 25% credit" does not apply: availability 99.8879928315…% is '
        "not below 99.0%"
    )
    assert tier["next_higher_tier"] is None
    assert [t["value_is_below"] for t in tier["tiers"]] == [False, False, True]
    assert availability["met"] is False
    assert doc["money"]["credit_amount"]["rounded"] == "100.00"
    assert doc["row"]["credit_amount"] == "100.00"
    assert len(doc["basis_sha256"]) == 64


def test_worked_example_3_half_impact_is_half_the_time() -> None:
    doc = explained(
        [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", "50")]
    )
    downtime = doc["availability"]["downtime"]
    assert downtime["arithmetic"] == "D = 3,000 s × 50% = 1,500 s"
    assert downtime["downtime_seconds"] == "1500"
    [run] = downtime["runs"]
    [segment] = run["segments"]
    assert (segment["weight_percent"], segment["weighted_seconds"]) == ("50", "1500")
    assert segment["outage_ids"] == ["O-1"]
    assert doc["availability"]["availability_percent"]["digits"] == "99.9439964157…"


def test_worked_example_4_overlapping_outages_count_the_highest_impact_once() -> None:
    doc = explained(
        [
            contract(),
            *outage("O-A", "2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z", "40"),
            *outage("O-B", "2026-03-10T10:30:00Z", "2026-03-10T12:00:00Z", "100"),
        ]
    )
    downtime = doc["availability"]["downtime"]
    assert downtime["arithmetic"] == "D = 1,800 s × 40% + 5,400 s × 100% = 6,120 s"
    [run] = downtime["runs"]
    assert [(s["interval"]["seconds"], s["outage_ids"]) for s in run["segments"]] == [
        ("1800", ["O-A"]),
        ("5400", ["O-B"]),
    ]
    assert run["interval"] == {
        "start": "2026-03-10T10:00:00Z",
        "end": "2026-03-10T12:00:00Z",
        "seconds": "7200",
    }


def _maintenance_case(announced: str) -> dict[str, Any]:
    return explained(
        [
            contract(),
            maintenance("M-1", announced, "2026-03-12T02:00:00Z", "2026-03-12T04:00:00Z"),
            *outage("O-1", "2026-03-12T01:00:00Z", "2026-03-12T03:00:00Z"),
        ]
    )


def test_worked_example_5_maintenance_announced_72_hours_ahead_is_excluded() -> None:
    doc = _maintenance_case("2026-03-09T02:00:00Z")
    availability = doc["availability"]
    [window] = availability["maintenance"]
    assert window["notice_given_seconds"] == "259200"
    assert window["notice_required_seconds"] == "172800"
    assert window["excluded"] is True
    assert window["reason"] == (
        "announced 72 h before it started; the terms require 48 h: excluded from measurement"
    )
    assert window["announcement_event_id"] in window["event_ids"]
    assert availability["exclusions"]["excluded_seconds"] == "7200"
    assert availability["measured_seconds"] == "2671200"
    assert availability["downtime"]["downtime_seconds"] == "3600"
    [o] = availability["outages"]
    assert o["clipped"][0]["seconds"] == "7200"
    [part] = o["excluded"]
    assert (part["interval"]["start"], part["interval"]["end"], part["source"]) == (
        "2026-03-12T02:00:00Z",
        "2026-03-12T03:00:00Z",
        "maintenance",
    )
    assert o["counted_seconds"] == "3600"


def test_worked_example_5_maintenance_announced_24_hours_ahead_counts() -> None:
    doc = _maintenance_case("2026-03-11T02:00:00Z")
    availability = doc["availability"]
    [window] = availability["maintenance"]
    assert window["notice_given_seconds"] == "86400"
    assert window["excluded"] is False
    assert "only 24 h" in window["reason"]
    assert availability["exclusions"]["excluded_seconds"] == "0"
    assert availability["downtime"]["downtime_seconds"] == "7200"
    assert availability["outages"][0]["excluded"] == []


def test_the_floor_drops_a_short_outage_and_keeps_a_long_one() -> None:
    doc = explained(
        [
            contract(services=[service(min_downtime=60)]),
            *outage("O-short", "2026-03-10T10:00:00Z", "2026-03-10T10:00:30Z"),
            *outage("O-long", "2026-03-11T10:00:00Z", "2026-03-11T10:02:00Z"),
        ]
    )
    downtime = doc["availability"]["downtime"]
    assert downtime["floor_seconds"] == "60"
    assert [(r["interval"]["seconds"], r["kept"]) for r in downtime["runs"]] == [
        ("30", False),
        ("120", True),
    ]
    assert (
        downtime["runs"][0]["reason"] == "dropped: 30 s is shorter than the floor of 1 min (60 s)"
    )
    assert downtime["runs"][1]["reason"] == (
        "counted: 2 min (120 s) is at least the floor of 1 min (60 s)"
    )
    assert downtime["runs"][0]["downtime_seconds"] == "0"
    assert downtime["arithmetic"] == "D = 120 s × 100% = 120 s"
    assert doc["row"]["downtime_seconds"] == "120"
    # A dropped interval contributes no downtime: neither its segments nor the text say so.
    [dropped_segment] = downtime["runs"][0]["segments"]
    assert dropped_segment["weighted_seconds"] == "0"
    text = _text(doc)
    at = next(i for i, line in enumerate(text) if "dropped: 30 s is shorter" in line)
    segment_line = text[at + 1]
    assert "of downtime" not in segment_line
    assert segment_line.strip().endswith(
        "at 100% impact (outage O-short): dropped with its interval, no downtime."
    )
    kept_at = next(i for i, line in enumerate(text) if "counted: 2 min (120 s)" in line)
    assert "impact = 2 min = 120 s of downtime" in text[kept_at + 1]


def test_a_corrected_outage_end_shows_raw_correction_and_corrected_interval() -> None:
    amended = ev(
        "outage.amended",
        "2026-04-03T00:00:00Z",
        {"outage_id": "O-1", "ended_at": "2026-03-10T11:40:00Z", "reason": "post-incident review"},
    )
    doc = explained(
        [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z"), amended]
    )
    [o] = doc["availability"]["outages"]
    assert (o["raw"]["end"], o["raw"]["seconds"]) == ("2026-03-10T10:50:00Z", "3000")
    assert amended["event_id"] not in o["raw"]["event_ids"]
    [correction] = o["corrections"]
    assert correction == {
        "event_id": amended["event_id"],
        "type": "outage.amended",
        "occurred_at": "2026-04-03T00:00:00Z",
        "recorded_at": "2026-04-01T12:00:00Z",
        "change": "amended: end changed to 2026-03-10T11:40:00Z",
        "reason": "post-incident review",
    }
    assert (o["corrected"]["end"], o["corrected"]["seconds"]) == ("2026-03-10T11:40:00Z", "6000")
    assert amended["event_id"] in o["event_ids"]
    assert doc["availability"]["downtime"]["downtime_seconds"] == "6000"


def test_an_outage_with_an_excluded_cause_is_excluded_with_its_classification() -> None:
    classified = ev(
        "outage.classified",
        "2026-03-11T00:00:00Z",
        {"outage_id": "O-1", "cause": "customer_caused", "reason": "their DNS"},
    )
    doc = explained(
        [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z"), classified]
    )
    availability = doc["availability"]
    [o] = availability["outages"]
    assert (o["status"], o["cause"], o["counted"]) == ("excluded", "customer_caused", [])
    [part] = o["excluded"]
    assert part["event_ids"] == [classified["event_id"]]
    assert availability["exclusions"]["excluded_seconds"] == "3000"
    assert availability["downtime"]["downtime_seconds"] == "0"
    assert doc["row"]["availability_percent"] == "100.0000"


def test_a_retracted_outage_is_shown_but_does_not_count() -> None:
    retracted = ev("outage.retracted", "2026-03-10T12:00:00Z", {"outage_id": "O-1", "reason": "x"})
    doc = explained(
        [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z"), retracted]
    )
    [o] = doc["availability"]["outages"]
    assert (o["status"], o["counted"]) == ("retracted", [])
    assert doc["availability"]["downtime"]["runs"] == []
    assert retracted["event_id"] not in doc["basis"]["event_ids"]


def test_availability_exactly_at_a_threshold_is_not_below_it() -> None:
    # 2,678.4 s of a 2,678,400 s month: exactly 99.9%, which is not < 99.9.
    doc = explained([contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:44:38.4Z")])
    availability = doc["availability"]
    assert availability["availability_percent"]["fraction"] == "999/10"
    assert availability["availability_percent"]["digits"] == "99.9"
    tier = availability["tier"]
    assert tier["chosen"] is None
    assert tier["credit_percent"] == "0"
    assert tier["reason"] == (
        "no tier applies: availability 99.9% is not below any tier threshold (the highest is "
        "99.9%), so the availability credit is 0%"
    )
    assert availability["met_reason"] == "met: 99.9% is at or above the target 99.9%"
    assert availability["met"] is True
    assert doc["row"]["credit_amount"] == "0.00"


def test_availability_exactly_99_is_in_the_ten_percent_tier_not_the_25() -> None:
    doc = explained([contract(), *outage("O-1", "2026-03-10T00:00:00Z", "2026-03-10T07:26:24Z")])
    tier = doc["availability"]["tier"]
    assert doc["availability"]["availability_percent"]["digits"] == "99"
    assert tier["chosen"]["below_percent"] == "99.9"
    assert tier["next_lower_tier"] == (
        'the tier "below 99.0% → 25% credit" does not apply: availability 99% is not below 99.0%'
    )
    assert doc["row"]["credit_amount"] == "100.00"


def test_partial_coverage_pro_rates_the_fee_exactly_then_rounds_half_up() -> None:
    doc = explained(
        [
            contract(effective_from="2026-03-16"),
            *outage("O-1", "2026-03-20T10:00:00Z", "2026-03-20T10:50:00Z"),
        ]
    )
    assert doc["coverage"]["pro_rated"] is True
    assert doc["coverage"]["covered"]["seconds"] == "1382400"
    money = doc["money"]
    assert money["fee_basis"] == {
        "fraction": "16000/31",
        "digits": "516.1290322580…",
        "rounded": "516.13",
    }
    assert money["arithmetic_fee_basis"] == (
        "fee basis = 1000.00 USD × covered 1,382,400 s / window 2,678,400 s"
        " = 516.1290322580… → 516.13 USD"
    )
    # 3,000 s of 1,382,400 s measured: 99.78%, the 10% tier; 10% of the unrounded basis.
    assert money["credit_amount"]["fraction"] == "1600/31"
    assert money["credit_amount"]["rounded"] == "51.61"
    assert doc["row"]["fee_basis"] == "516.13"
    assert doc["row"]["credit_amount"] == "51.61"


def test_worked_example_8_incident_business_time_priority_and_status() -> None:
    documents = _incident_8_documents("2026-03-16T08:12:00Z")
    _, opened, responded = documents
    doc = explained(documents)
    response = doc["incident_response"]
    [incident] = response["incidents"]
    assert incident["priority_used"] == "P1"
    assert incident["priority_set_by"] == opened["event_id"]
    assert incident["first_response_event_id"] == responded["event_id"]
    assert (incident["business_seconds"], incident["target_seconds"]) == ("1020", "900")
    assert incident["status"] == "missed"
    assert incident["reason"] == (
        "first response after 17 min of business time, target 15 min: missed"
    )
    assert (response["met"], response["missed"], response["pending"]) == (0, 1, 0)
    assert response["tier"]["credit_percent"] == "5"
    assert doc["money"]["arithmetic_percent"] == "credit = min(0% + 5% = 5%, cap 100%) = 5%"


def test_the_credit_percent_is_capped() -> None:
    doc = explained(
        [
            contract(services=[service(cap="20", incident_response=P1_OFFICE)]),
            *outage("O-1", "2026-03-10T00:00:00Z", "2026-03-12T00:00:00Z"),
        ]
    )
    money = doc["money"]
    assert (money["sum_percent"], money["cap_percent"], money["capped"]) == ("100", "20", True)
    assert money["credit_percent"] == "20"
    assert doc["row"]["credit_amount"] == "200.00"


@pytest.mark.parametrize(
    ("documents", "contract_id", "service_id", "message"),
    [
        ([], "C-1", "crm", "contract C-1 is not known"),
        ([contract()], "C-1", "erp", "service erp is not in contract C-1's terms for 2026-03"),
        ([contract(effective_from="2026-04-01")], "C-1", "crm", "has no coverage in 2026-03"),
    ],
)
def test_a_row_that_does_not_exist_is_a_one_line_error(
    documents: list[dict[str, Any]], contract_id: str, service_id: str, message: str
) -> None:
    events = [validate_envelope(d) for d in documents]
    state = fold_contract(events) if events else None
    with pytest.raises(RowNotFoundError, match=message) as raised:
        locate(state, contract_id, service_id, MARCH)
    assert "\n" not in str(raised.value)


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value]


def test_the_document_is_deterministic_and_holds_no_binary_floats() -> None:
    documents = [
        contract(),
        *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", "50"),
        maintenance("M-1", "2026-03-09T02:00:00Z", "2026-03-12T02:00:00Z", "2026-03-12T04:00:00Z"),
    ]
    first, second = explained(documents), explained(list(reversed(documents)))
    assert canonical_json(first) == canonical_json(second)
    assert json.loads(json.dumps(first)) == first
    leaves = _walk(first)
    assert not any(isinstance(v, float) for v in leaves)
    assert "2026-03-12T02:00:00Z" in leaves


# -- the text an SLA manager reads (rendered from the same document) -------------------


def _text(doc: dict[str, Any]) -> list[str]:
    from consumers.cli.explain_text import render_text

    return render_text(doc).splitlines()


def _incident_8_documents(responded_at: str | None) -> list[dict[str, Any]]:
    """Worked example 8: a P1 opened Friday 17:55, office hours; answered or not."""
    opened = ev(
        "incident.opened",
        "2026-03-13T17:55:00Z",
        {
            "incident_id": "INC-8",
            "contract_id": "C-1",
            "service_id": "crm",
            "priority": "P1",
            "opened_at": "2026-03-13T17:55:00Z",
        },
    )
    documents = [contract(services=[service(incident_response=P1_OFFICE)]), opened]
    if responded_at is not None:
        documents.append(
            ev(
                "incident.responded",
                responded_at,
                {"incident_id": "INC-8", "responded_at": responded_at},
            )
        )
    return documents


def _incident_8(responded_at: str | None, horizon: int = APRIL_2) -> dict[str, Any]:
    return explained(_incident_8_documents(responded_at), horizon=horizon)


def test_an_incident_says_when_it_was_answered_and_which_business_hours_counted() -> None:
    doc = _incident_8("2026-03-16T08:12:00Z")
    response = doc["incident_response"]
    assert response["business_hours_text"] == "Mon–Fri 08:00–18:00 UTC, no holidays listed"
    [incident] = response["incidents"]
    assert incident["opened_at_local"] == "Fri 2026-03-13 17:55 UTC (2026-03-13T17:55:00Z)"
    assert incident["first_response_at"] == "2026-03-16T08:12:00Z"
    assert incident["first_response_at_local"] == "Mon 2026-03-16 08:12 UTC (2026-03-16T08:12:00Z)"
    assert (incident["business_text"], incident["target_text"]) == (
        "17 min (1,020 s)",
        "15 min (900 s)",
    )
    assert [(p["local"], p["seconds"]) for p in incident["business_intervals"]] == [
        ("Fri 2026-03-13 17:55–18:00 UTC", "300"),
        ("Mon 2026-03-16 08:00–08:12 UTC", "720"),
    ]
    # 5 min on Friday and 10 on Monday morning: the last instant a response still met it.
    assert incident["target_at"] == "2026-03-16T08:10:00Z"
    assert incident["target_at_local"] == "Mon 2026-03-16 08:10 UTC (2026-03-16T08:10:00Z)"
    assert incident["verdict"] == (
        "missed: the first response came after 17 min (1,020 s) of business time, "
        "2 min (120 s) over the P1 target of 15 min (900 s)"
    )
    text = _text(doc)
    start = text.index(next(line for line in text if line.startswith("INC-8: ")))
    assert text[start].startswith(f"INC-8: {incident['verdict']}.  [events: ")
    assert text[start + 1 : start + 7] == [
        f"    priority used: P1 (set by event {incident['priority_set_by']}); "
        "its target: 15 min (900 s).",
        "    opened:         Fri 2026-03-13 17:55 UTC (2026-03-13T17:55:00Z).",
        "    target reached: Mon 2026-03-16 08:10 UTC (2026-03-16T08:10:00Z) "
        "(a first response by then meets it).",
        "    first response: Mon 2026-03-16 08:12 UTC (2026-03-16T08:12:00Z) "
        f"(event {incident['first_response_event_id']}).",
        "    business hours: Mon–Fri 08:00–18:00 UTC, no holidays listed.",
        "    business time counted: Fri 2026-03-13 17:55–18:00 UTC (5 min = 300 s); "
        "Mon 2026-03-16 08:00–08:12 UTC (12 min = 720 s); in total 17 min (1,020 s).",
    ]


def test_an_unanswered_incident_is_counted_up_to_the_horizon() -> None:
    horizon = to_us(parse_rfc3339("2026-03-16T08:10:00Z"))
    doc = _incident_8(None, horizon=horizon)
    [incident] = doc["incident_response"]["incidents"]
    assert (incident["status"], incident["first_response_at"]) == ("pending", None)
    assert incident["measured_to_at"] == "2026-03-16T08:10:00Z"
    # The horizon is the target instant itself: still pending (not yet over the target),
    # and a microsecond later, with no response, it is missed.
    assert incident["target_at"] == incident["measured_to_at"]
    later = _incident_8(None, horizon=horizon + 1)["incident_response"]["incidents"][0]
    assert (later["status"], later["target_at"]) == ("missed", incident["target_at"])
    assert incident["verdict"].startswith(
        "pending: no response yet: 15 min (900 s) of business time had passed by the horizon, "
        "still within the P1 target of 15 min (900 s)"
    )
    assert (
        "    first response: none yet; counted up to the horizon "
        "Mon 2026-03-16 08:10 UTC (2026-03-16T08:10:00Z)." in _text(doc)
    )


def test_a_retracted_outage_says_once_by_which_event_and_why_and_nothing_more() -> None:
    started, resolved = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")
    retracted = ev(
        "outage.retracted", "2026-03-10T12:00:00Z", {"outage_id": "O-1", "reason": "probe fault"}
    )
    doc = explained([contract(), started, resolved, retracted])
    [o] = doc["availability"]["outages"]
    assert o["reason"] == (
        f'retracted by event {retracted["event_id"]} ("probe fault"): it does not count at all'
    )
    assert o["retraction"] == {
        "event_id": retracted["event_id"],
        "occurred_at": "2026-03-10T12:00:00Z",
        "recorded_at": "2026-04-01T12:00:00Z",
        "reason": "probe fault",
    }
    text = _text(doc)
    start = text.index(next(line for line in text if line.startswith("O-1: ")))
    block = text[start : text.index("Excluded time")]
    assert block[0].startswith(f"O-1: {o['reason']}.  [events: ")
    assert block[1:] == [
        f"    as first reported: started 2026-03-10T10:00:00Z (event {started['event_id']}), "
        f"resolved 2026-03-10T10:50:00Z (event {resolved['event_id']}): 50 min (3,000 s) "
        "at 100% impact.",
        "    retracted at 2026-03-10T12:00:00Z (recorded 2026-04-01T12:00:00Z): "
        "nothing of it is measured.",
        "",
    ]
    assert sum(line.count("retracted") for line in text) == 2  # the verdict and its date


def test_a_counted_outage_says_at_which_impact_it_counts_without_stutter() -> None:
    started, resolved = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", "50")
    amended = ev(
        "outage.amended",
        "2026-04-03T00:00:00Z",
        {"outage_id": "O-1", "ended_at": "2026-03-10T11:40:00Z", "reason": "review"},
    )
    doc = explained([contract(), started, resolved, amended])
    [o] = doc["availability"]["outages"]
    assert (o["status"], o["reason"]) == ("counted", "counts as downtime at 50% impact")
    assert (o["raw"]["started_event_id"], o["raw"]["resolved_event_id"]) == (
        started["event_id"],
        resolved["event_id"],
    )
    text = _text(doc)
    start = text.index(next(line for line in text if line.startswith("O-1: ")))
    assert text[start].startswith("O-1: counts as downtime at 50% impact.  [events: ")
    assert text[start + 1 : start + 5] == [
        f"    as first reported: started 2026-03-10T10:00:00Z (event {started['event_id']}), "
        f"resolved 2026-03-10T10:50:00Z (event {resolved['event_id']}): 50 min (3,000 s) "
        "at 50% impact.",
        f"    correction 1 of 1 (event {amended['event_id']}, occurred 2026-04-03T00:00:00Z, "
        "recorded 2026-04-01T12:00:00Z): amended: end changed to 2026-03-10T11:40:00Z; "
        'reason given: "review".',
        "    after the corrections: 2026-03-10T10:00:00Z to 2026-03-10T11:40:00Z "
        "(1 h 40 min = 6,000 s), 50% impact.",
        "    counted as down: 2026-03-10T10:00:00Z to 2026-03-10T11:40:00Z "
        "(1 h 40 min = 6,000 s) at 50% impact (overlaps and the floor: see Downtime).",
    ]
    assert not any("counted: counted" in line or "clipped" in line for line in text)
    assert "Downtime: D = 6,000 s × 50% = 3,000 s (50 min)." in text


def test_business_hours_are_written_as_people_write_them() -> None:
    from projections.queries.explain.wording import business_hours_text

    office = {
        "weekly": {
            **{d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [["09:00", "12:00"]],
        },
        "holidays": ["2026-12-25", "2026-10-03"],
    }
    assert business_hours_text(office, "Europe/Berlin") == (
        "Mon–Fri 08:00–18:00; Sat 09:00–12:00 Europe/Berlin, minus holidays 2026-10-03, 2026-12-25"
    )
    assert business_hours_text("24x7", "UTC") == "24x7 (every hour of every day counts)"


def _headline(text_lines: list[str], outage_id: str) -> str:
    return next(line for line in text_lines if line.startswith(f"{outage_id}: "))


def test_an_outage_under_the_floor_is_not_said_to_count_in_its_headline() -> None:
    doc = explained(
        [
            contract(services=[service(min_downtime=60)]),
            *outage("O-short", "2026-03-10T10:00:00Z", "2026-03-10T10:00:30Z"),
            *outage("O-long", "2026-03-11T10:00:00Z", "2026-03-11T10:02:00Z"),
            # Two short outages back to back make one down interval over the floor.
            *outage("O-a", "2026-03-12T10:00:00Z", "2026-03-12T10:00:40Z"),
            *outage("O-b", "2026-03-12T10:00:40Z", "2026-03-12T10:01:20Z", "50"),
        ]
    )
    by_id = {o["outage_id"]: o for o in doc["availability"]["outages"]}
    short = by_id["O-short"]
    assert short["status"] == "below_floor"
    assert short["counted"] == []
    assert short["counted_seconds"] == "0"
    assert [s["seconds"] for s in short["below_floor"]] == ["30"]
    assert "shorter than the floor of 1 min (60 s)" in short["reason"]
    assert [by_id[o]["status"] for o in ("O-long", "O-a", "O-b")] == ["counted"] * 3
    # Headline and body agree: what the outages say counts is what Downtime keeps.
    kept = [r for r in doc["availability"]["downtime"]["runs"] if r["kept"]]
    counted = sum(Fraction(o["counted_seconds"]) for o in by_id.values())
    assert counted == sum(Fraction(r["interval"]["seconds"]) for r in kept)
    text = _text(doc)
    assert "counts as downtime" not in _headline(text, "O-short")
    assert any("dropped under the floor" in line for line in text)
    assert "counts as downtime at 100% impact" in _headline(text, "O-long")


def test_an_outage_partly_under_the_floor_counts_only_its_kept_part() -> None:
    doc = explained(
        [
            contract(services=[service(min_downtime=600, notice="PT1H")]),
            maintenance(
                "M-1", "2026-03-01T00:00:00Z", "2026-03-10T10:05:00Z", "2026-03-10T10:50:00Z"
            ),
            # 5 min before the maintenance (under the 10 min floor), 20 min after it.
            *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T11:10:00Z"),
        ]
    )
    [o] = doc["availability"]["outages"]
    assert o["status"] == "counted"
    assert [s["seconds"] for s in o["counted"]] == ["1200"]
    assert [s["seconds"] for s in o["below_floor"]] == ["300"]
    assert o["reason"].endswith(
        "less the parts that fall in excluded time and the parts in down intervals under the floor"
    )
    assert doc["row"]["downtime_seconds"] == "1200"


def test_outages_of_other_customers_are_listed_with_why_they_do_not_count() -> None:
    mine = outage("O-mine", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", customers=["K-1"])
    theirs = outage("O-theirs", "2026-03-11T10:00:00Z", "2026-03-11T12:00:00Z", customers=["K-2"])
    doc = explained([contract(), *mine, *theirs])
    by_id = {o["outage_id"]: o for o in doc["availability"]["outages"]}
    other = by_id["O-theirs"]
    assert other["status"] == "other_customers"
    assert other["applies_to_customer"] is False
    assert other["reason"] == (
        "does not count: it was reported for other customers of the service only, not for K-1"
    )
    assert "K-2" not in "\n".join(_text(doc))  # whom it concerned is theirs to know
    assert other["counted"] == []
    # It fed nothing: not the availability figure, not the basis.
    assert not set(other["event_ids"]) & set(doc["availability"]["event_ids"])
    assert not set(other["event_ids"]) & set(doc["basis"]["event_ids"])
    assert by_id["O-mine"]["status"] == "counted"
    assert doc["row"]["downtime_seconds"] == "3000"


def test_outages_outside_the_coverage_or_after_the_horizon_say_so() -> None:
    horizon = to_us(parse_rfc3339("2026-03-20T00:00:00Z"))
    doc = explained(
        [
            contract(effective_from="2026-03-05"),
            *outage("O-before", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"),
            *outage("O-later", "2026-03-25T10:00:00Z", "2026-03-25T11:00:00Z"),
        ],
        horizon=horizon,
    )
    by_id = {o["outage_id"]: o for o in doc["availability"]["outages"]}
    assert by_id["O-before"]["status"] == "outside"
    assert (
        "outside the measured range, the contract's coverage up to the horizon ("
        in (by_id["O-before"]["reason"])
    )
    assert by_id["O-later"]["status"] == "outside"
    assert by_id["O-later"]["reason"] == (
        "does not count yet: it starts after the horizon 2026-03-20T00:00:00Z"
    )


def test_an_outage_overlapped_by_a_higher_impact_says_whose_impact_counts() -> None:
    doc = explained(
        [
            contract(),
            *outage("O-A", "2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z", "40"),
            *outage("O-B", "2026-03-10T10:30:00Z", "2026-03-10T12:00:00Z", "100"),
            *outage("O-C", "2026-03-10T10:40:00Z", "2026-03-10T10:50:00Z", "20"),
        ]
    )
    by_id = {o["outage_id"]: o for o in doc["availability"]["outages"]}
    assert by_id["O-A"]["reason"] == (
        "counts as downtime at 40% impact (where overlapping outage O-B has a higher impact, "
        "that counts instead)"
    )
    assert by_id["O-B"]["reason"] == "counts as downtime at 100% impact"
    assert by_id["O-C"]["status"] == "counted"
    assert by_id["O-C"]["reason"] == (
        "its time counts as downtime, but at the higher impact of overlapping outage O-B, "
        "not at its own 20%"
    )
    assert doc["row"]["downtime_seconds"] == "6120"
