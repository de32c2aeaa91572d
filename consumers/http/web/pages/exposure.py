"""A period's exposure: its provisional rows, most exposed first, from the document the
API answers with (`/v1/periods/{period}/exposure`), each with its error budget in words
and a bar, the downtime it can still take, the money at risk and its next response
deadline in the contract's time and UTC; below them, the alerts raised for the period
(`/v1/alerts?period=`). `/web/exposure` opens the current period's.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from consumers.http import params
from consumers.http.keys import ApiKey
from consumers.http.roles import may
from consumers.http.web.access import reader
from consumers.http.web.pages.common import AsOfField, blank_as_none, in_snapshot, query_string
from consumers.http.web.templating import render
from ledger.timeformat import format_utc
from projections.queries.alerts import AlertFilter, alerts, alerts_json
from projections.queries.exposure import (
    current_period,
    deadlines_earliest_first,
    exposure,
    exposure_json,
)
from projections.store import StoreSnapshot

router = APIRouter(include_in_schema=False)


@router.get("/web/exposure")
def current_exposure(
    request: Request,
    holder: Annotated[ApiKey, Depends(reader("period_exposure"))],
    as_of: AsOfField = None,
) -> Response:
    """The exposure of the period `exposure` shows without `--period`: the UTC month of
    the moment asked about (now by default)."""
    asked = blank_as_none(as_of)

    def compute(snapshot: StoreSnapshot) -> str:
        return current_period(params.as_of(snapshot, asked)).label

    period = in_snapshot(request, compute)
    target = f"/web/periods/{period}/exposure" + query_string({"as_of": asked})
    return RedirectResponse(target, status_code=303)


@router.get("/web/periods/{period}/exposure")
def exposure_page(
    request: Request,
    period: str,
    holder: Annotated[ApiKey, Depends(reader("period_exposure"))],
    as_of: AsOfField = None,
) -> Response:
    asked_period = params.period(period)
    asked = blank_as_none(as_of)

    def compute(snapshot: StoreSnapshot) -> tuple[dict[str, Any], str | None, Any]:
        moment = params.as_of(snapshot, asked)
        result = exposure(snapshot, asked_period, moment, None)
        closed = None if result.closed_at is None else format_utc(result.closed_at)
        # The alerts raised for the period by the same moment (`alerts --period`).
        raised = alerts(snapshot, AlertFilter(period=asked_period), moment)
        return json.loads(exposure_json(result)), closed, json.loads(alerts_json(raised))

    document, closed_at, raised = in_snapshot(request, compute)
    rows = document["rows"]
    return render(
        request,
        "exposure.html",
        {
            "period": asked_period.label,
            "document": document,
            "closed_at": closed_at,
            "rows": rows,
            "next_deadline": _next_deadline(rows),
            "alerts": raised["alerts"],
            "as_of": asked,
            # Links only to the pages this key may open (a row's derivation is the
            # dispute handler's).
            "may_explain": may(holder.roles, "explain_row"),
            "may_report": may(holder.roles, "period_report"),
        },
        holder=holder,
    )


def _next_deadline(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The earliest pending response deadline of the period, with its row."""
    for pending, row in deadlines_earliest_first(rows):
        return {
            **pending,
            "contract_id": row["contract_id"],
            "service_id": row["service_id"],
            "timezone": row["timezone"],
        }
    return None
