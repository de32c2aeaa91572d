"""Annual rows end to end (sla-math §9), on SQLite and on PostgreSQL: reported, refused
a close before the year ends, closed with their entries, reversed and re-issued by a
late correction, a row that first appears in the closed year by a late amendment issued
at once, and every answer reproduced byte for byte `--as-of` later; explained, diffed,
listed and bundled for an auditor like a month's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.builders import contract, ev, outage, service
from tests.cli_process import run_cli, run_in_process

pytestmark = pytest.mark.integration

TIERS = [
    {"below_percent": "99.9", "credit_percent": "10"},
    {"below_percent": "99.0", "credit_percent": "25"},
]
# The ledger's clock is the wall clock: 2025 has ended wherever a contract is, and the
# running year has not (the tests run before 2099).
YEAR = "2025"


def cli(store: str, *args: str) -> str:
    return run_in_process(*args, "--store", store)


def ingest(store: str, path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    cli(store, "ingest", "--from-file", str(path))


def report(store: str, period: str, *extra: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        cli(store, "report", "--period", period, "--format", "json", *extra)
    )
    return document


def credits(store: str, period: str) -> list[dict[str, Any]]:
    document = json.loads(cli(store, "credits", "--period", period, "--format", "json"))
    entries: list[dict[str, Any]] = document["entries"] if isinstance(document, dict) else document
    return entries


QUESTIONS = [
    ("report", "--period", YEAR, "--format", "json"),
    ("report", "--period", YEAR, "--format", "csv"),
    ("report", "--period", f"{YEAR}-03", "--format", "json"),
    ("credits", "--period", YEAR, "--format", "json"),
    ("explain", "--contract", "C-1", "--service", "crm", "--period", YEAR, "--format", "json"),
    ("explain", "--contract", "C-1", "--service", "crm", "--period", YEAR),
]


def test_an_annual_row_through_close_correction_and_late_amendment(
    store_url: str, tmp_path: Path
) -> None:
    saved: list[tuple[str, list[str]]] = []

    def save() -> None:
        moment = json.loads(cli(store_url, "report", "--period", YEAR, "--format", "json"))["as_of"]
        saved.append((moment, [cli(store_url, *q, "--as-of", moment) for q in QUESTIONS]))

    # Measured yearly from 1 January 2025; two days down in March: 99.45% over the year,
    # a 10% credit of 12,000.00. Measured monthly, "api" has its own March credit.
    ingest(
        store_url,
        tmp_path / "a.jsonl",
        [
            contract(
                effective_from="2025-01-01",
                occurred_at="2024-12-01T00:00:00Z",
                services=[service(tiers=TIERS, window="year"), service("api", tiers=TIERS)],
            ),
            *outage("O-1", "2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z"),
        ],
    )
    annual = report(store_url, YEAR)
    assert annual["period"] == YEAR
    (row,) = annual["rows"]
    assert (row["service_id"], row["period"], row["status"]) == ("crm", YEAR, "provisional")
    assert row["window_seconds"] == "31536000"
    assert row["downtime_seconds"] == "172800"
    assert row["availability_credit_percent"] == "10"
    assert (row["fee_basis"], row["credit_amount"]) == ("12000.00", "1200.00")
    march = {r["service_id"]: r for r in report(store_url, f"{YEAR}-03")["rows"]}
    assert march["crm"]["availability_percent"] is None
    assert march["crm"]["credit_amount"] == "0.00"
    assert march["api"]["downtime_seconds"] == "0"  # the outage was crm's
    save()

    # The running year has not ended: its close is refused, in one line.
    running = str(
        int(json.loads(cli(store_url, "report", "--period", YEAR, "--format", "json"))["as_of"][:4])
    )
    refused = run_cli("close", "--period", running, store=store_url)
    assert refused.returncode != 0
    message = refused.stderr.strip()
    assert "\n" not in message
    assert f"period {running} has not ended" in message
    assert "Traceback" not in refused.stderr

    cli(store_url, "close", "--period", YEAR)
    (issued,) = credits(store_url, YEAR)
    assert (issued["period"], issued["amount"], issued["revision"]) == (YEAR, "1200.00", 1)
    assert report(store_url, YEAR)["rows"][0]["status"] == "closed"
    save()

    # A late correction: the outage lasted five days. 98.63% over the year: 25%.
    ingest(
        store_url,
        tmp_path / "b.jsonl",
        [
            ev(
                "outage.amended",
                "2026-01-20T09:00:00Z",
                {"outage_id": "O-1", "ended_at": "2025-03-06T00:00:00Z", "reason": "review"},
            )
        ],
    )
    entries = credits(store_url, YEAR)
    assert [(e["amount"], e["revision"]) for e in entries] == [
        ("1200.00", 1),
        ("-1200.00", 1),
        ("3000.00", 2),
    ]
    assert entries[1]["supersedes"] == entries[0]["entry_id"]
    save()

    # A late amendment: from July 2025, "api" is measured yearly too. Its annual row
    # first appears in the closed year and is issued at once; its monthly rows of July
    # to December lose their availability figures.
    ingest(
        store_url,
        tmp_path / "c.jsonl",
        [
            ev(
                "contract.amended",
                "2026-01-25T00:00:00Z",
                {
                    "contract_id": "C-1",
                    "effective_from": "2025-07-01",
                    "services": [
                        service(tiers=TIERS, window="year"),
                        service("api", tiers=TIERS, window="year", fee="2000.00"),
                    ],
                },
            ),
            *outage("O-2", "2025-08-01T00:00:00Z", "2025-08-03T00:00:00Z", service_id="api"),
        ],
    )
    rows = {r["service_id"]: r for r in report(store_url, YEAR)["rows"]}
    assert rows["api"]["status"] == "closed"
    assert rows["api"]["terms_version"] == 2
    assert rows["api"]["fee_basis"] == "12000.00"  # July to December at 2,000.00
    half = Decimal(rows["api"]["covered_seconds"])
    assert half == 184 * 86_400
    assert rows["api"]["credit_amount"] == "3000.00"  # 2 of 184 days: 98.91%, 25%
    assert rows["crm"]["credit_amount"] == "3000.00"  # its terms (version 1) unchanged
    api_entries = [e for e in credits(store_url, YEAR) if e["service_id"] == "api"]
    assert [(e["amount"], e["revision"]) for e in api_entries] == [("3000.00", 1)]
    august = {r["service_id"]: r for r in report(store_url, f"{YEAR}-08")["rows"]}
    assert august["api"]["availability_percent"] is None
    save()

    # Each saved answer, asked again as of its moment, byte for byte.
    for moment, answers in saved:
        assert [cli(store_url, *q, "--as-of", moment) for q in QUESTIONS] == answers

    # diff names the annual row's change and the correction that made it.
    changed = json.loads(
        cli(
            store_url,
            "diff",
            "--period",
            YEAR,
            "--from",
            saved[1][0],
            "--to",
            saved[2][0],
            "--format",
            "json",
        )
    )
    assert "O-1" in json.dumps(changed)
    assert "3000.00" in json.dumps(changed)

    # A rebuild from the event log reproduces the year's entries, one by one.
    rebuilt = json.loads(cli(store_url, "audit", "rebuild", "--format", "json"))
    assert rebuilt["ok"] is True
    assert rebuilt["entries_compared"] == 4
    assert rebuilt["differences"] == []

    # The closed year's audit bundle exports and checks offline.
    out = tmp_path / "bundle"
    cli(store_url, "audit", "export", "--period", YEAR, "--out", str(out))
    checked = run_in_process("audit", "check", str(out))
    assert "ok" in checked.lower() or "verified" in checked.lower()


def test_the_running_years_annual_row_is_exposed_and_raises_alerts(
    store_url: str, tmp_path: Path
) -> None:
    """§8 on the running year's annual row: after the intake, its budget and tier alerts
    are raised once, named by the year; `exposure --period YYYY` lists it."""
    running = datetime.now(UTC).year
    ingest(
        store_url,
        tmp_path / "a.jsonl",
        [
            contract(
                effective_from=f"{running}-01-01",
                occurred_at=f"{running - 1}-12-01T00:00:00Z",
                services=[service(tiers=TIERS, window="year")],
            ),
            # 20 hours: more than the year's whole budget at 99.9% (8 h 45 min 36 s).
            *outage("O-1", f"{running}-01-01T00:00:00Z", f"{running}-01-01T20:00:00Z"),
        ],
    )
    listed = json.loads(cli(store_url, "alerts", "--period", str(running), "--format", "json"))
    alerts = listed["alerts"] if isinstance(listed, dict) else listed
    kinds = sorted((a["kind"], a["threshold"]) for a in alerts)
    assert kinds == [
        ("availability.budget", "100"),
        ("availability.budget", "50"),
        ("availability.budget", "75"),
        ("availability.budget", "90"),
        ("availability.tier", "99.9"),
    ]
    assert {a["period"] for a in alerts} == {str(running)}
    # Its months raise none: their availability is the year's.
    january = json.loads(cli(store_url, "alerts", "--period", f"{running}-01", "--format", "json"))
    assert (january["alerts"] if isinstance(january, dict) else january) == []
    exposed = json.loads(cli(store_url, "exposure", "--period", str(running), "--format", "json"))
    (row,) = exposed["rows"]
    assert row["period"] == str(running)
    assert Decimal(row["budget_consumed_percent"]) > 100


def test_the_http_api_takes_a_year_wherever_it_takes_a_period(
    store_url: str, tmp_path: Path
) -> None:
    """`/v1/periods/2025/...`, `/v1/rows/.../2025/explain` and `?period=2025` answer as
    the command line does, to the byte; closing the running year is a problem document."""
    from tests.http_server import serving

    ingest(
        store_url,
        tmp_path / "a.jsonl",
        [
            contract(
                effective_from="2025-01-01",
                occurred_at="2024-12-01T00:00:00Z",
                services=[service(tiers=TIERS, window="year")],
            ),
            *outage("O-1", "2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z"),
        ],
    )
    cli(store_url, "close", "--period", YEAR)
    with serving(store_url, tmp_path) as served:
        moment = report(store_url, YEAR)["as_of"]
        for args, path, params in [
            (["report", "--period", YEAR], f"/v1/periods/{YEAR}/report", {}),
            (["credits", "--period", YEAR], "/v1/credits", {"period": YEAR}),
            (["exposure", "--period", YEAR], f"/v1/periods/{YEAR}/exposure", {}),
            (
                ["explain", "--contract", "C-1", "--service", "crm", "--period", YEAR],
                f"/v1/rows/C-1/crm/{YEAR}/explain",
                {},
            ),
        ]:
            expected = cli(store_url, *args, "--as-of", moment, "--format", "json")
            answer = served.get(path, as_of=moment, **params)
            assert answer.status_code == 200, answer.text
            assert answer.content == expected.encode("utf-8"), path
        running = str(datetime.now(UTC).year)
        with served.client() as client:
            refused = client.post(f"/v1/periods/{running}/close")
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert f"period {running} has not ended" in refused.json()["detail"]
        bad = served.get("/v1/periods/20251/report")
        assert bad.status_code == 400
        assert bad.json()["field"] == "period"
        assert "YYYY" in bad.json()["detail"]
        schema = served.get("/openapi.json").json()
        patterns = {
            p["schema"].get("pattern")
            for op in schema["paths"]["/v1/periods/{period}/report"].values()
            for p in op.get("parameters", [])
            if p["name"] == "period"
        }
        assert patterns == {r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"}
