"""`sla-ledger exposure` and its HTTP resource on both stores, on the month running now:
most exposed first, what `--as-of` reproduces, and a closed period said in one line.

The rows are of the month the clock is in (a record's time is the wall clock's, so only
that month can be provisional with its horizon inside the window); each outage is a few
seconds long and ends before the test asks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.periods import Period
from projections.queries.exposure import ROW_FIELDS
from tests.builders import ALERT_LISTED, contract, outage
from tests.cli_process import run_cli, succeeded
from tests.http_server import serving
from tests.integration.test_cli import feed

pytestmark = pytest.mark.integration


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def ingest(store_url: str, tmp_path: Path, documents: list[dict[str, Any]]) -> None:
    path = feed(tmp_path, documents)
    succeeded("ingest", "--from-file", str(path), store=store_url)


def exposure(store_url: str, *args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        succeeded("exposure", *args, "--format", "json", store=store_url)
    )
    return document


def keys(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(row["contract_id"], row["service_id"]) for row in document["rows"]]


@pytest.fixture
def running(store_url: str, tmp_path: Path) -> tuple[str, Period, datetime]:
    """Two contracts since last year; C-1's customer had 20 s down a moment ago, C-2's
    10 s. The store, the month running and the outages' start."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(seconds=40)
    period = Period(start.year, start.month)
    since = f"{start.year - 1}-01-01"
    ingest(
        store_url,
        tmp_path,
        [
            contract("C-1", "K-1", effective_from=since),
            contract("C-2", "K-2", effective_from=since),
            *outage("O-1", stamp(start), stamp(start + timedelta(seconds=20)), customers=["K-1"]),
            *outage("O-2", stamp(start), stamp(start + timedelta(seconds=10)), customers=["K-2"]),
        ],
    )
    return store_url, period, start


def test_the_most_exposed_row_comes_first_and_as_of_reproduces_it(
    running: tuple[str, Period, datetime], tmp_path: Path
) -> None:
    store_url, period, start = running
    before = exposure(store_url, "--period", period.label)
    assert before["period"] == period.label
    assert keys(before) == [("C-1", "crm"), ("C-2", "crm")]
    c1, c2 = before["rows"]
    assert c1["downtime_seconds"] == "20"
    assert c2["downtime_seconds"] == "10"
    assert c1["budget_consumed_percent"] > c2["budget_consumed_percent"]
    assert all(row["status"] == "provisional" for row in before["rows"])
    # The figures are the report's, as of the same moment.
    report = json.loads(
        succeeded(
            "report",
            "--period",
            period.label,
            "--as-of",
            before["as_of"],
            "--format",
            "json",
            store=store_url,
        )
    )
    by_key = {(r["contract_id"], r["service_id"]): r for r in report["rows"]}
    for row in before["rows"]:
        reported = by_key[(row["contract_id"], row["service_id"])]
        assert {k: row[k] for k in ROW_FIELDS} == {k: reported[k] for k in ROW_FIELDS}

    # C-2's customer goes down 30 s more: C-2 is now the more exposed.
    later = start + timedelta(seconds=11)
    more = outage("O-3", stamp(later), stamp(later + timedelta(seconds=20)), customers=["K-2"])
    ingest(store_url, tmp_path, more)
    assert keys(exposure(store_url, "--period", period.label)) == [("C-2", "crm"), ("C-1", "crm")]
    # As of the first answer's moment: that answer, to the byte.
    again = succeeded(
        "exposure",
        "--period",
        period.label,
        "--as-of",
        before["as_of"],
        "--format",
        "json",
        store=store_url,
    )
    assert json.loads(again) == before
    first = succeeded(
        "exposure", "--period", period.label, "--as-of", before["as_of"], store=store_url
    )
    assert first.index("C-1") < first.index("C-2")


def test_the_table_csv_and_default_period(running: tuple[str, Period, datetime]) -> None:
    store_url, period, _ = running
    table = succeeded("exposure", store=store_url)
    lines = table.splitlines()
    now = datetime.now(UTC)
    assert lines[0].startswith(f"Period {now:%Y-%m} (provisional), as of ")
    if period.label == f"{now:%Y-%m}":  # not run across a month's end
        assert lines[0].endswith("2 provisional rows, most exposed first")
        assert "budget used %" in lines[1]
        assert lines[3].split()[:2] == ["C-1", "crm"]
    csv_lines = succeeded(
        "exposure", "--period", period.label, "--format", "csv", store=store_url
    ).splitlines()
    assert csv_lines[0].split(",")[:3] == ["contract_id", "customer_id", "service_id"]
    assert [line.split(",")[0] for line in csv_lines[1:]] == ["C-1", "C-2"]
    one = exposure(store_url, "--period", period.label, "--contract", "C-2")
    assert keys(one) == [("C-2", "crm")]


def test_a_closed_period_says_so_in_one_line(
    running: tuple[str, Period, datetime],
) -> None:
    store_url, period, _ = running
    previous = (
        Period(period.year - 1, 12) if period.month == 1 else Period(period.year, period.month - 1)
    )
    succeeded("close", "--period", previous.label, store=store_url)
    shown = run_cli("exposure", "--period", previous.label, store=store_url)
    assert shown.returncode == 0, shown.stderr
    [line] = shown.stdout.splitlines()
    assert line.startswith(f"Period {previous.label} was closed at ")
    assert exposure(store_url, "--period", previous.label)["rows"] == []
    empty = succeeded("exposure", "--period", "2001-01", store=store_url)
    assert empty.splitlines()[0].endswith(": 0 provisional rows, most exposed first")


def test_bad_options_are_one_line(running: tuple[str, Period, datetime]) -> None:
    store_url, _, _ = running
    for args, said in (
        (["--period", "2026-13"], "--period"),
        (["--as-of", "2999-01-01"], "in the future"),
    ):
        shown = run_cli("exposure", *args, store=store_url)
        assert shown.returncode == 2
        assert len(shown.stderr.splitlines()) == 1
        assert said in shown.stderr


def test_the_api_answers_the_command_lines_document(
    running: tuple[str, Period, datetime], tmp_path: Path
) -> None:
    store_url, period, _ = running
    cli = succeeded("exposure", "--period", period.label, "--format", "json", store=store_url)
    moment = json.loads(cli)["as_of"]
    with serving(store_url, tmp_path) as served:
        for role in ("finance", "operator"):
            answer = served.get(f"/v1/periods/{period.label}/exposure", role=role, as_of=moment)
            assert answer.status_code == 200, answer.text
            assert (
                answer.content
                == succeeded(
                    "exposure",
                    "--period",
                    period.label,
                    "--as-of",
                    moment,
                    "--format",
                    "json",
                    store=store_url,
                ).encode()
            )
            assert answer.content == cli.encode()
            assert answer.headers["etag"]
        now = served.get(f"/v1/periods/{period.label}/exposure", contract="C-1")
        assert [row["contract_id"] for row in now.json()["rows"]] == ["C-1"]


# ---- alerts ----


def alert_list(store_url: str, *args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        succeeded("alerts", *args, "--format", "json", store=store_url)
    )
    return document


def described(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(a["period"], a["kind"], a["threshold"]) for a in document["alerts"]]


MARCH_ALERTS = [
    ("2026-03", "availability.budget", "50"),
    ("2026-03", "availability.budget", "75"),
    ("2026-03", "availability.budget", "90"),
    ("2026-03", "availability.budget", "100"),
    ("2026-03", "availability.tier", "99.9"),
]


@pytest.fixture
def alerted(store_url: str, tmp_path: Path) -> tuple[str, str]:
    """March (not closed) loses 50 minutes, past its whole error budget (2,678.4 s):
    four budget alerts and the 99.9 tier's; then April loses 30 minutes, 69% of its
    budget: one more. The store and a moment between the two intakes."""
    ingest(
        store_url,
        tmp_path,
        [contract(), *outage("O-3", "2026-03-10T10:00:00Z", "2026-03-10T10:50:00Z")],
    )
    between = json.loads(succeeded("alerts", "--format", "json", store=store_url))
    assert between["alerts"], "the first intake raised no alert"
    moment = max(a["recorded_at"] for a in between["alerts"])
    ingest(store_url, tmp_path, outage("O-4", "2026-04-10T10:00:00Z", "2026-04-10T10:30:00Z"))
    return store_url, moment


def test_alerts_are_listed_in_the_order_recorded_and_filtered(
    alerted: tuple[str, str],
) -> None:
    store_url, between = alerted
    every = alert_list(store_url)
    april = [("2026-04", "availability.budget", "50")]
    assert sorted(described(every)[:5]) == sorted(MARCH_ALERTS)
    assert described(every)[5:] == april
    first = every["alerts"][0]
    assert list(first) == ALERT_LISTED
    times = [a["recorded_at"] for a in every["alerts"]]
    assert times == sorted(times)
    assert described(alert_list(store_url, "--period", "2026-04")) == april
    assert alert_list(store_url, "--contract", "C-2")["alerts"] == []
    # As of the moment between the intakes: March's alerts only; since a moment after
    # it: April's only.
    assert sorted(described(alert_list(store_url, "--as-of", between))) == sorted(MARCH_ALERTS)
    after = every["alerts"][5]["recorded_at"]
    assert described(alert_list(store_url, "--since", after)) == april
    table = succeeded("alerts", store=store_url).splitlines()
    assert table[0] == "6 alerts"
    assert table[1].split()[:3] == ["recorded", "at", "kind"]
    csv_lines = succeeded("alerts", "--format", "csv", store=store_url).splitlines()
    assert len(csv_lines) == 7
    assert csv_lines[0].startswith("alert_id,kind,threshold,")


def test_alerts_over_http_are_the_command_lines_and_page_without_a_gap(
    alerted: tuple[str, str], tmp_path: Path
) -> None:
    store_url, _ = alerted
    cli = succeeded("alerts", "--format", "json", store=store_url)
    with serving(store_url, tmp_path) as served:
        whole = served.get("/v1/alerts", role="finance", limit=1000)
        assert whole.status_code == 200, whole.text
        assert whole.content == cli.encode()
        assert "link" not in whole.headers
        # Pages of two: the walk keeps its first page's position, so an alert raised
        # while it pages (May's) is not in it, and none is skipped or repeated.
        first = served.get("/v1/alerts", role="operator", limit=2)
        ingest(store_url, tmp_path, outage("O-5", "2026-05-10T10:00:00Z", "2026-05-10T10:30:00Z"))
        walked = first.json()["alerts"]
        link = first.headers.get("link")
        while link is not None:
            url = link.split(";")[0].strip("<>")
            with served.client("operator") as client:
                page = client.get(url)
            assert page.status_code == 200, page.text
            walked += page.json()["alerts"]
            link = page.headers.get("link")
        assert walked == json.loads(cli)["alerts"]
        assert len(alert_list(store_url)["alerts"]) == 7  # May's is there now
        april = served.get("/v1/alerts", role="finance", period="2026-04")
        assert [a["period"] for a in april.json()["alerts"]] == ["2026-04"]
