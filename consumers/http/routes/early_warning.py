"""The early warning (sla-math §8): a period's exposure, most exposed first, and the
alerts raised; for the provider's people who watch money at risk (`roles`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from consumers.http import answers, params
from consumers.http.auth import allow
from consumers.http.cursors import filters_of
from consumers.http.routes.common import (
    AsOf,
    CursorParam,
    Limit,
    PeriodPath,
    documented_read,
    moment_query,
    next_page,
    period_query,
    read,
    read_page,
    walk,
)
from consumers.http.schemas import AlertsDocument, ExposureDocument
from projections.queries.alerts import AlertFilter, Alerts, alerts_json, alerts_page
from projections.queries.exposure import exposure, exposure_json
from projections.store import StoreSnapshot

router = APIRouter(prefix="/v1", tags=["early warning"])

Contract = Annotated[str | None, Query(description="Only this contract's rows or alerts.")]


@router.get(
    "/periods/{period}/exposure",
    operation_id="period_exposure",
    summary="A period's provisional rows, most exposed first (`exposure --format json`)",
    response_class=Response,
    responses=documented_read(ExposureDocument, "The exposure."),
    dependencies=[Depends(allow("period_exposure"))],
)
def period_exposure(
    request: Request, period: PeriodPath, as_of: AsOf = None, contract: Contract = None
) -> Response:
    asked_period = params.period(period)

    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        asked = params.as_of(snapshot, as_of)
        result = exposure(snapshot, asked_period, asked, contract)
        return exposure_json(result), result.chain_position

    # Now, the exposure changes with time alone (an outage running, a deadline passing):
    # only an answer about a past moment is kept.
    return read(request, compute, about_the_past=as_of is not None)


@router.get(
    "/alerts",
    operation_id="list_alerts",
    summary="The alerts raised, in record order, paged (`alerts --format json`)",
    response_class=Response,
    responses=documented_read(AlertsDocument, "A page of alerts.", paged=True),
    dependencies=[Depends(allow("list_alerts"))],
)
def list_alerts(
    request: Request,
    period: Annotated[str | None, period_query("Only this period's alerts.")] = None,
    contract: Contract = None,
    since: Annotated[
        str | None, moment_query("Only alerts recorded at or after this moment.")
    ] = None,
    as_of: AsOf = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Response:
    given = filters_of(period=period, contract=contract, since=since, as_of=as_of)

    def compute(snapshot: StoreSnapshot) -> answers.Answer:
        walked = walk(snapshot, "list_alerts", given, cursor, as_of)
        asked = walked.filters
        filters = AlertFilter(
            period=params.optional_period(asked.get("period")),
            contract_id=asked.get("contract"),
            since=params.moment(asked.get("since"), "since"),
        )
        page = alerts_page(snapshot, filters, walked.moment, walked.through, walked.after, limit)
        following = next_page(request, walked, page.last_position if page.more else None)
        text = alerts_json(Alerts(alerts=page.alerts, chain_position=walked.through))
        return answers.answer(text, walked.through, following)

    # Alerts are chained records and the document names no moment: the same question
    # under the same chain head has the same answer, as of now too.
    return read_page(request, compute, keep=True)
