"""`projections.queries.alerts`: how the alerts are written (outputs.md "Additions")."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from ledger.alerts import Alert, alert_id
from projections.queries.alerts import Alerts, alerts_csv, alerts_json
from tests.builders import ALERT_LISTED


def raised(threshold: str, observed: str, risk: str | None) -> Alert:
    return Alert(
        alert_id=alert_id("C-1", "crm", "2026-03", "availability.budget", threshold),
        kind="availability.budget",
        threshold=threshold,
        contract_id="C-1",
        customer_id="K-1",
        service_id="crm",
        period="2026-03",
        observed=observed,
        downtime_left_seconds=None if risk is None else "878.4",
        credit_at_risk=risk,
        currency="USD",
        recorded_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
    )


RESULT = Alerts([raised("50", "67.2043", "100.00"), raised("75", "80.0000", None)], 7)


def test_json_is_the_chain_position_and_the_alerts_in_order() -> None:
    document = json.loads(alerts_json(RESULT))
    assert list(document) == ["chain_position", "alerts"]
    assert document["chain_position"] == 7
    assert [a["threshold"] for a in document["alerts"]] == ["50", "75"]
    assert list(document["alerts"][0]) == ALERT_LISTED
    assert document["alerts"][0]["recorded_at"] == "2026-03-10T12:00:00.000000Z"
    assert document["alerts"][1]["credit_at_risk"] is None


def test_csv_has_every_field_and_nulls_as_nothing() -> None:
    lines = list(csv.reader(io.StringIO(alerts_csv(RESULT))))
    assert lines[0] == ALERT_LISTED
    second = dict(zip(lines[0], lines[2], strict=True))
    assert second["credit_at_risk"] == ""
    assert second["downtime_left_seconds"] == ""
    assert alerts_csv(Alerts([], 0)) == ",".join(ALERT_LISTED) + "\n"
