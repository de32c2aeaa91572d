"""`sla-ledger explain` as a user runs it: a real process on both stores.

March 2026 has ended, so it can be closed; a late correction then posts a reversal and a
re-issue, and explain must show every entry with a basis it can reproduce.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.builders import contract, ev, outage, service
from tests.cli_process import run_cli as run
from tests.integration.test_cli import feed

pytestmark = pytest.mark.integration

ROW = ("--contract", "C-1", "--service", "crm", "--period", "2026-03")


def explain_json(store: str, *extra: str) -> dict[str, Any]:
    result = run("explain", *ROW, "--format", "json", *extra, store=store)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def ingest(store: str, tmp_path: Path, documents: list[dict[str, Any]]) -> None:
    result = run("ingest", "--from-file", str(feed(tmp_path, documents)), store=store)
    assert result.returncode == 0, result.stderr


def test_explain_before_and_after_a_late_correction(store_url: str, tmp_path: Path) -> None:
    first = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")
    ingest(store_url, tmp_path, [contract(), *first])
    closed = run("close", "--period", "2026-03", store=store_url)
    assert closed.returncode == 0, closed.stderr
    [issued] = json.loads(run("credits", "--format", "json", store=store_url).stdout)["entries"]
    before = issued["recorded_at"]

    correction = ev(
        "outage.amended",
        "2026-04-03T09:00:00Z",
        {"outage_id": "O-1", "ended_at": "2026-03-10T18:00:00Z", "reason": "post-incident review"},
    )
    ingest(store_url, tmp_path, [correction])
    entries = json.loads(run("credits", "--format", "json", store=store_url).stdout)["entries"]
    assert [(e["kind"], e["revision"], e["amount"]) for e in entries] == [
        ("issue", 1, "100.00"),
        ("reversal", 1, "-100.00"),
        ("issue", 2, "250.00"),
    ]
    latest = entries[-1]["recorded_at"]

    now = explain_json(store_url, "--as-of", latest)
    assert now["status"] == "closed"
    assert now["row"]["downtime_seconds"] == "28800"
    assert now["row"]["credit_amount"] == "250.00"
    assert now["availability"]["downtime"]["arithmetic"] == "D = 28,800 s × 100% = 28,800 s"
    assert now["availability"]["tier"]["chosen"]["below_percent"] == "99.0"
    [o] = now["availability"]["outages"]
    assert (o["raw"]["seconds"], o["corrected"]["seconds"]) == ("3000", "28800")
    assert [c["event_id"] for c in o["corrections"]] == [correction["event_id"]]
    assert [(e["kind"], e["revision"], e["basis_reproduced"]) for e in now["entries"]] == [
        ("issue", 1, True),
        ("reversal", 1, True),
        ("issue", 2, True),
    ]
    assert now["entries"][0]["basis_at_recording"]["row"]["credit_amount"] == "100.00"
    assert now["entries"][2]["basis_at_recording"]["row"]["credit_amount"] == "250.00"
    assert now["basis_sha256"] == entries[2]["basis_sha256"]
    assert correction["event_id"] in now["basis"]["event_ids"]

    then = explain_json(store_url, "--as-of", before)
    assert then["as_of"] == before.replace(".000000Z", "Z")
    assert then["row"]["downtime_seconds"] == "3000"
    assert then["row"]["credit_amount"] == "100.00"
    assert then["availability"]["tier"]["chosen"]["below_percent"] == "99.9"
    assert then["availability"]["outages"][0]["corrections"] == []
    assert [(e["kind"], e["basis_reproduced"]) for e in then["entries"]] == [("issue", True)]
    assert then["basis_sha256"] == issued["basis_sha256"]

    # Without --as-of: what the ledger says now, the same figures as the latest entry.
    current = explain_json(store_url)
    assert current["row"]["credit_amount"] == "250.00"
    assert len(current["entries"]) == 3


def _after_ingest() -> str:
    """An --as-of that has passed and follows every event ingested so far."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_explain_json_is_byte_identical_when_asked_twice(store_url: str, tmp_path: Path) -> None:
    ingest(
        store_url,
        tmp_path,
        [contract(), *outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", "50")],
    )
    args = ("explain", *ROW, "--format", "json", "--as-of", _after_ingest())
    once, twice = run(*args, store=store_url), run(*args, store=store_url)
    assert once.returncode == 0, once.stderr
    assert once.stdout == twice.stdout
    assert json.loads(once.stdout)["row"]["downtime_seconds"] == "1500"


def test_explain_text_reads_as_plain_english_with_event_ids(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    started, resolved = outage("O-1", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z", "50")
    retracted = ev(
        "outage.retracted", "2026-03-11T12:00:00Z", {"outage_id": "O-2", "reason": "probe fault"}
    )
    documents = [
        contract(),
        started,
        resolved,
        *outage("O-2", "2026-03-11T10:00:00Z", "2026-03-11T11:00:00Z"),
        retracted,
    ]
    ingest(store, tmp_path, documents)
    as_of = _after_ingest()
    result = run("explain", *ROW, "--as-of", as_of, store=store)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"How C-1 / crm / 2026-03 was derived, as of {as_of}")
    for heading in ("Terms in force", "Coverage", "Outages", "Downtime", "Money"):
        assert f"\n{heading}\n" in text
    assert "\nD = 3,000 s × 50% = 1,500 s (25 min)." in text
    assert "(shown as 99.9440%)" in text
    assert "No credit entry has been recorded for this row." in text
    for document in documents:
        assert document["event_id"] in text
    lines = text.splitlines()
    outage_line = next(line for line in lines if line.startswith("O-1:"))
    assert outage_line.startswith("O-1: counts as downtime at 50% impact.  [events: ")
    assert outage_line.endswith("]")
    assert (
        f"    as reported: started 2026-03-10T10:00:00Z (event {started['event_id']}), resolved "
        f"2026-03-10T10:50:00Z (event {resolved['event_id']}): 50 min (3,000 s) at 50% impact."
        in lines
    )
    o2 = lines.index(next(line for line in lines if line.startswith("O-2:")))
    assert lines[o2].startswith(
        f'O-2: retracted by event {retracted["event_id"]} ("probe fault"): '
        "it does not count at all.  [events: "
    )
    assert lines[o2 + 2].startswith("    retracted at 2026-03-11T12:00:00Z (recorded ")
    assert lines[o2 + 3] == ""  # nothing clipped, excluded or counted follows
    assert "retracted: retracted" not in text
    assert "counted: counted" not in text
    assert (
        "Credit tier: no tier applies: availability 99.9439964157…% is not below any tier "
        "threshold (the highest is 99.9%), so the availability credit is 0%." in lines
    )


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("--contract", "C-9", "--service", "crm", "--period", "2026-03"), 1, "C-9 is not known"),
        (("--contract", "C-1", "--service", "erp", "--period", "2026-03"), 1, "erp is not in"),
        (("--contract", "C-1", "--service", "crm", "--period", "2025-06"), 1, "no coverage"),
        (("--contract", "C-1", "--service", "crm", "--period", "2026-3"), 2, "YYYY-MM"),
        (
            ("--contract", "C-1", "--service", "crm", "--period", "2026-03", "--as-of", "x"),
            2,
            "--as-of",
        ),
    ],
)
def test_a_row_that_does_not_exist_is_one_line_on_stderr(
    tmp_path: Path, args: tuple[str, ...], code: int, fragment: str
) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    ingest(store, tmp_path, [contract()])
    result = run("explain", *args, store=store)
    assert result.returncode == code
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""


def test_explain_lists_the_services_outages_that_do_not_count_and_why(
    store_url: str, tmp_path: Path
) -> None:
    retracted = ev(
        "outage.retracted",
        "2026-03-12T12:00:00Z",
        {"outage_id": "O-false", "reason": "false alarm"},
    )
    ingest(
        store_url,
        tmp_path,
        [
            contract(customer_id="K-1"),
            contract(contract_id="C-2", customer_id="K-2"),
            *outage("O-mine", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z"),
            *outage("O-theirs", "2026-03-11T10:00:00Z", "2026-03-11T12:00:00Z", customers=["K-2"]),
            *outage("O-false", "2026-03-12T10:00:00Z", "2026-03-12T11:00:00Z"),
            retracted,
        ],
    )
    document = explain_json(store_url)
    statuses = {o["outage_id"]: o["status"] for o in document["availability"]["outages"]}
    assert statuses == {"O-mine": "counted", "O-theirs": "other_customers", "O-false": "retracted"}
    assert document["row"]["downtime_seconds"] == "3000"
    text = run("explain", *ROW, store=store_url)
    assert text.returncode == 0, text.stderr
    assert (
        "O-theirs: does not count: it was reported for other customers of the service only, "
        "not for K-1." in text.stdout
    )


def test_an_outage_wholly_before_the_local_month_is_listed_as_outside(
    store_url: str, tmp_path: Path
) -> None:
    # Kiritimati kept UTC-10:40 in 1970: its January starts at 10:40 UTC, after the outage.
    signed = contract(tz="Pacific/Kiritimati", effective_from="1970-01-01")
    signed["occurred_at"] = "1970-01-01T00:00:00Z"
    early = outage("O-early", "1970-01-01T00:00:00Z", "1970-01-01T05:00:00Z")
    theirs = outage("O-theirs", "1970-01-01T01:00:00Z", "1970-01-01T02:00:00Z", customers=["K-9"])
    far = outage("O-far", "1970-03-10T00:00:00Z", "1970-03-10T01:00:00Z")
    ingest(store_url, tmp_path, [signed, *early, *theirs, *far])
    row = ("--contract", "C-1", "--service", "crm", "--period", "1970-01")

    result = run("explain", *row, "--format", "json", store=store_url)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    by_id = {o["outage_id"]: o for o in document["availability"]["outages"]}
    assert set(by_id) == {"O-early", "O-theirs"}  # not one two months away
    assert by_id["O-early"]["status"] == "outside"
    assert by_id["O-early"]["counted"] == []
    assert by_id["O-theirs"]["status"] == "other_customers"
    # It counts for nothing: the row is the report's, full availability.
    report = run("report", "--period", "1970-01", "--format", "json", store=store_url)
    [reported] = json.loads(report.stdout)["rows"]
    assert document["row"] == reported
    assert document["row"]["downtime_seconds"] == "0"

    text = run("explain", *row, store=store_url)
    assert text.returncode == 0, text.stderr
    assert "Outages\n-------\nnone for this service" not in text.stdout
    assert "O-early: does not count: it lies outside the measured range" in text.stdout


HEADING = "Where the row is heading (provisional)"


def _heading_section(text: str) -> list[str]:
    """The lines of the exposure section of explain's text (none: no such section)."""
    if HEADING not in text:
        return []
    section = text.split(HEADING, 1)[1].split("\n\n", 1)[0]
    return section.splitlines()[2:]  # past the heading's own line and its underline


def test_explain_text_shows_where_a_provisional_row_is_heading(
    store_url: str, tmp_path: Path
) -> None:
    """Worked example 9's figures (sla-math §8), as the README says explain shows them:
    March 2026 has ended and is not closed, so its projection is its actual figures, and
    a 30 min outage makes them example 9's. Closed, the row has no such section."""
    ingest(
        store_url,
        tmp_path,
        [contract(), *outage("O-1", "2026-03-10T08:00:00Z", "2026-03-10T08:30:00Z")],
    )
    result = run("explain", *ROW, store=store_url)
    assert result.returncode == 0, result.stderr
    lines = _heading_section(result.stdout)
    assert lines[1:] == [
        "measured time to the end M_end = 2,678,400 s; downtime D_end = 1,800 s.",
        "projected availability = 100 × (M_end − D_end) / M_end = 99.9328%.",
        "error budget at the target 99.9%: B = M_end × (100 − 99.9) / 100 = 2,678.4 s; "
        "consumed = 100 × D_end / B = 67.2043%.",
        "projected credit: 0.00 USD.",
        "next tier: below 99.9% → 10% credit; downtime left before it = "
        "M_end × (100 − 99.9) / 100 − D_end = 878.4 s (full impact, to the microsecond, "
        "no floor); credit at risk 100.00 USD.",
        "No incident is pending a first response.",
    ]
    # The same figures as the JSON's exposure, which the text only words.
    exposure = explain_json(store_url)["exposure"]
    assert (exposure["budget_consumed_percent"], exposure["downtime_left_seconds"]) == (
        "67.2043",
        "878.4",
    )

    assert run("close", "--period", "2026-03", store=store_url).returncode == 0
    closed = run("explain", *ROW, store=store_url)
    assert closed.returncode == 0, closed.stderr
    assert HEADING not in closed.stdout


def test_explain_text_names_each_pending_incidents_deadline(tmp_path: Path) -> None:
    """A P1 of the running month with a 100-day target (24x7) is pending; its deadline is
    the one the JSON gives, in the contract's time and UTC."""
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    opened = datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = {
        "targets": {"P1": "PT2400H"},
        "business_hours": "24x7",
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    terms = contract(services=[service(availability=False, incident_response=response)])
    opened_event = ev(
        "incident.opened",
        opened,
        {
            "incident_id": "I-1",
            "contract_id": "C-1",
            "service_id": "crm",
            "priority": "P1",
            "opened_at": opened,
        },
    )
    ingest(store, tmp_path, [terms, opened_event])
    period = ("--contract", "C-1", "--service", "crm", "--period", opened[:7])
    document = json.loads(run("explain", *period, "--format", "json", store=store).stdout)
    [pending] = document["exposure"]["pending_incidents"]
    text = run("explain", *period, store=store).stdout
    lines = _heading_section(text)
    assert lines[0] == "No projection: the row measures no availability of its own."
    assert lines[1].startswith("I-1 (P1) is pending: a first response by ")
    assert lines[1].endswith(f" ({pending['respond_by']}) meets its target.")
