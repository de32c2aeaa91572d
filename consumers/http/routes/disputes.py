"""What a dispute handler asks: a row's full derivation, what changed between two
moments and why, and where each incident counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from consumers.http import params
from consumers.http.auth import allow
from consumers.http.routes.common import (
    AsOf,
    PeriodPath,
    documented_read,
    moment_query,
    period_query,
    read,
)
from consumers.http.schemas import DiffDocument, ExplainDocument, IncidentsDocument
from projections.queries.diff import Moment, diff, diff_json
from projections.queries.explain.query import explanation, explanation_json
from projections.queries.incidents import incidents, incidents_json
from projections.store import StoreSnapshot

router = APIRouter(prefix="/v1", tags=["disputes"])


@router.get(
    "/rows/{contract_id}/{service_id}/{period}/explain",
    operation_id="explain_row",
    summary="The full derivation of one row, every fact with its event ids (`explain`)",
    response_class=Response,
    responses=documented_read(ExplainDocument, "The derivation."),
    dependencies=[Depends(allow("explain_row"))],
)
def explain_row(
    request: Request, contract_id: str, service_id: str, period: PeriodPath, as_of: AsOf = None
) -> Response:
    asked_period = params.period(period)

    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        asked = params.as_of(snapshot, as_of)
        result = explanation(snapshot, contract_id, service_id, asked_period, asked)
        return explanation_json(result), result.chain_position

    return read(request, compute, about_the_past=as_of is not None)


@router.get(
    "/periods/{period}/diff",
    operation_id="period_diff",
    summary="What changed in a period's rows between two moments, and which events caused it",
    response_class=Response,
    responses=documented_read(DiffDocument, "The changes."),
    dependencies=[Depends(allow("period_diff"))],
)
def period_diff(
    request: Request,
    period: PeriodPath,
    from_: Annotated[str, moment_query("The earlier moment (forms of `as_of`).", alias="from")],
    to: Annotated[str | None, moment_query("The later moment; default now.")] = None,
    contract: Annotated[str | None, Query(description="Only this contract's rows.")] = None,
) -> Response:
    asked_period = params.period(period)
    first = Moment(params.moment(from_, "from"), "from", from_)
    last = Moment(params.moment(to, "to"), "to", to)

    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        result = diff(snapshot, asked_period, first, last, contract)
        return diff_json(result), result.to_chain_position

    return read(request, compute, about_the_past=to is not None)


@router.get(
    "/incidents",
    operation_id="list_incidents",
    summary="Each incident with its row, priority and status, or why it counts nowhere",
    response_class=Response,
    responses=documented_read(IncidentsDocument, "The incidents."),
    dependencies=[Depends(allow("list_incidents"))],
)
def list_incidents(
    request: Request,
    period: Annotated[str | None, period_query("Only this period's incidents.")] = None,
    unplaced: Annotated[bool, Query(description="Only those that count on no row.")] = False,
    as_of: AsOf = None,
) -> Response:
    asked_period = params.optional_period(period)

    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        asked = params.as_of(snapshot, as_of)
        result = incidents(snapshot, asked_period, unplaced_only=unplaced, asked=asked)
        return incidents_json(result), result.chain_position

    return read(request, compute, about_the_past=as_of is not None)
